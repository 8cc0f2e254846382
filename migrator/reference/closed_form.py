"""Max halo out-sticks per core in O(num_cores), without materialising the op trace.

``generate_shard_boundaries`` reads the op-trace metadata only at ``t[min(o_s, L - 1)]`` and
``t[o_e]`` for each core (facts §5), and every entry has a closed form:

    q = (b * O_h + i) * O_w + j
    t[q] = u32(b * H_p * W_p + i * s_h * W_p + j * s_w)        (non-transposed; padded input)
    t[q] = u32(b * H_f * W_f + i * W_f + j)                    (transposed; full input, stride 1)

(uint32 wrap-around commutes with + and *, so reducing the exact integer once equals the C++
step-by-step uint32 arithmetic).  The per-core loop below is the C++ loop with ``t[.]`` replaced by
that O(1) evaluation; it stops early once the start index stops moving (all remaining cores are
trailing cores with an identical boundary), so it costs O(min(num_cores, L / shard_y + 2)).
It raises ``ValueError`` in exactly the cases where :mod:`.sliding_window` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Sequence, Tuple

from migrator.reference.config import SlidingWindowConfig
from migrator.reference.sliding_window import (
    Range,
    ShardBoundary,
    _check_ceil_pad_rule,
    _halo_with_pad_len,
    get_ceil_pad_h,
    get_ceil_pad_w,
    get_output_shape,
    get_output_shard_y,
    get_transposed_full_input_shape,
)
from migrator.reference.uint32 import U32_MAX, u32

__all__ = [
    "OpTrace",
    "op_trace",
    "shard_boundaries_closed_form",
    "max_out_nsticks_per_core",
    "precise_halo_output_elems",
]


@dataclass(frozen=True)
class OpTrace:
    """The op-trace metadata vector as a function: ``trace[q]`` in O(1), ``len(trace)`` = L."""

    batch_size: int
    output_h: int
    output_w: int
    batch_step: int  # H_p * W_p   (H_f * W_f when transposed)
    row_step: int  # s_h * W_p   (W_f when transposed)
    col_step: int  # s_w         (1 when transposed)

    def __len__(self) -> int:
        return self.batch_size * self.output_h * self.output_w

    def __getitem__(self, q: int) -> int:
        if not 0 <= q < len(self):
            raise ValueError(
                f"out-of-bounds read op_trace_metadata[{q}] (size {len(self)}); the C++ has undefined behaviour here"
            )
        b, rest = divmod(q, self.output_h * self.output_w)
        i, j = divmod(rest, self.output_w)
        return u32(b * self.batch_step + i * self.row_step + j * self.col_step)


def op_trace(config: SlidingWindowConfig, *, ceil_pad_rule: str = "current") -> OpTrace:
    """The closed form of ``generate_op_trace_metadata(config)``."""
    _check_ceil_pad_rule(ceil_pad_rule)
    batch_size, output_h, output_w, _ = get_output_shape(config)
    if config.is_transpose:
        _, full_h, full_w, _ = get_transposed_full_input_shape(config)
        return OpTrace(batch_size, output_h, output_w, full_h * full_w, full_w, 1)
    ceil_pad_h = get_ceil_pad_h(config, ceil_pad_rule=ceil_pad_rule)
    ceil_pad_w = get_ceil_pad_w(config, ceil_pad_rule=ceil_pad_rule)
    padded_h = u32(u32(config.input_hw[0]) + u32(config.get_pad_h()) + ceil_pad_h)
    padded_w = u32(u32(config.input_hw[1]) + u32(config.get_pad_w()) + ceil_pad_w)
    return OpTrace(
        batch_size,
        output_h,
        output_w,
        padded_h * padded_w,
        u32(config.stride_hw[0]) * padded_w,
        u32(config.stride_hw[1]),
    )


def _loop_inputs(config: SlidingWindowConfig, ceil_pad_rule: str):
    """What the C++ per-core loop reads before it starts: the trace, its length, the core count,
    the output shard height and the halo length."""
    trace = op_trace(config, ceil_pad_rule=ceil_pad_rule)
    max_index = len(trace)
    if max_index == 0:
        raise ValueError(
            "empty op_trace_metadata (N * O_h * O_w == 0): the C++ would read op_trace_metadata[2**32 - 1]"
        )
    num_cores = u32(config.num_cores_nhw)
    output_shard_h = get_output_shard_y(config, config.snap_to_tile)
    return trace, max_index, num_cores, output_shard_h, _halo_with_pad_len(config, ceil_pad_rule)


def _iter_boundaries(config: SlidingWindowConfig, ceil_pad_rule: str) -> Iterator[Tuple[int, ShardBoundary]]:
    """Yield ``(repeat, boundary)``: the C++ per-core loop, compressed at its fixed point.

    ``repeat`` is the number of consecutive cores that get ``boundary``; it is 1 except for the last
    item, which covers every remaining core once the output start index stops advancing.
    """
    trace, max_index, num_cores, output_shard_h, halo_with_pad_len = _loop_inputs(config, ceil_pad_rule)

    output_index_start = 0
    core = 0
    while core < num_cores:
        output_index_end = u32(min(u32(output_index_start + output_shard_h), max_index) - 1)
        input_index_start = trace[min(output_index_start, max_index - 1)]
        trace_at_end = trace[output_index_end]
        input_index_end = u32(trace_at_end + halo_with_pad_len)
        if input_index_start == 0 and output_index_start != 0:
            input_index_start = u32(trace_at_end + 1)
            input_index_end = u32(input_index_start - 1)
        boundary = ShardBoundary(Range(output_index_start, output_index_end), Range(input_index_start, input_index_end))
        next_start = u32(output_index_end + 1)
        if next_start == output_index_start:  # fixed point: the boundary depends only on the start index
            yield num_cores - core, boundary
            return
        yield 1, boundary
        output_index_start = next_start
        core += 1


def shard_boundaries_closed_form(
    config: SlidingWindowConfig, *, ceil_pad_rule: str = "current"
) -> List[ShardBoundary]:
    """Same list as ``generate_shard_boundaries(config, generate_op_trace_metadata(config))``."""
    out: List[ShardBoundary] = []
    for repeat, boundary in _iter_boundaries(config, ceil_pad_rule):
        out.extend([boundary] * repeat)
    return out


def max_out_nsticks_per_core(config: SlidingWindowConfig, *, ceil_pad_rule: str = "current") -> int:
    """Same value as ``generate_max_out_nsticks_per_core(generate_shard_boundaries(config, ...))``.

    The loop of :func:`_iter_boundaries` with the trace evaluation inlined (this is the hot path of
    the public API).  Per core: sticks = u32(t[o_e] + halo - t[o_s] + 1), or 0 when the
    "input start index 0" special case fires (its input range is (t[o_e] + 1, t[o_e]), empty).
    """
    trace, max_index, num_cores, output_shard_h, halo_with_pad_len = _loop_inputs(config, ceil_pad_rule)

    mask = U32_MAX
    plane = trace.output_h * trace.output_w
    output_w = trace.output_w
    batch_step, row_step, col_step = trace.batch_step, trace.row_step, trace.col_step
    best = 0
    output_index_start = 0
    core = 0
    while core < num_cores:
        output_index_end = min((output_index_start + output_shard_h) & mask, max_index)
        output_index_end = (output_index_end - 1) & mask
        if output_index_end >= max_index:
            raise ValueError(
                f"out-of-bounds read op_trace_metadata[{output_index_end}] (size {max_index}); "
                "the C++ has undefined behaviour here"
            )
        b, rest = divmod(output_index_end, plane)
        i, j = divmod(rest, output_w)
        trace_at_end = (b * batch_step + i * row_step + j * col_step) & mask
        b, rest = divmod(min(output_index_start, max_index - 1), plane)
        i, j = divmod(rest, output_w)
        input_index_start = (b * batch_step + i * row_step + j * col_step) & mask
        if input_index_start == 0 and output_index_start != 0:
            sticks = 0
        else:
            sticks = (trace_at_end + halo_with_pad_len - input_index_start + 1) & mask
        if sticks > best:
            best = sticks
        next_start = (output_index_end + 1) & mask
        if next_start == output_index_start:  # fixed point: every remaining core repeats this boundary
            break
        output_index_start = next_start
        core += 1
    return best


def precise_halo_output_elems(
    config: SlidingWindowConfig, shard_shape: Sequence[int], *, ceil_pad_rule: str = "current"
) -> int:
    """``calculate_precise_halo_output_elems(config, shard_shape)`` via the closed form (S0 ignored)."""
    return u32(max_out_nsticks_per_core(config, ceil_pad_rule=ceil_pad_rule) * u32(shard_shape[1]))

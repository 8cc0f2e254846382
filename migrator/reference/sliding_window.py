"""Literal Python port of tt-metal's sliding-window halo math (sliding_window.cpp @ 7136cb56bb).

Written from the restatement in ``shared/docs/ttmetal-facts.md`` §4-§5 (no tt-metal source was
consulted or copied).  Every function keeps the C++ name, the C++ control flow and the C++
integer/float semantics (via :mod:`migrator.reference.uint32`), so that it can be read side by
side with the original.  It is deliberately slow: :func:`generate_op_trace_metadata` materialises
one entry per output stick, exactly like the C++ vector.  :mod:`migrator.reference.closed_form`
computes the same numbers in O(num_cores).

Deviations, all in places where the C++ has undefined behaviour:
- ``L == 0`` (empty op trace) makes the C++ read ``op_trace_metadata[2**32 - 1]``; here it raises
  ``ValueError``.  Any other out-of-bounds read of the trace also raises ``ValueError``.
- ``num_cores_nhw == 0`` (a division by zero in ``get_output_shard_y``) raises ``ValueError``.
- ``TT_FATAL``s (ceil_mode with is_transpose / is_bilinear) raise ``ValueError``.

``ceil_pad_rule`` selects the ceil-mode padding rule: ``"current"`` (a3d7cd05fb and later, used at
7136cb56bb) or ``"before_a3d7cd05fb"`` (45ecf0a728 / 5702b2dcea: no dilation term, no clamp).
"""

from __future__ import annotations

import math
from typing import List, NamedTuple, Sequence

from migrator.reference.config import SlidingWindowConfig
from migrator.reference.uint32 import f32_add, f32_div, f32_to_u32, i32, round_up, u32

__all__ = [
    "CEIL_PAD_RULES",
    "Range",
    "ShardBoundary",
    "get_output_shape",
    "get_ceil_pad_h",
    "get_ceil_pad_w",
    "get_transposed_full_input_shape",
    "get_output_shard_y",
    "generate_op_trace_metadata",
    "generate_shard_boundaries",
    "generate_max_out_nsticks_per_core",
    "calculate_precise_halo_output_elems",
]

CEIL_PAD_RULES = ("current", "before_a3d7cd05fb")


class Range(NamedTuple):
    """``struct Range { uint32_t start{0}; uint32_t end{0}; }`` -- inclusive on both ends.

    A NamedTuple (immutable, cheap to build: the literal loop creates one pair per core).
    """

    start: int = 0
    end: int = 0


class ShardBoundary(NamedTuple):
    """``struct ShardBoundary { Range output_range; Range input_range; }``."""

    output_range: Range = Range()
    input_range: Range = Range()

    def __str__(self) -> str:  # the fmt formatter's text
        o, i = self.output_range, self.input_range
        return f"[output_shard=({o.start}, {o.end}), input_shard=({i.start}, {i.end})]"


def _check_ceil_pad_rule(ceil_pad_rule: str) -> None:
    if ceil_pad_rule not in CEIL_PAD_RULES:
        raise ValueError(f"unknown ceil_pad_rule {ceil_pad_rule!r}; expected one of {CEIL_PAD_RULES}")


def _f32_floor(x: float) -> float:
    """``std::floor(float)``; inf/nan pass through."""
    return float(math.floor(x)) if math.isfinite(x) else x


def _f32_ceil(x: float) -> float:
    """``std::ceil(float)``; inf/nan pass through."""
    return float(math.ceil(x)) if math.isfinite(x) else x


def _unpadded_out_ratio(in_dim: int, pad_sum: int, window: int, dilation: int, stride: int) -> float:
    """``(float)(in + pad - dilation * (window - 1) - 1) / stride`` -- numerator in uint32 (may wrap)."""
    numerator = u32(in_dim + pad_sum - u32(dilation * (window - 1)) - 1)
    return f32_div(numerator, stride)


# ---------------------------------------------------------------------------------------------
# SlidingWindowConfig member functions (free functions taking the config as first argument)
# ---------------------------------------------------------------------------------------------


def get_output_shape(config: SlidingWindowConfig) -> List[int]:
    """``SlidingWindowConfig::get_output_shape()`` -> ``[N, O_h, O_w, 0]`` (facts §5)."""
    batch_size = u32(config.batch_size)
    in_h, in_w = (u32(v) for v in config.input_hw)
    window_h, window_w = (u32(v) for v in config.window_hw)
    stride_h, stride_w = (u32(v) for v in config.stride_hw)
    dilation_h, dilation_w = (u32(v) for v in config.dilation_hw)
    out_pad_h, out_pad_w = (u32(v) for v in config.output_pad_hw)
    pad_h, pad_w = u32(config.get_pad_h()), u32(config.get_pad_w())

    if config.is_transpose:
        if config.ceil_mode:
            raise ValueError("TT_FATAL: ceil_mode is not supported with is_transpose")
        output_h = u32((in_h - 1) * stride_h - pad_h + dilation_h * (window_h - 1) + out_pad_h + 1)
        output_w = u32((in_w - 1) * stride_w - pad_w + dilation_w * (window_w - 1) + out_pad_w + 1)
        return [batch_size, output_h, output_w, 0]

    ratio_h = _unpadded_out_ratio(in_h, pad_h, window_h, dilation_h, stride_h)
    ratio_w = _unpadded_out_ratio(in_w, pad_w, window_w, dilation_w, stride_w)
    if config.ceil_mode:
        output_h = f32_to_u32(f32_add(_f32_ceil(ratio_h), 1))
        output_w = f32_to_u32(f32_add(_f32_ceil(ratio_w), 1))
        # Drop the last window if it would start in the bottom/right padding (top/left pad only!).
        if u32(u32(output_h - 1) * stride_h) >= u32(in_h + u32(config.get_pad_top())):
            output_h = u32(output_h - 1)
        if u32(u32(output_w - 1) * stride_w) >= u32(in_w + u32(config.get_pad_left())):
            output_w = u32(output_w - 1)
    else:
        output_h = f32_to_u32(f32_add(_f32_floor(ratio_h), 1))
        output_w = f32_to_u32(f32_add(_f32_floor(ratio_w), 1))

    if config.is_bilinear:
        if config.ceil_mode:
            raise ValueError("TT_FATAL: ceil_mode is not supported with is_bilinear")
        output_h, output_w = in_h, in_w

    return [batch_size, output_h, output_w, 0]


def _get_ceil_pad(
    config: SlidingWindowConfig, in_dim: int, pad_sum: int, window: int, dilation: int, stride: int, rule: str
) -> int:
    _check_ceil_pad_rule(rule)
    if not config.ceil_mode:
        return 0
    ratio = _unpadded_out_ratio(in_dim, pad_sum, window, dilation, stride)
    output_size = f32_to_u32(f32_add(_f32_ceil(ratio), 1))  # NOT adjusted for the "starts in padding" rule
    if rule == "before_a3d7cd05fb":
        # uint32_t expression, no dilation term, no clamp.
        return u32(stride * (output_size - 1) + window - in_dim - pad_sum)
    # int32_t ceil_pad = <uint32 expression with the dilated window>; result std::max(ceil_pad, 0).
    dilated_window = u32(dilation * (window - 1) + 1)
    ceil_pad = i32(u32(stride * u32(output_size - 1)) + dilated_window - in_dim - pad_sum)
    return max(ceil_pad, 0)


def get_ceil_pad_h(config: SlidingWindowConfig, *, ceil_pad_rule: str = "current") -> int:
    """``SlidingWindowConfig::get_ceil_pad_h()``: extra bottom padding in ceil mode (0 otherwise)."""
    return _get_ceil_pad(
        config,
        u32(config.input_hw[0]),
        u32(config.get_pad_h()),
        u32(config.window_hw[0]),
        u32(config.dilation_hw[0]),
        u32(config.stride_hw[0]),
        ceil_pad_rule,
    )


def get_ceil_pad_w(config: SlidingWindowConfig, *, ceil_pad_rule: str = "current") -> int:
    """``SlidingWindowConfig::get_ceil_pad_w()``: extra right padding in ceil mode (0 otherwise)."""
    return _get_ceil_pad(
        config,
        u32(config.input_hw[1]),
        u32(config.get_pad_w()),
        u32(config.window_hw[1]),
        u32(config.dilation_hw[1]),
        u32(config.stride_hw[1]),
        ceil_pad_rule,
    )


def get_transposed_full_input_shape(config: SlidingWindowConfig) -> List[int]:
    """``SlidingWindowConfig::get_transposed_full_input_shape()`` -> ``[N, H_f, W_f, 0]``.

    H_f = O_h + d_h (k_h - 1), W_f = O_w + d_w (k_w - 1) (uint32).  Only H_f and W_f are used by the
    halo math; the last element is not specified by the facts document and is returned as 0.
    """
    batch_size, output_h, output_w, _ = get_output_shape(config)
    full_h = u32(output_h + u32(config.dilation_hw[0]) * u32(config.window_hw[0] - 1))
    full_w = u32(output_w + u32(config.dilation_hw[1]) * u32(config.window_hw[1] - 1))
    return [batch_size, full_h, full_w, 0]


def get_output_shard_y(config: SlidingWindowConfig, snap_to_tile: bool = False) -> int:
    """``SlidingWindowConfig::get_output_shard_y(snap_to_tile)``: output sticks per core.

    ``round_up(N * O_h * O_w, num_cores_nhw * (snap_to_tile ? 32 : 1)) / num_cores_nhw`` in uint32.
    """
    output_shape = get_output_shape(config)
    total_nsticks = u32(output_shape[0] * output_shape[1] * output_shape[2])
    num_cores_nhw = u32(config.num_cores_nhw)
    if num_cores_nhw == 0:
        raise ValueError("num_cores_nhw must be >= 1 (division by zero in get_output_shard_y)")
    multiple = u32(num_cores_nhw * (32 if snap_to_tile else 1))
    return round_up(total_nsticks, multiple) // num_cores_nhw


# ---------------------------------------------------------------------------------------------
# Free functions
# ---------------------------------------------------------------------------------------------


def generate_op_trace_metadata(config: SlidingWindowConfig, *, ceil_pad_rule: str = "current") -> List[int]:
    """``generate_op_trace_metadata(config)``: input stick index of the top-left tap of every output stick.

    One entry per output stick, in (b, i, j) order.  Non-transposed: index into the padded input
    (H + P_h + ceil_pad_h) x (W + P_w + ceil_pad_w) with the strides; transposed: index into the
    full input H_f x W_f with stride 1.  All arithmetic is uint32.
    """
    _check_ceil_pad_rule(ceil_pad_rule)
    batch_size, output_h, output_w, _ = get_output_shape(config)
    if config.is_transpose:
        _, padded_input_h, padded_input_w, _ = get_transposed_full_input_shape(config)
        stride_h, stride_w = 1, 1
    else:
        ceil_pad_h = get_ceil_pad_h(config, ceil_pad_rule=ceil_pad_rule)
        ceil_pad_w = get_ceil_pad_w(config, ceil_pad_rule=ceil_pad_rule)
        padded_input_h = u32(u32(config.input_hw[0]) + u32(config.get_pad_h()) + ceil_pad_h)
        padded_input_w = u32(u32(config.input_hw[1]) + u32(config.get_pad_w()) + ceil_pad_w)
        stride_h, stride_w = u32(config.stride_hw[0]), u32(config.stride_hw[1])

    op_trace_metadata: List[int] = []
    for b in range(batch_size):
        for i in range(output_h):
            row_start = u32(b * padded_input_h * padded_input_w + i * stride_h * padded_input_w)
            # for (j = 0; j < output_w; ++j) op_trace_metadata.push_back(row_start + j * stride_w);
            if stride_w and row_start + (output_w - 1) * stride_w < (1 << 32):  # no wrap: a plain range
                op_trace_metadata.extend(range(row_start, row_start + output_w * stride_w, stride_w))
            else:
                op_trace_metadata.extend(u32(row_start + j * stride_w) for j in range(output_w))
    return op_trace_metadata


def _halo_with_pad_len(config: SlidingWindowConfig, ceil_pad_rule: str) -> int:
    """``(K_h - 1) * W* + K_w - 1`` with dilated extents K and the (padded / full) input width W*."""
    if config.is_transpose:
        input_w = get_transposed_full_input_shape(config)[2]
    else:
        ceil_pad_w = get_ceil_pad_w(config, ceil_pad_rule=ceil_pad_rule)
        input_w = u32(u32(config.input_hw[1]) + u32(config.get_pad_w()) + ceil_pad_w)
    window_h, window_w = u32(config.window_hw[0]), u32(config.window_hw[1])
    dilated_window_h = u32(window_h + u32(config.dilation_hw[0] - 1) * u32(window_h - 1))
    dilated_window_w = u32(window_w + u32(config.dilation_hw[1] - 1) * u32(window_w - 1))
    halo_with_pad_len = u32(u32(dilated_window_h - 1) * input_w + dilated_window_w - 1)
    if config.is_bilinear:
        halo_with_pad_len = u32(window_h * input_w)
    return halo_with_pad_len


def generate_shard_boundaries(
    config: SlidingWindowConfig, op_trace_metadata: Sequence[int], *, ceil_pad_rule: str = "current"
) -> List[ShardBoundary]:
    """``generate_shard_boundaries(config, op_trace_metadata)`` (two-argument form of the window).

    One boundary per core (``num_cores_nhw`` of them, trailing cores included).  Ranges are
    inclusive.  ``ceil_pad_rule`` only matters in ceil mode (it sets the padded input width).
    """
    _check_ceil_pad_rule(ceil_pad_rule)
    max_index = len(op_trace_metadata)
    if max_index == 0:
        raise ValueError(
            "empty op_trace_metadata (N * O_h * O_w == 0): the C++ would read op_trace_metadata[2**32 - 1]"
        )
    num_cores = u32(config.num_cores_nhw)
    output_shard_h = get_output_shard_y(config, config.snap_to_tile)
    halo_with_pad_len = _halo_with_pad_len(config, ceil_pad_rule)

    shard_boundaries: List[ShardBoundary] = []
    output_index_start = 0
    try:
        for _core in range(num_cores):
            output_index_end = u32(min(u32(output_index_start + output_shard_h), max_index) - 1)
            input_index_start = op_trace_metadata[min(output_index_start, max_index - 1)]
            input_index_end = u32(op_trace_metadata[output_index_end] + halo_with_pad_len)
            if input_index_start == 0 and output_index_start != 0:
                input_index_start = u32(op_trace_metadata[output_index_end] + 1)
                input_index_end = u32(input_index_start - 1)
            shard_boundaries.append(
                ShardBoundary(Range(output_index_start, output_index_end), Range(input_index_start, input_index_end))
            )
            output_index_start = u32(output_index_end + 1)
    except IndexError:  # every index above is a uint32 >= 0, so only reads past the end land here
        raise ValueError(
            f"out-of-bounds read of op_trace_metadata (size {max_index}) at core {_core}; "
            "the C++ has undefined behaviour here"
        ) from None
    return shard_boundaries


def generate_max_out_nsticks_per_core(shard_boundaries: Sequence[ShardBoundary]) -> int:
    """``generate_max_out_nsticks_per_core``: max over cores of ``u32(in_end - in_start + 1)`` (0 if none)."""
    max_out_nsticks_per_core = 0
    for boundary in shard_boundaries:
        in_start, in_end = boundary.input_range.start, boundary.input_range.end
        max_out_nsticks_per_core = max(max_out_nsticks_per_core, u32(in_end - in_start + 1))
    return max_out_nsticks_per_core


def calculate_precise_halo_output_elems(
    config: SlidingWindowConfig, shard_shape: Sequence[int], *, ceil_pad_rule: str = "current"
) -> int:
    """``calculate_precise_halo_output_elems(config, shard_shape)`` (27f36345e8): max sticks x S1, uint32.

    ``shard_shape[0]`` is ignored, as in the C++.
    """
    op_trace_metadata = generate_op_trace_metadata(config, ceil_pad_rule=ceil_pad_rule)
    shard_boundaries = generate_shard_boundaries(config, op_trace_metadata, ceil_pad_rule=ceil_pad_rule)
    max_out_nsticks_per_core = generate_max_out_nsticks_per_core(shard_boundaries)
    return u32(max_out_nsticks_per_core * u32(shard_shape[1]))


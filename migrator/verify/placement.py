"""Placement model: what a call site of the halo estimate sees for one conv, and what the halo op
will be configured with at run time.

Given a conv spec (the 15 columns of tt-metal's short conv2d sweep), a shard layout
(HEIGHT / BLOCK / WIDTH) and a compute grid, this module derives

- the input ``ParallelConfig`` (a port of ``determine_parallel_config`` for conv2d: the number of
  cores along NHW and along C, and the grid they occupy),
- the halo-input memory config and shard shape [S0, S1] (``determine_input_memory_config``:
  S0 = round_up(N*H*W, n*r)/n, S1 = round_up(Cin, c*a)/c),
- the ``SlidingWindowConfig`` of the halo op at run time (``conv2d_L1``: real input dims, real
  stride, padding n4 = [pad_h, pad_h, pad_w, pad_w], dilation, num_cores_nhw of the input
  parallel config, snap_to_tile = true),
- the value of every *role* a call site can refer to (see :mod:`migrator.verify.evaluate`).

Written from the behaviour of tt-metal 7136cb56bb (``conv2d_utils.cpp``), in Python; no tt-metal code.

What is simplified (documented, deliberate):

- Only conv2d's use of ``determine_parallel_config`` is modelled: ``enable_channels_padding =
  true`` (non-matmul convs), tile-multiple shard height and width, shard orientation ROW_MAJOR
  (``transpose_shards`` false) and ``act_block_h_override`` 0 or 32 (one tile, so the NHW core
  count needs no extra multiple).  A user-set ``act_block_h_override`` or ``transpose_shards`` is
  not modelled.
- Grids are modelled by core count and bounding box only (``CoreGrid``); a HEIGHT/WIDTH grid of n
  cores is laid out row-wise like ``num_cores_to_corerangeset``.
- The input tensor layout defaults to ROW_MAJOR (the sweeps create inputs with ``from_torch``
  without a layout), so the input-channel alignment is 8 for HEIGHT/BLOCK (L1 alignment 16 bytes
  / 2 bytes per bfloat16, the same on Wormhole and Blackhole) and 32 (a tile) for WIDTH.
- 1x1 / stride 1 / no padding / dilation 1 convs take the matmul path and never build a halo: they
  are reported as *not reached*.  A 1D depthwise conv (groups == Cin == Cout, kernel width 1,
  input width 1, no bias) only tries HEIGHT in the auto-shard, so BLOCK/WIDTH are *not reached*.
- DRAM slicing (call site 2) is modelled as ONE slice covering the whole input: the slice lambda
  receives the padded input (H + pad_top + pad_bottom, W + pad_left + pad_right) when the checkout
  passes padded slice sizes (``slice_dims_include_padding``), the unpadded input otherwise; the
  halo at run time sees the unpadded dims plus the padding.  Real slices trim the input rows a
  strided window never reads, identically on both sides, so that does not change the comparison.
  The tile-rounding extra right padding of DRAM slicing (``pad_right += additional_padded_width *
  stride_w`` when the output slice width is not a multiple of 32) is added after the slice width
  is computed and is not visible to the call site; it exists only with several slices.  It is
  *not* part of the runtime config here; :mod:`migrator.verify.core` quantifies it separately.
- The shard shape of the slice's memory config uses the padded slice dims when the slice sizes
  include padding (like tt-metal); only S1 enters the precise value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Dict, Sequence, Tuple

from migrator.reference import SlidingWindowConfig

TILE = 32
L1_ALIGNMENT_BYTES = 16  # hal::get_l1_alignment() on Wormhole and Blackhole

GRIDS: Dict[str, Tuple[int, int]] = {"wormhole": (8, 8), "blackhole": (13, 10)}
LAYOUTS = ("HEIGHT", "BLOCK", "WIDTH")

SPEC_COLUMNS = (
    "batch_size", "output_channels", "input_channels", "input_height", "input_width",
    "kernel_height", "kernel_width", "stride_h", "stride_w", "pad_h", "pad_w", "groups",
    "dilation_h", "dilation_w", "bias",
)


class NotReached(Exception):
    """The conv never reaches the call site for this layout (e.g. a 1x1 matmul conv)."""


@dataclass(frozen=True)
class ConvSpec:
    batch_size: int
    output_channels: int
    input_channels: int
    input_height: int
    input_width: int
    kernel_height: int
    kernel_width: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    groups: int
    dilation_h: int
    dilation_w: int
    bias: bool

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "ConvSpec":
        if len(row) < 15:
            raise ValueError(f"a conv spec needs 15 columns, got {len(row)}")
        vals = list(row[:15])
        ints = [int(v) for v in vals[:14]]
        return cls(*ints, bool(vals[14]))

    def as_list(self) -> list:
        return [getattr(self, c) for c in SPEC_COLUMNS]

    @property
    def padding_n4(self) -> Tuple[int, int, int, int]:
        return (self.pad_h, self.pad_h, self.pad_w, self.pad_w)

    def output_hw(self) -> Tuple[int, int]:
        """``calculate_output_image_size``; raises NotReached if the window exceeds the padded input."""
        num_h = self.input_height - self.kernel_height - (self.kernel_height - 1) * (self.dilation_h - 1) + 2 * self.pad_h
        num_w = self.input_width - self.kernel_width - (self.kernel_width - 1) * (self.dilation_w - 1) + 2 * self.pad_w
        if num_h < 0 or num_w < 0 or self.stride_h <= 0 or self.stride_w <= 0:
            raise NotReached("dilated window larger than the padded input")
        return num_h // self.stride_h + 1, num_w // self.stride_w + 1

    def is_mm_conv(self) -> bool:
        return (self.kernel_height == 1 and self.kernel_width == 1 and self.stride_h == 1 and self.stride_w == 1
                and self.pad_h == 0 and self.pad_w == 0 and self.dilation_h == 1 and self.dilation_w == 1)

    def auto_folds(self) -> bool:
        """``auto_enable_kernel_folding`` with the flag unset on a DRAM input, plus conv2d's own
        condition for folding (a stride above 1): the stride equals the kernel, there is no padding,
        and the stride divides the input (tt-metal #29993, 7136cb56bb)."""
        return (self.stride_h == self.kernel_height and self.stride_w == self.kernel_width
                and (self.stride_h > 1 or self.stride_w > 1) and self.pad_h == 0 and self.pad_w == 0
                and self.input_height % self.stride_h == 0 and self.input_width % self.stride_w == 0)

    def folded(self) -> "ConvSpec":
        """The conv after kernel-stride folding (``compute_kernel_stride_folding_params``): each
        stride window becomes channels, leaving a 1x1, stride-1 conv without padding (a matmul conv;
        the dilation of a 1x1 window changes nothing)."""
        return replace(self, input_height=self.input_height // self.stride_h,
                       input_width=self.input_width // self.stride_w,
                       input_channels=self.input_channels * self.stride_h * self.stride_w,
                       kernel_height=1, kernel_width=1, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1)

    def is_1d_depthwise(self) -> bool:
        dw = self.groups == self.input_channels == self.output_channels
        return dw and self.kernel_width == 1 and self.input_width == 1 and not self.bias


# ---- tt-metal objects, modelled ----------------------------------------------------------------


@dataclass(frozen=True)
class CoreGrid:
    """A CoreRangeSet, reduced to what the helpers read: core count and bounding-box size."""

    num_cores: int
    size_x: int
    size_y: int

    @classmethod
    def row_wise(cls, n: int, grid: Tuple[int, int]) -> "CoreGrid":
        gx, _ = grid
        return cls(n, min(n, gx), -(-n // gx))

    @classmethod
    def rect(cls, x: int, y: int) -> "CoreGrid":
        return cls(x * y, x, y)


@dataclass(frozen=True)
class ParallelConfig:
    grid: CoreGrid
    shard_scheme: str  # HEIGHT / BLOCK / WIDTH
    shard_orientation: str = "ROW_MAJOR"


@dataclass(frozen=True)
class ShardSpec:
    grid: CoreGrid
    shape: Tuple[int, int]
    orientation: str = "ROW_MAJOR"


class _Optional:
    """std::optional<ShardSpec> with only ``value()``."""

    def __init__(self, v):
        self._v = v

    def value(self):
        return self._v

    def has_value(self) -> bool:
        return self._v is not None


@dataclass(frozen=True)
class MemoryConfig:
    memory_layout: str
    spec: ShardSpec

    def shard_spec(self) -> _Optional:
        return _Optional(self.spec)


def get_num_cores_nhw_from_parallel_config(pc: ParallelConfig) -> int:
    if pc.shard_scheme == "WIDTH":
        return 1
    if pc.shard_scheme == "HEIGHT":
        return pc.grid.num_cores
    return pc.grid.size_x if pc.shard_orientation == "COL_MAJOR" else pc.grid.size_y


def get_num_cores_channels_from_parallel_config(pc: ParallelConfig) -> int:
    if pc.shard_scheme == "HEIGHT":
        return 1
    if pc.shard_scheme == "WIDTH":
        return pc.grid.num_cores
    return pc.grid.size_y if pc.shard_orientation == "COL_MAJOR" else pc.grid.size_x


# ---- determine_parallel_config (conv2d subset) ---------------------------------------------------


def _div_up(a: int, b: int) -> int:
    return -(-a // b)


def _round_up(a: int, m: int) -> int:
    return _div_up(a, m) * m


@lru_cache(maxsize=65536)
def _largest_divisor_with_padding(num: int, start: int) -> int:
    d = start
    padded = _round_up(num, d)
    while d > 1 and (padded - num) >= padded // d:
        d -= 1
        padded = _round_up(num, d)
    return d


@lru_cache(maxsize=65536)
def _largest_divisor_with_padding_and_mult(num: int, start: int, mult: int) -> int:
    d = start
    padded = _round_up(num, d * mult)
    while (padded - num) >= padded // d and d > 1:
        d -= 1
        padded = _round_up(num, d * mult)
    return d


def input_channels_alignment(layout: str, input_layout: str, sliced_op: bool) -> int:
    """``get_input_channels_alignment`` for a non-matmul conv without an input memory config."""
    if layout != "WIDTH" and (input_layout == "ROW_MAJOR" or sliced_op):
        return L1_ALIGNMENT_BYTES // 2
    return TILE


@lru_cache(maxsize=65536)  # pure, and asked again for every layout, path and slice of a spec
def determine_parallel_config(layout: str, batch: int, in_channels: int, out_h: int, out_w: int,
                              alignment: int, grid: Tuple[int, int]) -> ParallelConfig:
    """Conv2d's call: channels padding enabled, tile-multiple shards, ROW_MAJOR, act_block_h <= 1 tile."""
    out_nhw_ntiles = _div_up(batch * out_h * out_w, TILE)
    gx, gy = grid
    if layout == "HEIGHT":
        n = _largest_divisor_with_padding_and_mult(out_nhw_ntiles, gx * gy, 1)
        return ParallelConfig(CoreGrid.row_wise(n, grid), "HEIGHT")
    if layout == "BLOCK":
        n = _largest_divisor_with_padding_and_mult(out_nhw_ntiles, gy, 1)
        c = _largest_divisor_with_padding(_div_up(in_channels, alignment), gx)
        return ParallelConfig(CoreGrid.rect(c, n), "BLOCK")  # ROW_MAJOR: x = channels, y = nhw
    if layout == "WIDTH":
        c = _largest_divisor_with_padding(_div_up(in_channels, TILE), gx * gy)
        return ParallelConfig(CoreGrid.row_wise(c, grid), "WIDTH")
    raise ValueError(f"unknown shard layout {layout!r}")


@lru_cache(maxsize=65536)
def determine_input_memory_config(pc: ParallelConfig, batch: int, in_h: int, in_w: int, in_channels: int,
                                  alignment: int, input_layout: str) -> MemoryConfig:
    n = get_num_cores_nhw_from_parallel_config(pc)
    c = get_num_cores_channels_from_parallel_config(pc)
    r = 1 if (pc.shard_scheme == "WIDTH" and input_layout == "ROW_MAJOR") else TILE
    height = _round_up(batch * in_h * in_w, n * r)
    width = _round_up(in_channels, c * alignment)
    return MemoryConfig(pc.shard_scheme, ShardSpec(pc.grid, (height // n, width // c), pc.shard_orientation))


# ---- the placement -------------------------------------------------------------------------------


@dataclass
class Placement:
    spec: ConvSpec
    layout: str
    grid_name: str
    site_kind: str  # "l1" (site 1) or "dram_slice" (site 2)
    parallel_config: ParallelConfig
    memory_config: MemoryConfig  # what the call site sees
    runtime_config: SlidingWindowConfig
    runtime_shard_shape: Tuple[int, int]
    roles: Dict[str, Any] = field(default_factory=dict)  # role -> value at the call site
    output_hw: Tuple[int, int] = (0, 0)


def place(spec: ConvSpec, layout: str, grid_name: str, site_kind: str = "l1",
          slice_dims_include_padding: bool = False, input_layout: str = "ROW_MAJOR",
          allow_mm: bool = False) -> Placement:
    if grid_name not in GRIDS:
        raise ValueError(f"unknown grid {grid_name!r}; expected one of {sorted(GRIDS)}")
    grid = GRIDS[grid_name]
    if spec.is_mm_conv() and not allow_mm:
        raise NotReached("1x1 matmul conv (no halo)")
    if spec.is_1d_depthwise() and layout != "HEIGHT":
        raise NotReached("1D depthwise conv is only height-sharded")
    if spec.batch_size <= 0 or spec.input_channels <= 0 or spec.input_height <= 0 or spec.input_width <= 0:
        raise NotReached("empty input")
    out_h, out_w = spec.output_hw()
    alignment = input_channels_alignment(layout, input_layout, sliced_op=False)  # one slice -> L1
    pc = determine_parallel_config(layout, spec.batch_size, spec.input_channels, out_h, out_w, alignment, grid)
    n = spec.batch_size
    h, w = spec.input_height, spec.input_width
    pad = spec.padding_n4
    runtime_mem = determine_input_memory_config(pc, n, h, w, spec.input_channels, alignment, input_layout)
    if site_kind == "dram_slice" and slice_dims_include_padding:
        site_h, site_w = h + pad[0] + pad[1], w + pad[2] + pad[3]
    else:
        site_h, site_w = h, w
    site_mem = (runtime_mem if (site_h, site_w) == (h, w)
                else determine_input_memory_config(pc, n, site_h, site_w, spec.input_channels, alignment, input_layout))
    # A DRAM slice's halo also gets the right padding conv2d_DRAM adds when the slice's output width
    # is rounded up to a tile (conv2d.cpp passes {pad_top, pad_bottom, pad_left, pad_right} after it).
    extra = tile_rounding_extra(out_w, spec.stride_w) if site_kind == "dram_slice" else 0
    slice_pad = (pad[0], pad[1], pad[2], pad[3] + extra)
    runtime = SlidingWindowConfig(
        batch_size=n,
        channels=spec.input_channels,
        input_hw=(h, w),
        window_hw=(spec.kernel_height, spec.kernel_width),
        stride_hw=(spec.stride_h, spec.stride_w),
        padding=slice_pad,
        dilation_hw=(spec.dilation_h, spec.dilation_w),
        num_cores_nhw=get_num_cores_nhw_from_parallel_config(pc),
        num_cores_c=get_num_cores_channels_from_parallel_config(pc),
        core_range_set=pc.grid,
        snap_to_tile=True,
    )
    roles = {
        "shard_shape": site_mem.spec.shape,
        "batch_size": n,
        "input_height": site_h,
        "input_width": site_w,
        "kernel_size": (spec.kernel_height, spec.kernel_width),
        "dilation": (spec.dilation_h, spec.dilation_w),
        "padding": pad,
        "stride": (spec.stride_h, spec.stride_w),
        "memory_config": site_mem,
        "parallel_config": pc,
        "in_channels": spec.input_channels,
        "out_channels": spec.output_channels,
        "slice_input_hw": (h, w),
        "slice_padding": slice_pad,
    }
    return Placement(spec, layout, grid_name, site_kind, pc, site_mem, runtime, runtime_mem.spec.shape, roles,
                     (out_h, out_w))


def tile_rounding_extra(out_w: int, stride_w: int) -> int:
    """Right padding DRAM slicing adds (TILE output) when the slice's output width is not a tile multiple."""
    return ((TILE - out_w % TILE) % TILE) * stride_w


def tile_rounding_extra_right_padding(placement: Placement) -> int:
    return tile_rounding_extra(placement.output_hw[1], placement.spec.stride_w)


__all__ = [
    "GRIDS", "LAYOUTS", "SPEC_COLUMNS", "ConvSpec", "CoreGrid", "ParallelConfig", "ShardSpec", "MemoryConfig",
    "NotReached", "Placement", "place", "determine_parallel_config", "determine_input_memory_config",
    "get_num_cores_nhw_from_parallel_config", "get_num_cores_channels_from_parallel_config",
    "input_channels_alignment", "tile_rounding_extra_right_padding",
]

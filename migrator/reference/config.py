"""`SlidingWindowConfig` as tt-metal declares it (sliding_window.hpp, revisions 45ecf0a728..7136cb56bb).

Field names, order and defaults mirror the C++ aggregate. Pairs are tuples; `padding` is
(top, bottom, left, right). `core_range_set` is kept only as an opaque value: it never takes part
in the boundary math, exactly as in tt-metal where it only feeds `to_string()`/`get_hash()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

Pair = Tuple[int, int]


@dataclass(frozen=True)
class SlidingWindowConfig:
    batch_size: int = 0
    channels: int = 0
    input_hw: Pair = (0, 0)
    window_hw: Pair = (1, 1)
    stride_hw: Pair = (1, 1)
    padding: Tuple[int, int, int, int] = (0, 0, 0, 0)
    output_pad_hw: Pair = (0, 0)
    dilation_hw: Pair = (1, 1)
    num_cores_nhw: int = 1
    num_cores_c: int = 1
    core_range_set: Any = None
    snap_to_tile: bool = False
    is_bilinear: bool = False
    is_transpose: bool = False
    ceil_mode: bool = False
    is_avg_pool: bool = False

    def get_pad_top(self) -> int:
        return self.padding[0]

    def get_pad_bottom(self) -> int:
        return self.padding[1]

    def get_pad_left(self) -> int:
        return self.padding[2]

    def get_pad_right(self) -> int:
        return self.padding[3]

    def get_pad_h(self) -> int:
        return self.padding[0] + self.padding[1]

    def get_pad_w(self) -> int:
        return self.padding[2] + self.padding[3]

"""tt-metal's ``estimate_halo_output_elems`` (conv2d_utils.cpp), the three bodies of the window.

Restated from ``shared/docs/ttmetal-facts.md`` §6 (no tt-metal source consulted).  Let S0, S1 be
the shard shape, N the batch, H x W the input, k = kernel_size[0], d = dilation[0],
pl/pr = padding[2]/padding[3] (kernel_size[1], dilation[1], padding[0], padding[1] are unused and
there is no stride input), and

    A = u32(d * k - 1)        (sic: d*k - 1, not the dilated extent minus one)
    B = u32(W + pl + pr)

=======  ===============================  ======================================================
variant  revisions                        shard_height h
=======  ===============================  ======================================================
V1       45ecf0a728                       h = S0 / W  (uint32 division); everything uint32
V2       5702b2dcea ... f843883541        h = fl(S0) / fl(W)  (float division)
V3       dbbc742d10 ... 7136cb56bb        N > 1: h = fl(S0 / W) (uint32 division, then float);
                                          N <= 1: h = tt::div_up(S0, (float)W) = fl(fl(fl(S0)+fl(W)) - 1) / fl(W)
=======  ===============================  ======================================================

then b = shard_batches, m = b + 2 if N > 1 else 1, sticks, result = u32(sticks * S1):
- V1: b = h / H;  sticks = u32(u32(h + u32(A*m)) * B)
- V2/V3: b = (uint32)(h / fl(H));  sticks = (uint32)(fl(fl(h + fl(u32(A*m))) * fl(B)))

All parameters are ``uint32_t`` passed by value, so every input is reduced mod 2**32 first.
"""

from __future__ import annotations

from typing import Sequence

from migrator.reference.uint32 import div_up_f32, f32, f32_add, f32_div, f32_mul, f32_to_u32, u32

__all__ = ["VARIANTS", "estimate_halo_output_elems"]

VARIANTS = ("V1", "V2", "V3")


def estimate_halo_output_elems(
    shard_shape: Sequence[int],
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Sequence[int],
    dilation: Sequence[int],
    padding: Sequence[int],
    variant: str = "V3",
) -> int:
    """Halo output elements per core as estimated by revision ``variant`` (uint32 result).

    Integer divisions by zero (V1, and V3 with N > 1, when W or H is 0) are undefined behaviour in
    C++ and raise ``ValueError``; float divisions by zero follow IEEE and the float->uint32
    conversion rule of :func:`migrator.reference.uint32.f32_to_u32`.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown estimate variant {variant!r}; expected one of {VARIANTS}")
    s0, s1 = u32(shard_shape[0]), u32(shard_shape[1])
    n, h_in, w_in = u32(batch_size), u32(input_height), u32(input_width)
    k, d = u32(kernel_size[0]), u32(dilation[0])
    pad_left, pad_right = u32(padding[2]), u32(padding[3])

    window_extra = u32(d * k - 1)  # A
    padded_width = u32(w_in + pad_left + pad_right)  # B

    if variant == "V1":
        if w_in == 0 or h_in == 0:
            raise ValueError("V1 divides by input_width and input_height (uint32): they must be >= 1")
        shard_height = s0 // w_in
        shard_batches = shard_height // h_in
        multiplier = u32(shard_batches + 2) if n > 1 else 1
        sticks = u32(u32(shard_height + u32(window_extra * multiplier)) * padded_width)
        return u32(sticks * s1)

    # V2 / V3: float shard height.
    if variant == "V2":
        shard_height = f32_div(s0, w_in)
    elif n > 1:  # V3, batch > 1: integer quotient converted to float by the ternary's common type
        if w_in == 0:
            raise ValueError("V3 with batch_size > 1 divides by input_width (uint32): it must be >= 1")
        shard_height = f32(s0 // w_in)
    else:  # V3, batch <= 1: tt::div_up with a float divisor -- a real quotient, not a ceiling
        shard_height = div_up_f32(s0, f32(w_in))
    shard_batches = f32_to_u32(f32_div(shard_height, h_in))
    multiplier = u32(shard_batches + 2) if n > 1 else 1
    sticks = f32_to_u32(f32_mul(f32_add(shard_height, u32(window_extra * multiplier)), padded_width))
    return u32(sticks * s1)

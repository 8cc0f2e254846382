"""Explicit C++ scalar semantics used by tt-metal's sliding-window and halo-estimate math.

Python integers never overflow and Python floats are IEEE binary64, so every place where the C++
code relies on `uint32_t` wrap-around or on `float` (binary32) rounding is spelled out with one of
these helpers.  Each docstring names the C++ expression it mirrors.

Conventions
- Every helper that takes an "uint32" argument accepts any Python int and reduces it mod 2**32
  first, exactly as an implicit conversion to `uint32_t` would.
- Every helper that returns a "float" returns a Python float whose value is exactly representable
  in binary32 (i.e. it has already been rounded with round-to-nearest-even).
"""

from __future__ import annotations

import math
import struct

__all__ = [
    "U32_MOD",
    "U32_MAX",
    "u32",
    "i32",
    "f32",
    "f32_add",
    "f32_sub",
    "f32_mul",
    "f32_div",
    "f32_to_u32",
    "div_up",
    "div_up_f32",
    "round_up",
]

U32_MOD = 1 << 32
U32_MAX = U32_MOD - 1

_F32 = struct.Struct("<f")
_F32_MANT_BITS = 24  # significand precision of IEEE binary32 (incl. the implicit bit)


def u32(x: int) -> int:
    """`static_cast<uint32_t>(x)` / any uint32_t arithmetic result: ``x mod 2**32``.

    Mirrors the wrap-around of `uint32_t` `+`, `-`, `*` and of converting a wider or signed
    integer to `uint32_t` (well defined in C++: reduction modulo 2**32).
    """
    return int(x) & U32_MAX


def i32(x: int) -> int:
    """`static_cast<int32_t>(static_cast<uint32_t>(x))`: reinterpret the low 32 bits as two's complement.

    Used where tt-metal assigns a uint32_t expression to an `int32_t`/`int` (e.g. the ceil-mode pad
    ``int32_t ceil_pad = <uint32 expression>``); since C++20 this conversion is defined as modular.
    """
    v = u32(x)
    return v - U32_MOD if v >= (1 << 31) else v


def _round_int_to_f32_exact(x: int) -> int:
    """Round an arbitrary integer to the nearest binary32-representable integer (ties to even)."""
    neg = x < 0
    a = -x if neg else x
    n = a.bit_length()
    if n <= _F32_MANT_BITS:
        return x
    shift = n - _F32_MANT_BITS
    q, r = divmod(a, 1 << shift)
    half = 1 << (shift - 1)
    if r > half or (r == half and (q & 1)):
        q += 1
    a = q << shift
    return -a if neg else a


def f32(x: float | int) -> float:
    """`static_cast<float>(x)`: round to the nearest IEEE binary32 value (ties to even).

    For a Python int (a C++ integer operand promoted to float, e.g. ``(float)uint32_value``) the
    rounding is done exactly on the integer, so there is no double rounding through binary64.
    For a Python float it is the C++ ``double -> float`` conversion; because a binary64 result of
    one `+ - * /` on two binary32 operands rounded once more to binary32 equals the correctly
    rounded binary32 result (53 >= 2*24 + 2), ``f32(a op b)`` with binary32 ``a, b`` mirrors the
    C++ `float op float` exactly.  inf and nan pass through.
    """
    if isinstance(x, bool):
        x = int(x)
    if isinstance(x, int):
        x = float(_round_int_to_f32_exact(x))
    return _F32.unpack(_F32.pack(x))[0]


def f32_add(a: float | int, b: float | int) -> float:
    """`float + float` (both operands converted to float first, result rounded to float)."""
    return f32(f32(a) + f32(b))


def f32_sub(a: float | int, b: float | int) -> float:
    """`float - float` (both operands converted to float first, result rounded to float)."""
    return f32(f32(a) - f32(b))


def f32_mul(a: float | int, b: float | int) -> float:
    """`float * float` (both operands converted to float first, result rounded to float)."""
    return f32(f32(a) * f32(b))


def f32_div(a: float | int, b: float | int) -> float:
    """`float / float` with IEEE semantics: ``x / 0.0`` is ±inf, ``0.0 / 0.0`` is nan (no exception)."""
    fa, fb = f32(a), f32(b)
    if fb == 0.0:
        if fa == 0.0 or math.isnan(fa):
            return math.nan
        return math.copysign(math.inf, fa) * math.copysign(1.0, fb)
    return f32(fa / fb)


def f32_to_u32(x: float) -> int:
    """`static_cast<uint32_t>(float_value)` (also an implicit ``uint32_t v = float_expr;``).

    In range, i.e. for ``-1 < x < 2**32``, C++ defines this as truncation toward zero, and that is
    what this returns.  Out of range the conversion is undefined behaviour in C++; this helper then
    returns what g++/clang emit on x86-64 without AVX-512 (``cvttss2si`` into a 64-bit register,
    keep the low 32 bits): ``trunc(x) mod 2**32`` for ``|x| < 2**63`` and ``0`` for larger
    magnitudes, inf and nan (the "integer indefinite" value 0x8000000000000000 has zero low bits).
    """
    if math.isnan(x) or math.isinf(x) or abs(x) >= 2.0**63:
        return 0
    return u32(math.trunc(x))


def div_up(a: int, b: int) -> int:
    """`tt::div_up(a, b)` with two `uint32_t` operands: ``(a + b - 1) / b`` in uint32 arithmetic.

    ``a + b - 1`` wraps modulo 2**32 before the (integer, truncating) division, exactly as in C++.
    ``b == 0`` is undefined behaviour in C++ and raises ZeroDivisionError here.
    """
    a, b = u32(a), u32(b)
    if b == 0:
        raise ZeroDivisionError("tt::div_up(a, 0)")
    return u32(a + b - 1) // b


def div_up_f32(a: float | int, b: float | int) -> float:
    """`tt::div_up(a, b)` where the common type is `float` (e.g. ``tt::div_up(S0, (float)W)``).

    The template computes ``(a + b - 1) / b`` in ``std::common_type_t<A, B>``; with a float operand
    that is ``fl(fl(fl(a) + fl(b)) - 1) / fl(b)`` rounded to float -- a real quotient, **not** an
    integer ceiling (``div_up_f32(32, 3) == f32(34/3) == 11.333333...``).
    """
    return f32_div(f32_sub(f32_add(a, b), 1), b)


def round_up(a: int, b: int) -> int:
    """`tt::round_up(a, b)` for `uint32_t`: ``b * tt::div_up(a, b)`` in uint32 arithmetic (wraps)."""
    return u32(u32(b) * div_up(a, b))

"""Unit tests for migrator.reference.uint32 (C++ uint32_t / float semantics)."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.reference.uint32 import (
    U32_MAX,
    div_up,
    div_up_f32,
    f32,
    f32_add,
    f32_div,
    f32_mul,
    f32_sub,
    f32_to_u32,
    i32,
    round_up,
    u32,
)

DETERMINISTIC = settings(derandomize=True, max_examples=300, deadline=None, database=None)


# --- u32 / i32: wrap-around ------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, expected",
    [
        (0, 0),
        (1, 1),
        (U32_MAX, U32_MAX),
        (U32_MAX + 1, 0),
        (U32_MAX + 2, 1),
        (-1, U32_MAX),
        (-(2**32), 0),
        (2**40 + 5, 5),
        (3 - 5, 2**32 - 2),  # uint32_t 3u - 5u
        (65536 * 65536, 0),  # uint32_t 65536u * 65536u
    ],
)
def test_u32_wraps_modulo_2_pow_32(x, expected):
    assert u32(x) == expected


@pytest.mark.parametrize(
    "x, expected",
    [(0, 0), (2**31 - 1, 2**31 - 1), (2**31, -(2**31)), (U32_MAX, -1), (-7, -7), (2**32 + 3, 3), (2**32 - 5, -5)],
)
def test_i32_reinterprets_two_complement(x, expected):
    assert i32(x) == expected


@given(st.integers(min_value=-(2**70), max_value=2**70))
@DETERMINISTIC
def test_u32_i32_roundtrip(x):
    assert 0 <= u32(x) <= U32_MAX
    assert -(2**31) <= i32(x) < 2**31
    assert u32(i32(x)) == u32(x)
    assert (x - i32(x)) % 2**32 == 0


# --- f32: IEEE binary32 rounding -------------------------------------------------------------


def test_f32_exact_small_integers_and_rounding_above_2_pow_24():
    assert f32(16777216) == 16777216.0
    assert f32(16777217) == 16777216.0  # tie -> even
    assert f32(16777218) == 16777218.0
    assert f32(16777219) == 16777220.0  # tie -> even (…220 has even significand)
    assert f32(2**32 - 1) == 2.0**32
    assert f32(2**32 - 129) == 4294967040.0  # below the tie: rounds down
    assert f32(2**32 - 128) == 2.0**32  # tie between 4294967040 and 2**32 -> even (2**32)


def test_f32_of_double():
    assert f32(0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert f32(0.1) != 0.1
    assert f32(1.0 / 3.0) == 0.3333333432674408
    assert math.isinf(f32(math.inf)) and math.isnan(f32(math.nan))


def test_f32_int_rounding_has_no_double_rounding():
    # 2**54 + 2**30 + 1: rounding to double first gives 2**54 + 2**30 (a float32 tie -> even = 2**54);
    # the correctly rounded float32 value is 2**54 + 2**31.
    x = 2**54 + 2**30 + 1
    assert f32(x) == float(2**54 + 2**31)


@given(st.integers(min_value=0, max_value=2**32))
@DETERMINISTIC
def test_f32_int_matches_struct_for_uint32_range(x):
    # Every uint32 is exact in binary64, so struct's double->float rounding is a single rounding.
    assert f32(x) == struct.unpack("<f", struct.pack("<f", float(x)))[0]


def test_f32_arithmetic_rounds_each_step():
    third = f32_div(1, 3)
    assert third == f32(1 / 3)
    assert f32_mul(third, 3) == 1.0
    assert f32_add(16777216, 1) == 16777216.0  # 2**24 + 1 is not representable
    assert f32_sub(f32_add(16777216, 2), 1) == 16777216.0  # (2**24 + 2) - 1 rounds to even
    assert f32_div(32, 3) == f32(32 / 3)


def test_f32_div_by_zero_is_ieee():
    assert f32_div(5, 0) == math.inf
    assert f32_div(-5, 0) == -math.inf
    assert math.isnan(f32_div(0, 0))


# --- f32_to_u32: truncation toward zero ------------------------------------------------------


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 0),
        (0.99999, 0),
        (1.0, 1),
        (11.999999, 11),
        (-0.75, 0),  # truncation toward zero, in range (> -1)
        (4294967040.0, 4294967040),  # largest float32 below 2**32
        (16777217.0, 16777217),
    ],
)
def test_f32_to_u32_truncates_toward_zero(x, expected):
    assert f32_to_u32(x) == expected


def test_f32_to_u32_out_of_range_follows_x86_64_codegen():
    assert f32_to_u32(2.0**32) == 0  # cvttss2si to 64-bit, low 32 bits
    assert f32_to_u32(2.0**32 + 2.0**10) == 2**10
    assert f32_to_u32(-2.0) == 2**32 - 2
    assert f32_to_u32(2.0**63) == 0
    assert f32_to_u32(math.inf) == 0
    assert f32_to_u32(math.nan) == 0


# --- div_up / round_up -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [(0, 1, 0), (1, 1, 1), (31, 32, 1), (32, 32, 1), (33, 32, 2), (6400, 64, 100), (U32_MAX, 1, U32_MAX)],
)
def test_div_up_is_integer_ceiling_in_range(a, b, expected):
    assert div_up(a, b) == expected


def test_div_up_wraps_like_uint32():
    # (a + b - 1) wraps before dividing: (2**32 - 1 + 32 - 1) mod 2**32 = 30 -> 30 / 32 = 0
    assert div_up(U32_MAX, 32) == 0
    with pytest.raises(ZeroDivisionError):
        div_up(5, 0)


def test_div_up_f32_is_not_an_integer_ceiling():
    assert div_up_f32(32, 3.0) == f32(34 / 3)
    assert div_up_f32(32, 3.0) != 11.0
    assert div_up_f32(6400, 80.0) == f32(6479 / 80)


@pytest.mark.parametrize(
    "a, b, expected",
    [(6400, 64 * 32, 8192), (3136, 2048, 4096), (1, 32, 32), (0, 32, 0), (64, 32, 64), (2**32 - 10, 32, 0)],
)
def test_round_up(a, b, expected):
    assert round_up(a, b) == expected


@given(st.integers(min_value=0, max_value=2**31), st.integers(min_value=1, max_value=2**16))
@DETERMINISTIC
def test_div_up_round_up_match_math_when_no_wrap(a, b):
    assert div_up(a, b) == -(-a // b)
    assert round_up(a, b) == b * (-(-a // b)) % 2**32

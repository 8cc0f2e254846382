"""Closed form == literal port (hypothesis), and the facts document's §12 table.

The literal port (:mod:`migrator.reference.sliding_window`) materialises the op trace and walks
every core like the C++; the closed form (:mod:`migrator.reference.closed_form`, the public API)
evaluates the trace only at shard ends.  They must agree on every boundary of every core.
Hypothesis runs derandomized so CI is deterministic.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.reference import (
    SlidingWindowConfig,
    estimate_halo_output_elems,
    max_out_nsticks_per_core,
    precise_halo_output_elems,
    shard_boundaries_closed_form,
)
from migrator.reference import closed_form as cf
from migrator.reference import sliding_window as sw
from migrator.reference.uint32 import u32

PROPERTY_SETTINGS = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FEATURE_SETTINGS = PROPERTY_SETTINGS

FEATURES = (
    "batch>1",
    "stride>kernel",
    "dilation>1",
    "asymmetric_padding",
    "cores>output_rows",
    "snap_on",
    "snap_off",
    "transposed",
    "ceil_mode",
)
MAX_L = 4000  # keep the literal port cheap


@st.composite
def configs(draw, feature: str | None = None) -> SlidingWindowConfig:
    transposed = feature == "transposed" or (feature is None and draw(st.booleans()))
    ceil_mode = feature == "ceil_mode" or (not transposed and feature is None and draw(st.integers(0, 3)) == 0)
    batch = draw(st.integers(2, 4) if feature == "batch>1" else st.integers(1, 3))
    window = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    if feature == "stride>kernel":
        stride = (window[0] + draw(st.integers(1, 6)), window[1] + draw(st.integers(0, 6)))
    else:
        stride = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    if feature == "dilation>1":
        dilation = (draw(st.integers(2, 4)), draw(st.integers(1, 4)))
    else:
        dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    output_pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2))) if transposed else (0, 0)

    asymmetric = feature == "asymmetric_padding"
    dims, pads = [], []
    for axis in (0, 1):
        extent = dilation[axis] * (window[axis] - 1) + 1  # dilated window
        if transposed:
            size = draw(st.integers(2 if asymmetric else 1, 12))
            # keep O = (size-1)*s - P + d(k-1) + op + 1 >= 1 (no uint32 wrap of the output size)
            room = (size - 1) * stride[axis] + dilation[axis] * (window[axis] - 1) + output_pad[axis]
            lo = draw(st.integers(0, min(6, room)))
            hi = draw(st.integers(0, min(6, room - lo)))
        else:
            lo, hi = draw(st.integers(0, 6)), draw(st.integers(0, 6))
        if asymmetric and axis == 0 and lo == hi:
            hi = hi - 1 if hi > 0 else 1  # transposed: room >= 1 because size >= 2
        if not transposed:
            # keep the dilated window inside the padded input (no uint32 wrap of the output size)
            size = draw(st.integers(max(1, extent - lo - hi), max(1, extent - lo - hi) + 40))
        dims.append(size)
        pads.append((lo, hi))
    padding = (pads[0][0], pads[0][1], pads[1][0], pads[1][1])

    snap = {"snap_on": True, "snap_off": False}.get(feature, None)
    if snap is None:
        snap = draw(st.booleans())
    config = SlidingWindowConfig(
        batch_size=batch,
        input_hw=(dims[0], dims[1]),
        window_hw=window,
        stride_hw=stride,
        padding=padding,
        output_pad_hw=output_pad,
        dilation_hw=dilation,
        num_cores_nhw=1,
        snap_to_tile=snap,
        is_transpose=transposed,
        ceil_mode=ceil_mode,
    )
    n, out_h, out_w, _ = sw.get_output_shape(config)
    length = n * out_h * out_w
    if feature == "cores>output_rows":
        cores = draw(st.integers(out_h + 1, max(out_h + 1, length) + 64))
    else:
        cores = draw(st.integers(1, 96))
    return SlidingWindowConfig(**{**config.__dict__, "num_cores_nhw": cores})


def literal_boundaries(config: SlidingWindowConfig, rule: str = "current"):
    trace = sw.generate_op_trace_metadata(config, ceil_pad_rule=rule)
    return trace, sw.generate_shard_boundaries(config, trace, ceil_pad_rule=rule)


def check_closed_form_equals_literal(config: SlidingWindowConfig, s1: int) -> None:
    n, out_h, out_w, _ = sw.get_output_shape(config)
    length = n * out_h * out_w
    assert 0 < length < 2**32
    if length > MAX_L:
        config = SlidingWindowConfig(**{**config.__dict__, "batch_size": 1})
    rules = ("current", "before_a3d7cd05fb") if config.ceil_mode else ("current",)
    for rule in rules:
        trace, boundaries = literal_boundaries(config, rule)
        closed_trace = cf.op_trace(config, ceil_pad_rule=rule)
        assert len(closed_trace) == len(trace)
        assert [closed_trace[q] for q in range(len(trace))] == trace
        assert shard_boundaries_closed_form(config, ceil_pad_rule=rule) == boundaries
        literal_max = sw.generate_max_out_nsticks_per_core(boundaries)
        assert max_out_nsticks_per_core(config, ceil_pad_rule=rule) == literal_max
        assert precise_halo_output_elems(config, (123, s1), ceil_pad_rule=rule) == u32(literal_max * s1)
        assert sw.calculate_precise_halo_output_elems(config, (0, s1), ceil_pad_rule=rule) == u32(literal_max * s1)
        # Structure: one boundary per core, contiguous inclusive output ranges.
        assert len(boundaries) == config.num_cores_nhw
        assert boundaries[0].output_range.start == 0
        for prev, nxt in zip(boundaries, boundaries[1:]):
            assert nxt.output_range.start == u32(prev.output_range.end + 1) or nxt.output_range.start == len(trace)


@given(configs(), st.sampled_from([1, 16, 32, 320, 2**20]))
@PROPERTY_SETTINGS
def test_closed_form_equals_literal(config, s1):
    check_closed_form_equals_literal(config, s1)


@pytest.mark.parametrize("feature", FEATURES)
@given(data=st.data())
@FEATURE_SETTINGS
def test_closed_form_equals_literal_per_feature(feature, data):
    config = data.draw(configs(feature))
    n, out_h, out_w, _ = sw.get_output_shape(config)
    if feature == "batch>1":
        assert config.batch_size > 1
    elif feature == "stride>kernel":
        assert config.stride_hw[0] > config.window_hw[0]
    elif feature == "dilation>1":
        assert config.dilation_hw[0] > 1
    elif feature == "asymmetric_padding":
        assert config.padding[0] != config.padding[1]
    elif feature == "cores>output_rows":
        assert config.num_cores_nhw > out_h
    elif feature in ("snap_on", "snap_off"):
        assert config.snap_to_tile == (feature == "snap_on")
    elif feature == "transposed":
        assert config.is_transpose
    elif feature == "ceil_mode":
        assert config.ceil_mode
    check_closed_form_equals_literal(config, data.draw(st.sampled_from([32, 64])))


def test_trailing_cores_and_single_output_special_case():
    # facts §12 row 6: L = 1; core 0 -> (0,0)/(0,8); cores 1-3 -> (1,0)/(1,0) (empty).
    config = SlidingWindowConfig(batch_size=1, input_hw=(3, 3), window_hw=(3, 3), num_cores_nhw=4, snap_to_tile=True)
    expected = [sw.ShardBoundary(sw.Range(0, 0), sw.Range(0, 8))] + [
        sw.ShardBoundary(sw.Range(1, 0), sw.Range(1, 0))
    ] * 3
    assert literal_boundaries(config)[1] == expected
    assert shard_boundaries_closed_form(config) == expected
    assert str(expected[1]) == "[output_shard=(1, 0), input_shard=(1, 0)]"


def test_empty_trace_raises_value_error():
    # Transposed with O_h = (1-1)*1 - 1 + 0 + 0 + 1 = 0: the C++ reads op_trace_metadata[2**32 - 1].
    config = SlidingWindowConfig(batch_size=1, input_hw=(1, 4), padding=(1, 0, 0, 0), is_transpose=True)
    assert sw.get_output_shape(config)[1] == 0
    with pytest.raises(ValueError, match="empty op_trace_metadata"):
        sw.generate_shard_boundaries(config, sw.generate_op_trace_metadata(config))
    with pytest.raises(ValueError, match="empty op_trace_metadata"):
        max_out_nsticks_per_core(config)
    with pytest.raises(ValueError, match="empty op_trace_metadata"):
        shard_boundaries_closed_form(config)


def test_tt_fatal_and_bad_arguments_raise_value_error():
    with pytest.raises(ValueError):
        sw.get_output_shape(SlidingWindowConfig(batch_size=1, input_hw=(4, 4), is_transpose=True, ceil_mode=True))
    with pytest.raises(ValueError):
        sw.get_output_shard_y(SlidingWindowConfig(batch_size=1, input_hw=(4, 4), num_cores_nhw=0))
    with pytest.raises(ValueError):
        max_out_nsticks_per_core(SlidingWindowConfig(batch_size=1, input_hw=(4, 4)), ceil_pad_rule="nope")
    with pytest.raises(ValueError):
        estimate_halo_output_elems((32, 32), 1, 4, 4, (3, 3), (1, 1), (1, 1, 1, 1), variant="V4")


def test_closed_form_handles_inputs_too_large_for_the_literal_port():
    # batch 1, 1024x1024, 3x3, stride 1, pad 1, 64 cores: L = 1,048,576; halo = 2*1026 + 2.
    config = SlidingWindowConfig(
        batch_size=1, input_hw=(1024, 1024), window_hw=(3, 3), padding=(1, 1, 1, 1), num_cores_nhw=64, snap_to_tile=True
    )
    # Y = 16384 rows of 1024 sticks -> 16 output rows per core; t[o_e] - t[o_s] = 15*1026 + 1023.
    assert max_out_nsticks_per_core(config) == 15 * 1026 + 1023 + 2 * 1026 + 2 + 1


WRAPPING = [
    # H_p * W_p = 2**32: every batch's trace entry wraps to 0 -> the "input start 0" special case
    # fires for cores 1 and 2 (input range (1, 0), empty).
    SlidingWindowConfig(batch_size=3, input_hw=(65536, 65536), stride_hw=(65536, 65536), num_cores_nhw=3),
    # H_p * W_p = 2**32 + 65536: wraps to a small non-zero offset.
    SlidingWindowConfig(batch_size=4, input_hw=(65536, 65537), stride_hw=(40000, 40000), num_cores_nhw=3),
    # i * s_h * W_p wraps inside one image; halo = (K_h - 1) * W_p + K_w - 1 wraps too.
    SlidingWindowConfig(
        batch_size=1, input_hw=(3_000_000, 3_000), window_hw=(3000, 3), stride_hw=(600_000, 1000), num_cores_nhw=5
    ),
    # Transposed, snap on, more cores than sticks.
    SlidingWindowConfig(
        batch_size=2, input_hw=(1, 700), window_hw=(1, 1), is_transpose=True, num_cores_nhw=7000, snap_to_tile=True
    ),
]


@pytest.mark.parametrize("config", WRAPPING, ids=[f"wrap{i}" for i in range(len(WRAPPING))])
def test_uint32_wraparound_closed_form_equals_literal(config):
    check_closed_form_equals_literal(config, 32)


def test_uint32_wraparound_special_case_boundaries():
    config = WRAPPING[0]
    assert sw.generate_op_trace_metadata(config) == [0, 0, 0]
    expected = [
        sw.ShardBoundary(sw.Range(0, 0), sw.Range(0, 0)),
        sw.ShardBoundary(sw.Range(1, 1), sw.Range(1, 0)),
        sw.ShardBoundary(sw.Range(2, 2), sw.Range(1, 0)),
    ]
    assert literal_boundaries(config)[1] == expected == shard_boundaries_closed_form(config)
    assert max_out_nsticks_per_core(config) == 1


# --- facts §12 table, rows 1-13 ------------------------------------------------------------------
# N, (H, W), k, s, pad [t,b,l,r], d, C, snap, S, mode, O, Y, max, precise, V1, V2, V3
TABLE_12 = [
    (1, (80, 80), (3, 3), (16, 16), (0, 0, 0, 0), (1, 1), 1, True, (6400, 320), "-", (5, 5), 32, 5347, 1711040, 2099200, 2099200, 2124480),
    (1, (56, 56), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 64, True, (64, 64), "-", (56, 56), 64, 184, 11776, 11136, 11648, 15296),
    (1, (56, 56), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 49, True, (64, 64), "-", (28, 28), 32, 241, 15424, 11136, 11648, 15296),
    (2, (28, 28), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 49, True, (32, 128), "-", (28, 28), 32, 156, 19968, 19200, 19712, 19200),
    (1, (64, 64), (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 8, True, (512, 160), "-", (64, 64), 512, 816, 130560, 141440, 141440, 152000),
    (1, (3, 3), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 4, True, (32, 32), "-", (1, 1), 32, 9, 288, 1152, 1216, 1280),
    (1, (10, 10), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8, False, (32, 32), "-", (10, 10), 13, 43, 1376, 1920, 1984, 2336),
    (1, (7, 7), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), 2, False, (32, 32), "ceil", (4, 4), 8, 32, 1024, 1120, 1248, 1440),
    (1, (6, 27), (4, 4), (2, 2), (1, 1, 1, 1), (1, 1), 30, True, (32, 32), "transpose", (12, 54), 32, 209, 6688, 3712, 3872, 4768),
    (1, (115, 115), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 64, True, (224, 16), "-", (58, 58), 64, 1111, 17776, 13552, 15376, 17296),
    (1, (56, 56), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 25, True, (128, 64), "-", (28, 28), 32, 241, 15424, 14848, 15872, 19520),
    (1, (224, 224), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 56, True, (896, 16), "-", (112, 112), 224, 2069, 33104, 36800, 36800, 40448),
    (4, (32, 32), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 16, True, (256, 64), "-", (32, 32), 256, 340, 21760, 26112, 26112, 26112),
]  # fmt: skip


@pytest.mark.parametrize("row", TABLE_12, ids=[f"row{i}" for i in range(1, len(TABLE_12) + 1)])
def test_facts_table_12(row):
    n, hw, k, s, pad, d, cores, snap, shard, mode, out, shard_y, max_out, precise, v1, v2, v3 = row
    config = SlidingWindowConfig(
        batch_size=n,
        input_hw=hw,
        window_hw=k,
        stride_hw=s,
        padding=pad,
        dilation_hw=d,
        num_cores_nhw=cores,
        snap_to_tile=snap,
        is_transpose=mode == "transpose",
        ceil_mode=mode == "ceil",
    )
    assert tuple(sw.get_output_shape(config)[1:3]) == out
    assert sw.get_output_shard_y(config, snap) == shard_y
    assert shard[0] == u32(-(-n * hw[0] * hw[1] // (cores * 32)) * cores * 32) // cores  # S0 rule of §12
    assert max_out_nsticks_per_core(config) == max_out
    assert precise_halo_output_elems(config, shard) == precise
    assert sw.generate_max_out_nsticks_per_core(literal_boundaries(config)[1]) == max_out
    assert sw.calculate_precise_halo_output_elems(config, shard) == precise
    got = [estimate_halo_output_elems(shard, n, hw[0], hw[1], k, d, pad, variant=v) for v in ("V1", "V2", "V3")]
    assert got == [v1, v2, v3]

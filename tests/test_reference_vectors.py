"""The reference model against the compiled C++ (tests/data/halo_vectors.jsonl.xz): 0 mismatches.

The vectors are committed compressed so every clone runs this check; `../shared/data/halo_vectors.jsonl`
is only an optional extra, and when it is present it must be byte-for-byte the committed file.

Every line carries a SlidingWindowConfig, a shard shape and the exact outputs of the compiled
tt-metal functions.  The closed form (public API) is checked on every line; the literal port is
checked on every line whose op trace is small enough (L = N*O_h*O_w <= LITERAL_MAX_L) to keep CI
fast.  Mismatches are reported as lists of vector ids.
"""

from __future__ import annotations

import hashlib
import json
import lzma
from pathlib import Path
from typing import Dict, List

import pytest

from migrator.reference import (
    VARIANTS,
    SlidingWindowConfig,
    estimate_halo_output_elems,
    max_out_nsticks_per_core,
    precise_halo_output_elems,
)
from migrator.reference import sliding_window as sw
from migrator.reference.uint32 import u32

VECTORS = Path(__file__).resolve().parent / "data" / "halo_vectors.jsonl.xz"
SHARED_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "data" / "halo_vectors.jsonl"
VECTORS_SHA256 = "f932cf7d5e02dd18c8c1358c5a5b677f912efbb25ca5d4320752bacf1518f770"  # of the uncompressed text
EXPECTED_LINES = 18952
LITERAL_MAX_L = 200_000  # literal port: materialises L trace entries per config
# calculate_precise_halo_output_elems recomputes trace and boundaries: a smaller subset, bounded by the work
# L + num_cores (the literal loop visits every core, trailing ones included).
LITERAL_PRECISE_MAX_WORK = 5_000
OLD_RULE = "before_a3d7cd05fb"


def config_of(vector: dict) -> SlidingWindowConfig:
    return SlidingWindowConfig(
        batch_size=vector["batch_size"],
        input_hw=tuple(vector["input_hw"]),
        window_hw=tuple(vector["window_hw"]),
        stride_hw=tuple(vector["stride_hw"]),
        padding=tuple(vector["padding"]),
        dilation_hw=tuple(vector["dilation_hw"]),
        num_cores_nhw=vector["num_cores_nhw"],
        snap_to_tile=vector["snap_to_tile"],
        is_transpose=vector["is_transpose"],
        ceil_mode=vector["ceil_mode"],
    )


def expected_old_rule(vector: dict) -> int:
    """`precise_elems_before_a3d7cd05fb` is only present where it differs from `precise_elems`."""
    return vector["expected"].get("precise_elems_before_a3d7cd05fb", vector["expected"]["precise_elems"])


def trace_len(config: SlidingWindowConfig) -> int:
    n, out_h, out_w, _ = sw.get_output_shape(config)
    return n * out_h * out_w


@pytest.fixture(scope="module")
def raw_vectors() -> bytes:
    return lzma.decompress(VECTORS.read_bytes())


@pytest.fixture(scope="module")
def vectors(raw_vectors) -> List[dict]:
    return [json.loads(line) for line in raw_vectors.decode("utf-8").splitlines() if line.strip()]


def test_committed_vectors_are_the_compiled_ones(raw_vectors):
    assert hashlib.sha256(raw_vectors).hexdigest() == VECTORS_SHA256
    if SHARED_VECTORS.is_file():  # optional: the shared copy, where one is laid beside the repo
        assert SHARED_VECTORS.read_bytes() == raw_vectors


def _assert_no_mismatches(mismatches: Dict[str, List[str]], checked: int, what: str) -> None:
    bad = {field: ids for field, ids in mismatches.items() if ids}
    summary = {
        field: f"{len(ids)} mismatches, ids: {ids[:40]}{' ...' if len(ids) > 40 else ''}" for field, ids in bad.items()
    }
    assert not bad, f"{what}: mismatches on {checked} vectors: {summary}"


def test_vector_file_is_complete(vectors):
    assert len(vectors) == EXPECTED_LINES
    assert len({v["id"] for v in vectors}) == EXPECTED_LINES


def test_closed_form_and_estimates_match_every_vector(vectors, record_property):
    mismatches: Dict[str, List[str]] = {f: [] for f in ("max_out_nsticks", "precise_elems", *VARIANTS, OLD_RULE)}
    old_rule_checked = 0
    for vector in vectors:
        config, shard_shape, expected = config_of(vector), vector["shard_shape"], vector["expected"]
        vid = vector["id"]
        if max_out_nsticks_per_core(config) != expected["max_out_nsticks"]:
            mismatches["max_out_nsticks"].append(vid)
        if precise_halo_output_elems(config, shard_shape) != expected["precise_elems"]:
            mismatches["precise_elems"].append(vid)
        for variant in VARIANTS:
            got = estimate_halo_output_elems(
                shard_shape,
                vector["batch_size"],
                vector["input_hw"][0],
                vector["input_hw"][1],
                vector["window_hw"],
                vector["dilation_hw"],
                vector["padding"],
                variant=variant,
            )
            if got != expected["estimate_elems"][variant]:
                mismatches[variant].append(vid)
        if vector["ceil_mode"]:  # the old ceil-pad rule only differs in ceil mode
            old_rule_checked += 1
            if precise_halo_output_elems(config, shard_shape, ceil_pad_rule=OLD_RULE) != expected_old_rule(vector):
                mismatches[OLD_RULE].append(vid)
    record_property("closed_form_vectors", len(vectors))
    record_property("old_ceil_rule_vectors", old_rule_checked)
    _assert_no_mismatches(mismatches, len(vectors), "closed form / estimate")
    assert old_rule_checked > 0


def test_literal_port_matches_vectors(vectors, record_property, capsys):
    mismatches: Dict[str, List[str]] = {f: [] for f in ("max_out_nsticks", "precise_elems", OLD_RULE)}
    covered = 0
    for vector in vectors:
        config = config_of(vector)
        if trace_len(config) > LITERAL_MAX_L:
            continue
        covered += 1
        expected, s1 = vector["expected"], vector["shard_shape"][1]
        op_trace_metadata = sw.generate_op_trace_metadata(config)
        boundaries = sw.generate_shard_boundaries(config, op_trace_metadata)
        assert len(boundaries) == config.num_cores_nhw
        max_out = sw.generate_max_out_nsticks_per_core(boundaries)
        if max_out != expected["max_out_nsticks"]:
            mismatches["max_out_nsticks"].append(vector["id"])
        # calculate_precise_halo_output_elems == u32(max * S1); checked via the function itself below.
        if u32(max_out * s1) != expected["precise_elems"]:
            mismatches["precise_elems"].append(vector["id"])
        if vector["ceil_mode"]:
            trace_old = sw.generate_op_trace_metadata(config, ceil_pad_rule=OLD_RULE)
            boundaries_old = sw.generate_shard_boundaries(config, trace_old, ceil_pad_rule=OLD_RULE)
            if u32(sw.generate_max_out_nsticks_per_core(boundaries_old) * s1) != expected_old_rule(vector):
                mismatches[OLD_RULE].append(vector["id"])
    record_property("literal_vectors", covered)
    with capsys.disabled():
        print(f"\n[literal port covered {covered} of {len(vectors)} vectors (L <= {LITERAL_MAX_L})]")
    _assert_no_mismatches(mismatches, covered, "literal port")
    assert covered > 0.9 * len(vectors)


def test_literal_calculate_precise_halo_output_elems(vectors, record_property):
    mismatches: Dict[str, List[str]] = {"precise_elems": [], OLD_RULE: []}
    covered = 0
    for vector in vectors:
        config = config_of(vector)
        if trace_len(config) + config.num_cores_nhw > LITERAL_PRECISE_MAX_WORK:
            continue
        covered += 1
        if sw.calculate_precise_halo_output_elems(config, vector["shard_shape"]) != vector["expected"]["precise_elems"]:
            mismatches["precise_elems"].append(vector["id"])
        if vector["ceil_mode"]:
            got = sw.calculate_precise_halo_output_elems(config, vector["shard_shape"], ceil_pad_rule=OLD_RULE)
            if got != expected_old_rule(vector):
                mismatches[OLD_RULE].append(vector["id"])
    record_property("literal_precise_vectors", covered)
    _assert_no_mismatches(mismatches, covered, "literal calculate_precise_halo_output_elems")
    assert covered > 0

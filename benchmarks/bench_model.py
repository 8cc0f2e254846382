"""Throughput of the literal sliding-window port vs the O(num_cores) closed form.

Run as ``python benchmarks/bench_model.py`` from the repo root (or anywhere: the repo root is put on
sys.path).  Reads the committed tests/data/halo_vectors.jsonl.xz.  Prints timings
only; nothing is asserted.
"""

from __future__ import annotations

import json
import lzma
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from migrator.reference import SlidingWindowConfig, max_out_nsticks_per_core  # noqa: E402
from migrator.reference import sliding_window as sw  # noqa: E402

VECTORS = REPO_ROOT / "tests" / "data" / "halo_vectors.jsonl.xz"
LITERAL_MAX_L = 200_000


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


def literal_max(config: SlidingWindowConfig) -> int:
    trace = sw.generate_op_trace_metadata(config)
    return sw.generate_max_out_nsticks_per_core(sw.generate_shard_boundaries(config, trace))


def timed(fn, configs) -> tuple[float, list[int]]:
    start = time.perf_counter()
    results = [fn(c) for c in configs]
    return time.perf_counter() - start, results


def bench_vectors() -> None:
    if not VECTORS.is_file():
        print(f"vectors not found at {VECTORS}; skipping the vector benchmark")
        return
    text = lzma.decompress(VECTORS.read_bytes()).decode("utf-8")
    configs = [config_of(json.loads(line)) for line in text.splitlines() if line.strip()]

    def trace_len(c: SlidingWindowConfig) -> int:
        n, out_h, out_w, _ = sw.get_output_shape(c)
        return n * out_h * out_w

    feasible = [c for c in configs if trace_len(c) <= LITERAL_MAX_L]
    print(f"halo_vectors.jsonl: {len(configs)} configs, literal feasible (L <= {LITERAL_MAX_L}): {len(feasible)}")

    t_literal, r_literal = timed(literal_max, feasible)
    t_closed, r_closed = timed(max_out_nsticks_per_core, feasible)
    t_closed_all, _ = timed(max_out_nsticks_per_core, configs)
    agree = sum(a == b for a, b in zip(r_literal, r_closed))
    print(f"  literal     : {t_literal:8.3f} s  {len(feasible) / t_literal:12.1f} configs/s")
    print(f"  closed form : {t_closed:8.3f} s  {len(feasible) / t_closed:12.1f} configs/s")
    print(f"  closed form, all {len(configs)} lines: {t_closed_all:.3f} s  {len(configs) / t_closed_all:.1f} configs/s")
    print(f"  speed ratio closed/literal: {t_literal / t_closed:.1f}x   (results agree on {agree}/{len(feasible)})")


def bench_large() -> None:
    config = SlidingWindowConfig(
        batch_size=1,
        input_hw=(1024, 1024),
        window_hw=(3, 3),
        stride_hw=(1, 1),
        padding=(1, 1, 1, 1),
        num_cores_nhw=64,
        snap_to_tile=True,
    )
    print("large input: batch 1, 1024x1024, 3x3, stride 1, pad 1, 64 cores (L = 1,048,576)")
    t_literal, (r_literal,) = timed(literal_max, [config])
    repeats = 2000
    t_closed, results = timed(max_out_nsticks_per_core, [config] * repeats)
    t_closed /= repeats
    print(f"  literal     : {t_literal * 1e3:10.3f} ms/config  ({1 / t_literal:10.2f} configs/s)")
    print(f"  closed form : {t_closed * 1e3:10.3f} ms/config  ({1 / t_closed:10.1f} configs/s)")
    print(f"  speed ratio closed/literal: {t_literal / t_closed:.0f}x   (max_out_nsticks {r_literal} == {results[0]})")


if __name__ == "__main__":
    bench_vectors()
    bench_large()

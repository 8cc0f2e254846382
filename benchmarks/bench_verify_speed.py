"""Whole-process time of `verify` and `apply --dry-run` on one checkout: the first run ever (nothing
cached), cold (sweep files parsed before, no kept path-check result; one process, then spread over
the CPUs), and warm (the kept result of an identical earlier run), run
side by side in rounds so machine drift hits all of them alike.

    python benchmarks/bench_verify_speed.py CHECKOUT [ROUNDS]

Prints per variant the median and min/max wall seconds, and the ratios to the cold one-process run.
Issue 10's targets on the real 12,500-file tree (2 cores): verify <= 2 s, apply --dry-run <= 4 s.
Copy a real tree first (`cp -a` to /tmp); nothing is written into it."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(argv, env) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "migrator", *argv], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def specs_only(warm_dir: str) -> str:
    """A cache dir holding the parsed sweep files (they change rarely) but no path-check result: a
    new branch or a changed tree on a machine that has run the tool before."""
    d = tempfile.mkdtemp(prefix="halo-bench-cold-")
    shutil.copytree(Path(warm_dir) / "sweep-specs", Path(d) / "sweep-specs")
    return d


def main(argv) -> int:
    if not argv:
        print(__doc__)
        return 2
    root, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 3
    base = {**os.environ, "PYTHONPATH": str(REPO)}
    warm_dir = tempfile.mkdtemp(prefix="halo-bench-warm-")
    commands = {"verify": ["verify", root, "--quiet"], "apply --dry-run": ["apply", root, "--dry-run", "--quiet"]}
    for name, cmd in commands.items():
        run(cmd, {**base, "HALO_MIGRATE_CACHE_DIR": warm_dir})  # fills the warm cache (and the spec cache)
        times = {"first run ever": [], "cold, 1 process": [], "cold, all CPUs": [], "warm": []}
        for _ in range(rounds):
            times["first run ever"].append(run(cmd, {**base, "HALO_MIGRATE_CACHE_DIR": tempfile.mkdtemp()}))
            times["cold, 1 process"].append(run(cmd, {**base, "HALO_MIGRATE_CACHE_DIR": specs_only(warm_dir),
                                                      "HALO_MIGRATE_JOBS": "1"}))
            times["cold, all CPUs"].append(run(cmd, {**base, "HALO_MIGRATE_CACHE_DIR": specs_only(warm_dir)}))
            times["warm"].append(run(cmd, {**base, "HALO_MIGRATE_CACHE_DIR": warm_dir}))
        ref = statistics.median(times["cold, 1 process"])
        print(f"{name} on {root} ({rounds} rounds, {os.cpu_count()} CPUs):")
        for label, ts in times.items():
            med = statistics.median(ts)
            print(f"  {label:18s} median {med:6.2f} s  (min {min(ts):.2f}, max {max(ts):.2f})  "
                  f"ratio to cold/1 process {med / ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`halo-migrate check` on a large tree, side by side with `git grep -l estimate_halo_output_elems`.

    python benchmarks/bench_scan.py [TREE]

TREE defaults to a generated git tree of 12,500 files (the rev-7136 fixture plus filler C++ that
never mentions the estimate); pass a real tt-metal checkout to measure that instead. Prints the
median of 5 runs of each and their ratio (target: check ≤ 3× git grep)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILLER = """// generated filler for the scan benchmark
#include <cstdint>
namespace filler_{i} {{
struct Thing{i} {{ uint32_t a = {i}; uint32_t b = 0; }};
uint32_t compute_{i}(const Thing{i}& t, uint32_t k) {{
    uint32_t acc = 0;
    for (uint32_t j = 0; j < k; ++j) {{ acc += t.a * j + t.b; }}
    return acc;
}}
}}  // namespace filler_{i}
"""


def generated_tree(base: Path, files: int = 12_500) -> Path:
    root = base / "tree"
    shutil.copytree(REPO / "fixtures" / "rev-7136" / "before", root)
    for i in range(files - sum(1 for _ in root.rglob("*") if _.is_file())):
        d = root / "tt_metal" / f"mod{i % 97}" / f"sub{i % 13}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file_{i}.cpp" if i % 3 else d / f"file_{i}.hpp").write_text(FILLER.format(i=i))
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "-c", "core.hooksPath=/dev/null"]
    subprocess.run(git + ["init", "-q"], cwd=root, check=True)
    subprocess.run(git + ["add", "-A"], cwd=root, check=True)
    subprocess.run(git + ["commit", "-qm", "bench"], cwd=root, check=True)
    return root


def timed(cmd, cwd=None, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(argv[0]) if argv else generated_tree(Path(tmp))
        nfiles = int(subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.count("\n"))
        subprocess.run(["git", "grep", "-l", "x"], cwd=root, capture_output=True)  # warm the page cache
        grep = timed(["git", "grep", "-l", "estimate_halo_output_elems"], cwd=root)
        check = timed([sys.executable, "-m", "migrator", "check", str(root)], cwd=REPO)
        startup = timed([sys.executable, "-c", "pass"])
        print(f"tree: {root} ({nfiles} files)")
        print(f"git grep -l           : {grep * 1000:7.1f} ms")
        print(f"halo-migrate check    : {check * 1000:7.1f} ms  (python startup alone {startup * 1000:.1f} ms)")
        print(f"ratio check / git grep: {check / grep:5.2f}x  (target <= 3x)")


if __name__ == "__main__":
    main(sys.argv[1:])

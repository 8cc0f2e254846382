"""Plan the migration at every revision of a local tt-metal mirror that touched conv2d_utils.cpp.

    python benchmarks/all_revisions.py /path/to/tt-metal.git REV_RANGE [--every-input] [-j N]

--every-input takes every revision that changed anything the tool reads (the conv, sliding-window and
pool C++, the conv2d sweep specs), not only conv2d_utils.cpp: the code around the call sites and on
the call paths the numeric check follows differs between them.  -j N runs N revisions at a time.

Each revision's ttnn/cpp and tests/sweep_framework are exported (`git archive`) to a temp dir and
committed there; then `check`, `apply --patch` and `git apply --check` run on it. Nothing from the
mirror is kept."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATH = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
EVERY_INPUT = ["ttnn/cpp/ttnn/operations/conv", "ttnn/cpp/ttnn/operations/sliding_window", "ttnn/cpp/ttnn/operations/pool",
               "tests/sweep_framework/sweeps/conv2d"]
GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "-c", "core.hooksPath=/dev/null"]


def main(mirror: str, rev_range: str, every_input: bool = False, jobs: int = 1) -> None:
    paths = EVERY_INPUT if every_input else [PATH]
    revs = subprocess.run(["git", "--git-dir", mirror, "log", "--format=%h %ad", "--date=short", rev_range, "--", *paths],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    with ThreadPoolExecutor(jobs) as pool:
        for out in pool.map(lambda line: one(mirror, line), filter(None, revs)):
            print(out, flush=True)


def one(mirror: str, line: str) -> str:
    rev, date = line.split()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "t"
        root.mkdir()
        archive = subprocess.run(["git", "--git-dir", mirror, "archive", rev, "ttnn/cpp", "tests/sweep_framework",
                                  ".clang-format"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x"], input=archive, cwd=root, check=True)
        subprocess.run(GIT + ["init", "-q"], cwd=root, check=True)
        subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
        subprocess.run(GIT + ["commit", "-qm", rev], cwd=root, check=True)
        t = time.perf_counter()
        check = subprocess.run([sys.executable, "-m", "migrator", "check", str(root), "--format", "json"],
                               capture_output=True, text=True, cwd=REPO)
        patch = Path(tmp) / "p.patch"
        apply = subprocess.run([sys.executable, "-m", "migrator", "apply", str(root), "--patch", str(patch)],
                               capture_output=True, text=True, cwd=REPO)
        dt = time.perf_counter() - t
        ok = subprocess.run(["git", "apply", "--check", str(patch)], cwd=root, capture_output=True).returncode == 0 \
            if patch.exists() else False
        variant = ""
        if check.returncode in (0, 1):
            import json

            d = json.loads(check.stdout)
            variant = f"{d['estimate_variant']}, sites {[s['line'] for s in d['sites']]}, " \
                      f"padding {[s['bindings']['padding']['expr'] for s in d['sites']]}"
        err = (check.stderr or apply.stderr).strip()
        return (f"{rev} {date}: check {check.returncode}, apply {apply.returncode}, git apply --check "
                f"{'ok' if ok else 'FAIL'}, {dt:.1f}s; {variant}{'; ' + err if err else ''}")


if __name__ == "__main__":
    args = sys.argv[1:]
    j = int(args[args.index("-j") + 1]) if "-j" in args else 1
    main(args[0], args[1], "--every-input" in args, j)

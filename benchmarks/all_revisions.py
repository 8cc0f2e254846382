"""Plan the migration at every revision of a local tt-metal mirror that touched conv2d_utils.cpp.

    python benchmarks/all_revisions.py /path/to/tt-metal.git REV_RANGE

Each revision's ttnn/cpp and tests/sweep_framework are exported (`git archive`) to a temp dir and
committed there; then `check`, `apply --patch` and `git apply --check` run on it. Nothing from the
mirror is kept."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATH = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "-c", "core.hooksPath=/dev/null"]


def main(mirror: str, rev_range: str) -> None:
    revs = subprocess.run(["git", "--git-dir", mirror, "log", "--format=%h %ad", "--date=short", rev_range, "--", PATH],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    for line in filter(None, revs):
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
            print(f"{rev} {date}: check {check.returncode}, apply {apply.returncode}, git apply --check "
                  f"{'ok' if ok else 'FAIL'}, {dt:.1f}s; {variant}{'; ' + err if err else ''}")


if __name__ == "__main__":
    main(*sys.argv[1:3])

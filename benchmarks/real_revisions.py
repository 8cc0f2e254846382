"""Run the tool on local tt-metal checkouts (never committed; see README) and print what happened.

    python benchmarks/real_revisions.py /work/ttmetal/7136cb56bb /work/ttmetal/27f36345e8 ...

Per tree: check's exit code and time, then for pending trees: the patch applies with `git apply --check`,
the migrated tree (a temporary worktree of the --branch commit) checks clean (second run is a no-op),
files touched and lines changed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cli(*args):
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "migrator", *map(str, args)], capture_output=True, text=True,
                         cwd=REPO)
    return res.returncode, res.stdout, res.stderr, time.perf_counter() - t


def main(paths):
    for p in map(Path, paths):
        rc, out, err, dt = cli("check", p, "--format", "json")
        print(f"{p.name}: check exit {rc} in {dt:.2f}s" + (f" ({err.strip()})" if rc == 2 else ""))
        if rc != 1:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            patch = Path(tmp) / "x.patch"
            rc, _, err, dt = cli("apply", p, "--patch", patch)
            ok = subprocess.run(["git", "apply", "--check", str(patch)], cwd=p, capture_output=True)
            stat = subprocess.run(["git", "apply", "--numstat", str(patch)], cwd=p, capture_output=True, text=True)
            rows = [r.split("\t") for r in stat.stdout.splitlines()]
            plus, minus = sum(int(r[0]) for r in rows), sum(int(r[1]) for r in rows)
            print(f"  patch: exit {rc} in {dt:.2f}s; git apply --check: {'ok' if ok.returncode == 0 else ok.stderr}"
                  f"; {len(rows)} files, +{plus} -{minus}")
            rc, _, err, dt = cli("apply", p, "--branch", "halo-migrate-test", "--force")
            wt = Path(tmp) / "wt"
            subprocess.run(["git", "worktree", "add", "-q", "-f", str(wt), "halo-migrate-test"], cwd=p, check=True)
            try:
                rc2, out2, err2, dt2 = cli("check", wt)
                print(f"  branch: exit {rc}; second run on the result: check exit {rc2} ({out2.strip().splitlines()[0] if out2 else err2.strip()})")
                g = subprocess.run(["git", "grep", "-n", "estimate_halo_output_elems"], cwd=wt, capture_output=True, text=True)
                d = subprocess.run(["git", "grep", "-c", "calculate_precise_halo_output_elems", "--", "ttnn/cpp/ttnn/operations/sliding_window/"], cwd=wt, capture_output=True, text=True)
                print(f"  references left: {len(g.stdout.splitlines())}; precise in sliding_window: {d.stdout.split()}")
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=p)
                subprocess.run(["git", "branch", "-D", "-q", "halo-migrate-test"], cwd=p)


if __name__ == "__main__":
    main(sys.argv[1:])

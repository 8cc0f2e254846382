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
sys.path.insert(0, str(REPO))


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
            status_before = subprocess.run(["git", "status", "--porcelain"], cwd=p, capture_output=True).stdout
            rc, _, err, dt = cli("apply", p, "--branch", "halo-migrate-test", "--force")
            status_after = subprocess.run(["git", "status", "--porcelain"], cwd=p, capture_output=True).stdout
            print(f"  branch: exit {rc} in {dt:.2f}s; user's git status unchanged: {status_before == status_after}")
            wt = Path(tmp) / "wt"
            subprocess.run(["git", "worktree", "add", "-q", "-f", str(wt), "halo-migrate-test"], cwd=p, check=True)
            am = Path(tmp) / "am"
            subprocess.run(["git", "worktree", "add", "-q", "-f", "--detach", str(am), "HEAD"], cwd=p, check=True)
            try:
                ok_am = subprocess.run(["git", "-c", "user.name=x", "-c", "user.email=x@y", "am", "-q", str(patch)],
                                       cwd=am, capture_output=True, text=True)
                same = (subprocess.run(["git", "rev-parse", "HEAD^{tree}"], cwd=am, capture_output=True, text=True).stdout
                        == subprocess.run(["git", "rev-parse", "halo-migrate-test^{tree}"], cwd=p, capture_output=True,
                                          text=True).stdout)
                print(f"  git am: exit {ok_am.returncode}; tree equals the branch's: {same}")
                print(f"  clang-format --dry-run -Werror on changed lines: {_format_clean(p, wt)}")
                rc2, out2, err2, dt2 = cli("check", wt)
                print(f"  branch: exit {rc}; second run on the result: check exit {rc2} ({out2.strip().splitlines()[0] if out2 else err2.strip()})")
                g = subprocess.run(["git", "grep", "-n", "estimate_halo_output_elems"], cwd=wt, capture_output=True, text=True)
                d = subprocess.run(["git", "grep", "-c", "calculate_precise_halo_output_elems", "--", "ttnn/cpp/ttnn/operations/sliding_window/"], cwd=wt, capture_output=True, text=True)
                print(f"  references left: {len(g.stdout.splitlines())}; precise in sliding_window: {d.stdout.split()}")
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(am)], cwd=p)
                subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=p)
                subprocess.run(["git", "branch", "-D", "-q", "halo-migrate-test"], cwd=p)


def _format_clean(base: Path, wt: Path) -> str:
    from migrator.engine.formatting import changed_line_ranges, clang_format_binary

    exe = clang_format_binary()
    if exe is None:
        return "clang-format not installed"
    files = subprocess.run(["git", "diff", "--name-only", "HEAD", "halo-migrate-test"], cwd=base, capture_output=True,
                           text=True).stdout.split()
    bad = []
    for rel in files:
        old = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=base, capture_output=True).stdout
        new = (wt / rel).read_bytes()
        ranges = changed_line_ranges(old, new)
        if not ranges:
            continue
        args = [exe, "--dry-run", "-Werror", f"--style=file:{wt / '.clang-format'}"]
        res = subprocess.run(args + [f"--lines={a}:{b}" for a, b in ranges] + [str(wt / rel)], capture_output=True)
        if res.returncode:
            bad.append(rel)
    return "clean" if not bad else f"NOT clean: {bad}"


if __name__ == "__main__":
    main(sys.argv[1:])

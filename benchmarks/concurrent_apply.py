"""Two `halo-migrate apply` runs at once on the same tree, N times: is any success a lie?

For each pair a fresh git copy of a fixture is made, run A is started, run B follows after a
seeded random delay (0..--stagger s, so B lands in every phase of A: planning, writing, verifying),
and once both have exited the tree is classified against the tree a single sequential apply gives:

  new   every file migrated        old   nothing changed        half  anything else

A *false success* is a run that exited 0 (it said "migrated N files" or "nothing to do") while the
tree it left is not fully migrated. Prints one tally line (and `--json` prints it as JSON):

    python benchmarks/concurrent_apply.py            # 20 pairs on fixtures/rev-7136
    python benchmarks/concurrent_apply.py --pairs 3 --json

Nothing is asserted here; tests/test_concurrency.py runs a few pairs and asserts the tally.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "core.hooksPath=/dev/null",
       "-c", "commit.gpgsign=false"]


def make_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "before"]):
        subprocess.run(GIT + args, cwd=dst, check=True)
    return dst


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def start(root: Path, flags: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "migrator", "apply", str(root), *flags], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def outcome(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode == 0:
        kind = "migrated" if out.startswith("migrated ") else "nothing to do"
    elif "checkout busy" in err:
        kind = "refused: busy"
    else:
        kind = "error: " + (err.strip().splitlines() or ["?"])[-1][:100]
    return {"rc": proc.returncode, "kind": kind}


def run_pairs(pairs: int, fixture: str, stagger: float, seed: int, flags: list[str]) -> dict:
    src = REPO / "fixtures" / fixture / "before"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rng = random.Random(seed)
    tally: Counter = Counter()
    runs: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="halo-concurrent-") as tmp:
        ref = make_tree(src, Path(tmp) / "reference")
        before = snapshot(ref)
        res = outcome(start(ref, flags, env))
        if res["kind"] != "migrated":
            raise SystemExit(f"the sequential reference apply did not migrate: {res['kind']}")
        after = snapshot(ref)
        started = time.perf_counter()
        for i in range(pairs):
            root = make_tree(src, Path(tmp) / f"pair-{i}")
            a = start(root, flags, env)
            time.sleep(rng.uniform(0, stagger))
            b = start(root, flags, env)
            results = [outcome(a), outcome(b)]
            final = snapshot(root)
            state = "new" if final == after else "old" if final == before else "half"
            tally[f"tree {state}"] += 1
            for r in results:
                runs[r["kind"]] += 1
                if r["rc"] == 0 and state != "new":
                    tally["false success"] += 1
            shutil.rmtree(root, ignore_errors=True)
        elapsed = time.perf_counter() - started
    return {"pairs": pairs, "false_success": tally["false success"], "half_migrated": tally["tree half"],
            "trees": {k[5:]: v for k, v in tally.items() if k.startswith("tree ")}, "runs": dict(runs),
            "seconds": round(elapsed, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--fixture", default="rev-7136")
    ap.add_argument("--stagger", type=float, default=1.0, help="max delay before run B starts (s)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("flags", nargs="*", help="extra apply flags, after `--` (default: --no-format)")
    args = ap.parse_args()
    result = run_pairs(args.pairs, args.fixture, args.stagger, args.seed, args.flags or ["--no-format"])
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        runs = ", ".join(f"{v} {k}" for k, v in sorted(result["runs"].items()))
        trees = ", ".join(f"{v} {k}" for k, v in sorted(result["trees"].items()))
        print(f"{result['pairs']} concurrent apply pairs on fixtures/{args.fixture}: {result['false_success']} false "
              f"successes, {result['half_migrated']} half-migrated trees; trees: {trees}; runs: {runs} "
              f"({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

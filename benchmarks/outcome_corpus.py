"""Grade halo-migrate on the outcome corpus (tests/outcome_corpus.py) and print one row per case and the counts.

    python benchmarks/outcome_corpus.py [--repo PATH] [-j N] [--only ID,ID] [--status FILE]

--repo is the checkout whose `migrator` package is graded (PYTHONPATH=repo); default: this repository.
Grades: correct / safe refusal / safe refusal (gap) / wrong (see tests/outcome_corpus.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))

import outcome_corpus as oc  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=str(HERE), help="checkout whose migrator package is graded")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated case ids")
    ap.add_argument("--status", default="", help="also write the counts and the wrong cases to this file")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    t0 = time.monotonic()
    results = oc.run_corpus(Path(args.repo).resolve(), jobs=args.jobs, only=only)
    wall = time.monotonic() - t0
    w = max(len(c.id) for c, _ in results)
    lines = [f"{'case':<{w}}  {'expect':<7}  {'grade':<18}  reason"]
    for c, g in results:
        lines.append(f"{c.id:<{w}}  {c.expect:<7}  {g.grade:<18}  {g.reason}")
    counts = {k: sum(g.grade == k for _, g in results)
              for k in ("correct", "safe refusal", "safe refusal (gap)", "wrong")}
    summary = (f"{len(results)} cases: {counts['correct']} correct, "
               f"{counts['safe refusal'] + counts['safe refusal (gap)']} safe refusals "
               f"({counts['safe refusal (gap)']} gaps), {counts['wrong']} wrong   "
               f"[repo {args.repo}, {wall:.0f} s wall, -j {args.jobs}]")
    print("\n".join(lines))
    print()
    print(summary)
    if args.status:
        wrong = [f"  {c.id} [{c.cls}]: {g.reason}" for c, g in results if g.grade == "wrong"]
        gaps = [f"  {c.id} [{c.cls}]: {g.reason}" for c, g in results if g.grade == "safe refusal (gap)"]
        Path(args.status).write_text(
            f"{time.strftime('%H:%M UTC', time.gmtime())}  {summary}\n\nwrong:\n" + "\n".join(wrong) +
            "\n\nsafe refusals of migratable code (gaps):\n" + "\n".join(gaps) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

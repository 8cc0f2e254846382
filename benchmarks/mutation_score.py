"""Binding mutation score on a real revision (or any checkout), printed.

    python benchmarks/mutation_score.py MIGRATED [BEFORE] [--specs N]

MIGRATED: a checkout whose migration is pending (the tool's own migration is scored, in memory)
or already migrated (e.g. a copy of upstream's hand migration 27f36345e8).  BEFORE: the
pre-migration tree, to tell which parameters the migration threaded (default: MIGRATED's own
original text, for a pending migration).  Every bound field and every threaded argument at every
caller gets each other in-scope candidate (see migrator.verify.mutants); a mutant must make the
path check fail unless it changes no value on any spec.  Uses N conv specs of the checkout
(default 12: spread over the sweep files' specs) and one grid, to keep the run in minutes.

    cp -a /work/ttmetal/27f36345e8 /tmp/27f3 && cp -a /work/ttmetal/7136cb56bb /tmp/7136
    python benchmarks/mutation_score.py /tmp/27f3 /tmp/7136      # upstream's hand migration
    python benchmarks/mutation_score.py /tmp/7136                # the tool's own migration
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migrator.engine.checkout import Checkout  # noqa: E402
from migrator.engine.project import Project  # noqa: E402
from migrator.recipe.plan import build_plan  # noqa: E402
from migrator.verify import mutants  # noqa: E402
from migrator.verify.core import path_sources  # noqa: E402
from migrator.verify.specs import collect_specs  # noqa: E402


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if not args:
        print(__doc__)
        return 2
    n = int(argv[argv.index("--specs") + 1]) if "--specs" in argv else 12
    if "--specs" in argv:
        args = [a for a in args if a != str(n)]
    root = Path(args[0])
    project = Project(Checkout.open(root))
    plan = build_plan(project)
    after = path_sources(project, plan)
    if len(args) > 1:
        before_root = Path(args[1])
        before = {s.path: (before_root / s.path).read_bytes() for s in after if (before_root / s.path).is_file()}
    else:
        before = {**{s.path: s.data for s in after}, **plan.originals}
    threaded = mutants.threaded_params(before, after)
    allspecs = collect_specs(root).specs
    step = max(1, len(allspecs) // n)
    specs = allspecs[::step][:n]
    # and a few shapes a square sample would miss: non-square inputs, a 1x1 matmul conv
    extra = [s for s in allspecs if s.input_height != s.input_width and s.stride_h > 1][:2]
    extra += [s for s in allspecs if s.input_height != s.input_width and s.pad_h > 0][:2]
    extra += [s for s in allspecs if s.is_mm_conv()][:1]
    specs += [s for s in dict.fromkeys(extra) if s not in specs]
    t = time.perf_counter()
    results, summary = mutants.run(after, specs, ["wormhole"], threaded)
    dt = time.perf_counter() - t
    print(f"{root}: threaded parameters {threaded}; {len(specs)} specs x 3 layouts x 1 grid")
    print(f"mutants {summary['mutants']}: killed {summary['killed']}, survived {summary['survived']}, "
          f"equivalent {summary['equivalent']}; score {summary['score']} % ({dt:.0f} s)")
    for r in results:
        if r.status == "survived":
            print(f"  SURVIVED {r.mutant.where}: {r.mutant.original} -> {r.mutant.text}")
    return 0 if summary["survived"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

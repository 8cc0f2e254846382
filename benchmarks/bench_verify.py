"""Time a full `verify`: every shared conv spec x 3 shard layouts x 2 grids, for every site.

    python benchmarks/bench_verify.py [CHECKOUT] [SPECS_JSON]

Defaults: fixtures/rev-7136/before and ../shared/data/conv2d_short_sweep_specs.json. Target: <= 10 s.
Prints the plan time, the evaluation time, and per-site evaluated / skipped / mismatches.
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
from migrator.verify.core import site_from_plan, verify_sites  # noqa: E402
from migrator.verify.specs import load_specs_file  # noqa: E402


def main(argv):
    checkout = Path(argv[0]) if argv else REPO / "fixtures" / "rev-7136" / "before"
    specs_path = Path(argv[1]) if len(argv) > 1 else REPO.parent / "shared" / "data" / "conv2d_short_sweep_specs.json"
    t0 = time.perf_counter()
    specs = load_specs_file(str(specs_path))
    plan = build_plan(Project(Checkout.open(checkout)))
    t1 = time.perf_counter()
    sites = [site_from_plan(s) for s in plan.sites]
    results = verify_sites(sites, specs, ["wormhole", "blackhole"], plan.model.estimate_variant)
    t2 = time.perf_counter()
    n_eval = sum(r.evaluated for r in results)
    print(f"{checkout}: {len(specs)} specs x 3 layouts x 2 grids x {len(sites)} site(s)")
    for r in results:
        print(f"  {r.site.path}:{r.site.line}: evaluated {r.evaluated}, skipped {sum(r.skipped.values())}, "
              f"mismatches {r.mismatches}, under-allocations {r.under_allocations}")
    print(f"plan + specs: {t1 - t0:.2f}s; verify: {t2 - t1:.2f}s ({n_eval} evaluations); total {t2 - t0:.2f}s"
          f" (target <= 10 s: {'ok' if t2 - t0 <= 10 else 'SLOW'})")
    return 0 if t2 - t0 <= 10 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

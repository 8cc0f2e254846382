"""Phase split of `verify` and of apply's numeric check on a checkout (a real tt-metal copy or a fixture).

    python benchmarks/bench_verify_paths.py CHECKOUT [--all-paths] [--cold] [--floor]

Prints, each timed separately in one process: checkout listing + plan, reading the sweep specs
(cold = libcst parse, warm = the blob-id cache), collecting the C++ sources, the path check
(index + compile + evaluation) and the totals; then per site the contexts, mismatches, errors,
unverified paths and matmul contexts.  Copy a real tree first (`cp -a` to /tmp); nothing is
written into it.  For whole-process timings run `halo-migrate verify CHECKOUT` and
`halo-migrate apply CHECKOUT --dry-run` under `/usr/bin/time -v` side by side.
Targets from issue 10: verify <= 2 s, apply --dry-run <= 4 s on the real 12,500-file tree.

--floor also runs the verify path check once in this process alone with the reference model timed (the
exact halo size of the config each path really gives the halo op, the new call's value where it differs,
and the old estimate; everything that is not evaluating the C++), and prints the floor of a cold verify:
interpreter start and imports, plus the phases above, plus the model spread over the CPUs, i.e. what a
cold verify would still take if evaluating the C++ cost nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migrator.engine.checkout import Checkout  # noqa: E402
from migrator.engine.project import Project  # noqa: E402
from migrator.recipe.plan import build_plan  # noqa: E402
from migrator.verify.core import APPLY_BUDGET, VERIFY_BUDGET, estimate_variant_code, path_sources  # noqa: E402
from migrator.verify.pathcheck import check_sources, edited_ranges, site_summary  # noqa: E402
from migrator.verify.placement import LAYOUTS  # noqa: E402
from migrator.verify.specs import collect_specs  # noqa: E402


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    root = Path(argv[0])
    all_paths = "--all-paths" in argv
    if "--cold" in argv:
        os.environ["HALO_MIGRATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="halo-spec-cache-")
    phases = {}
    t = time.perf_counter()
    project = Project(Checkout.open(root))
    plan = build_plan(project)
    phases["checkout + plan"] = time.perf_counter() - t
    t = time.perf_counter()
    specs = collect_specs(root).specs
    phases["sweep specs"] = time.perf_counter() - t
    t = time.perf_counter()
    sources = path_sources(project, plan)
    phases["sources for the path check"] = time.perf_counter() - t
    grids = ["wormhole", "blackhole"]
    for label, budget in (("verify", None if all_paths else VERIFY_BUDGET), ("apply check", APPLY_BUDGET)):
        t = time.perf_counter()
        results = check_sources(sources, specs, grids, LAYOUTS, estimate_variant_code(plan.model.estimate_variant),
                                edited=edited_ranges(plan.originals, plan.edits), budget=budget)
        phases[f"path check ({label}, budget {budget})"] = time.perf_counter() - t
    total = len(specs) * len(grids) * len(LAYOUTS)
    print(f"{root}: {len(specs)} specs x {len(LAYOUTS)} layouts x {len(grids)} grids = {total} contexts per site; "
          f"{len(sources)} C++ files read; state {plan.state}")
    for k, v in phases.items():
        print(f"  {k:45s} {v:8.2f} s")
    base = phases["checkout + plan"] + phases["sweep specs"] + phases["sources for the path check"]
    print(f"  {'verify total':45s} {base + next(v for k, v in phases.items() if 'verify' in k):8.2f} s  (target 2 s)")
    print(f"  {'apply --dry-run numeric check total':45s} {base + phases[f'path check (apply check, budget {APPLY_BUDGET})']:8.2f} s  (target 4 s, plus formatting)")
    for r in results:
        s = site_summary(r, total)
        print(f"  site {s['file']}:{s['line']} ({s['function']}): {s['evaluated']} contexts "
              f"({s['matmul_contexts']} matmul), {s['mismatches']} mismatches, {s['path_errors']} errors, "
              f"{len(s['paths'])} paths ({s['unverified_paths']} unverified), under-allocations fixed "
              f"{s['under_allocations_fixed']}, transposed residuals {s['transposed_residuals']} "
              f"({s['transposed_under_allocating']} under), max op trace {s['max_op_trace_length']}, "
              f"calls per conv {s['calls_per_conv']}")
    if "--floor" in argv:
        floor(root, sources, specs, grids, plan, base)
    return 0


def floor(root, sources, specs, grids, plan, base) -> None:
    from migrator.verify import pathcheck

    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import migrator.cli"], cwd=REPO, check=True)
    start = time.perf_counter() - t
    spent = {}

    def timed(name):
        fn = getattr(pathcheck, name)

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        setattr(pathcheck, name, wrapper)
        return fn

    model = ("truth_for", "_precise", "_precise_guarded", "estimate_halo_output_elems")
    originals = {name: timed(name) for name in model}
    os.environ["HALO_MIGRATE_JOBS"] = "1"
    try:
        t = time.perf_counter()
        check_sources(sources, specs, grids, LAYOUTS, estimate_variant_code(plan.model.estimate_variant),
                      edited=edited_ranges(plan.originals, plan.edits), budget=VERIFY_BUDGET)
        serial = time.perf_counter() - t
    finally:
        for name, fn in originals.items():
            setattr(pathcheck, name, fn)
        del os.environ["HALO_MIGRATE_JOBS"]
    m = sum(spent.values())
    cpus = pathcheck.workers()
    print(f"  floor of a cold verify ({cpus} CPUs):")
    print(f"    {'interpreter start + imports':43s} {start:8.2f} s")
    print(f"    {'path check, one process':43s} {serial:8.2f} s")
    print(f"    {'  of which the reference model':43s} {m:8.2f} s  "
          + ", ".join(f"{k} {v:.2f}" for k, v in spent.items()))
    print(f"    {'start + phases above + model / CPUs':43s} {start + base + m / cpus:8.2f} s  (target 2 s)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

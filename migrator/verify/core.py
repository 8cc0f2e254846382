"""The numeric check of a plan: the migrated text (the plan's new bytes where it changes a file, the
checkout's own text elsewhere) is read back and every exact call is evaluated along every call path
from the entry functions (:mod:`migrator.verify.pathcheck`), independently of how the plan chose its
bindings. ``verify_plan`` gives one summary per call; ``refusal`` says why apply must not go on."""

from __future__ import annotations

from typing import List, Optional, Sequence

from migrator.engine.checkout import SOURCE_SUFFIXES
from migrator.verify.placement import LAYOUTS, ConvSpec


def estimate_variant_code(variant: Optional[str]) -> Optional[str]:
    """"V3 (by structure)" -> "V3"; "unknown"/"absent" -> None."""
    head = (variant or "").split()[0] if variant else ""
    return head if head in ("V1", "V2", "V3") else None


PATH_NAMES = ("calculate_precise_halo_output_elems", "estimate_halo_output_elems",
              "determine_conv_config_for_auto_shard", "calculate_conv_dram_slice_L1_usage",
              "determine_conv2d_slice_config", "get_opt_block_config")


def path_sources(project, plan=None) -> list:
    """The C++ files the path check reads: the plan's new bytes where it changes a file (the
    migrated text), the checkout's own text elsewhere."""
    from migrator.engine.source import SourceFile

    paths = set()
    for name in PATH_NAMES:
        paths.update(p for p in project.mentioning_paths(name) if p.endswith(SOURCE_SUFFIXES))
    new = plan.new_contents if plan is not None else {}
    paths.update(p for p in new if p.endswith(SOURCE_SUFFIXES))
    out = []
    for p in sorted(paths):
        if p in new:
            out.append(SourceFile.parse(p, new[p]))
        else:
            src = project.source(p)
            if src is not None:
                out.append(src)
    return out


def path_check(project, plan, specs, grids=("wormhole", "blackhole"), variant: Optional[str] = None,
               budget: Optional[int] = None) -> List[dict]:
    """Per-site summaries from the independent path check (:mod:`migrator.verify.pathcheck`)."""
    from migrator.verify.pathcheck import check_sources, edited_ranges, site_summary

    from migrator.verify import result_cache

    specs = [s if isinstance(s, ConvSpec) else ConvSpec.from_row(s) for s in specs]
    edited = edited_ranges(plan.originals, plan.edits) if plan is not None else {}
    sources = path_sources(project, plan)
    code = estimate_variant_code(variant)
    key = result_cache.key(sources, specs, list(grids), LAYOUTS, code, edited, budget)
    hit = result_cache.load(key)
    if hit is not None:
        return hit
    results = check_sources(sources, specs, list(grids), LAYOUTS, code, edited=edited, budget=budget)
    total = len(specs) * len(grids) * len(LAYOUTS)
    summaries = [site_summary(r, total) for r in results]
    result_cache.store(key, summaries)
    return summaries


# Path evaluations per site before the secondary paths are sampled (every spec still runs on the
# direct path of each layout: 10,878 contexts per site on tt-metal 7136cb56bb).  One figure for
# verify and apply, so the two share a kept result (`result_cache`) for the same migrated text.
APPLY_BUDGET = 12000
VERIFY_BUDGET = APPLY_BUDGET


def verify_plan(plan, specs, grids=("wormhole", "blackhole"), checkout=None, budget: Optional[int] = APPLY_BUDGET) -> List[dict]:
    """One summary dict per exact call in the migrated text of ``plan`` (keys: file, line, evaluated,
    mismatches, under_allocations, ratio{min,median,max}, l1_saved_bytes, paths, ...), for apply's
    refusal and the PR description.  Nothing from the plan's binding choice is used: the migrated
    text is read back and evaluated along every call path (see :mod:`migrator.verify.pathcheck`)."""
    from migrator.engine.checkout import Checkout
    from migrator.engine.project import Project

    project = Project(checkout if checkout is not None else Checkout.open(plan.root))
    return path_check(project, plan, specs, grids, plan.model.estimate_variant, budget)


def refusal(summaries: Sequence[dict]) -> Optional[str]:
    """Why the numeric check cannot vouch for the rewrite (None when it can)."""
    for s in summaries:
        where = f"{s['file']}:{s['line']}"
        if s["mismatches"]:
            ex = (s.get("mismatch_examples") or [{}])[0]
            detail = f" (e.g. {ex.get('path', '')}: {', '.join(ex.get('fields', []))})" if ex else ""
            return (f"numeric check failed at {where}: {s['mismatches']} configurations differ from what the halo op "
                    f"receives on their call path{detail}")
        if s.get("path_errors") or (s.get("error") and s.get("evaluated")):
            return f"numeric check could not evaluate {where}: {s.get('error')}"
        if not s.get("evaluated"):
            return f"numeric check evaluated no context at {where} ({s.get('error') or 'no path reached it'})"
    return None


__all__ = ["estimate_variant_code", "path_sources", "path_check", "verify_plan", "refusal"]

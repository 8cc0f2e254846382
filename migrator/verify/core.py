"""Per-site numeric verification.

For every conv spec x shard layout x compute grid, and for each rewritten call site:

(a) the OLD estimate (``estimate_halo_output_elems``, the checkout's variant) with the arguments
    the old call passed (by role),
(b) the NEW call-site value: the site's binding expressions evaluated against the placement
    model (:mod:`migrator.verify.evaluate`), then ``calculate_precise_halo_output_elems``,
(c) the RUNTIME value: the halo op's own ``SlidingWindowConfig`` from the placement model.

A *mismatch* is a spec where the evaluated config differs from the runtime config in a field that
enters the halo math (or the two values differ).  ``input_hw`` and ``padding`` are compared
through the padded extents (H + pad_top + pad_bottom, W + pad_left + pad_right), which is all the
non-ceil, non-transposed halo math reads: a slice that carries its padding in its size with
``padding = {0, 0, 0, 0}`` is correct.  ``channels``/``num_cores_c`` do not enter the math and
are not compared; ``core_range_set`` is compared when bound.  (c) > (a) is an under-allocation
by the old code: a finding, not a failure.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from migrator.reference import SlidingWindowConfig, estimate_halo_output_elems, precise_halo_output_elems
from migrator.verify.evaluate import ConfigBuilder, EvalError
from migrator.verify.placement import LAYOUTS, ConvSpec, NotReached, place, tile_rounding_extra_right_padding

BYTES_PER_ELEM = 2  # bfloat16 halo output
EXAMPLES = 5

MATH_FIELDS = ("batch_size", "window_hw", "stride_hw", "output_pad_hw", "dilation_hw", "num_cores_nhw",
               "snap_to_tile", "is_bilinear", "is_transpose", "ceil_mode")


@dataclass
class SiteInput:
    """What verify needs to know about one rewritten call (from a plan or read from migrated code)."""

    path: str
    line: int
    function: str
    lambda_name: str
    config_name: str
    shard_shape: str
    bindings: List[Tuple[str, str, str]]  # (field, expr, provenance)
    roles: Dict[str, str]
    slice_dims_include_padding: bool = False

    @property
    def kind(self) -> str:
        names = f"{self.function} {self.lambda_name}".lower()
        return "dram_slice" if (self.slice_dims_include_padding or "slice" in names) else "l1"


def site_from_plan(s) -> SiteInput:
    return SiteInput(
        path=s.path, line=s.line, function=s.function, lambda_name=s.lambda_name, config_name=s.config_name,
        shard_shape=s.shard_shape, bindings=[(b.field, b.expr, b.provenance) for b in s.bindings],
        roles=dict(s.roles), slice_dims_include_padding=bool(s.slice_dims_include_padding),
    )


def _padded(cfg: SlidingWindowConfig) -> Tuple[int, int]:
    p = cfg.padding
    return (cfg.input_hw[0] + p[0] + p[1], cfg.input_hw[1] + p[2] + p[3])


def differing_fields(call: SlidingWindowConfig, call_shard, runtime: SlidingWindowConfig, runtime_shard,
                     bound: Iterable[str], expected_at_site: Optional[Dict[str, tuple]] = None) -> List[str]:
    """Fields of the call-site config that differ from the runtime config in the halo math.

    ``input_hw``/``padding`` are compared through the padded extents; when those differ, the field(s)
    named are the ones that differ from ``expected_at_site`` (the site's own convention, e.g. padded
    slice sizes with zero padding), defaulting to the runtime's raw values.
    """
    out = [f for f in MATH_FIELDS if getattr(call, f) != getattr(runtime, f)]
    if _padded(call) != _padded(runtime):
        expected = expected_at_site or {"input_hw": runtime.input_hw, "padding": runtime.padding}
        raw = [f for f in ("input_hw", "padding") if getattr(call, f) != tuple(expected[f])]
        out.extend(raw or ["input_hw"])
    if "core_range_set" in bound and call.core_range_set != runtime.core_range_set:
        out.append("core_range_set")
    if int(call_shard[1]) != int(runtime_shard[1]):
        out.append("shard_shape")
    return out


def estimate_variant_code(variant: Optional[str]) -> Optional[str]:
    """"V3 (by structure)" -> "V3"; "unknown"/"absent" -> None."""
    head = (variant or "").split()[0] if variant else ""
    return head if head in ("V1", "V2", "V3") else None


def _spec_label(spec: ConvSpec) -> list:
    return spec.as_list()


@dataclass
class SiteResult:
    site: SiteInput
    evaluated: int = 0
    skipped: Counter = field(default_factory=Counter)
    mismatches: int = 0
    mismatch_fields: Counter = field(default_factory=Counter)
    mismatch_examples: List[dict] = field(default_factory=list)
    under_allocations: int = 0
    under_examples: List[dict] = field(default_factory=list)
    ratios: List[float] = field(default_factory=list)
    l1_saved_bytes: int = 0
    changes: List[Tuple[int, dict]] = field(default_factory=list)
    tile_rounding_affected: int = 0
    tile_rounding_max_elems: int = 0
    error: Optional[str] = None

    def ratio(self) -> Dict[str, Optional[float]]:
        if not self.ratios:
            return {"min": None, "median": None, "max": None}
        return {"min": round(min(self.ratios), 4), "median": round(statistics.median(self.ratios), 4),
                "max": round(max(self.ratios), 4)}

    def biggest_changes(self, n: int = EXAMPLES) -> List[dict]:
        return [d for _, d in sorted(self.changes, key=lambda x: -x[0])[:n]]

    def summary(self) -> dict:
        s = self.site
        return {
            "file": s.path, "line": s.line, "function": s.function, "lambda": s.lambda_name,
            "kind": s.kind, "config_name": s.config_name, "shard_shape": s.shard_shape,
            "slice_dims_include_padding": s.slice_dims_include_padding,
            "bindings": {f: {"expr": e, "provenance": p} for f, e, p in s.bindings},
            "evaluated": self.evaluated,
            "skipped": sum(self.skipped.values()),
            "skipped_reasons": dict(self.skipped),
            "mismatches": self.mismatches,
            "mismatch_fields": dict(self.mismatch_fields),
            "mismatch_examples": self.mismatch_examples,
            "under_allocations": self.under_allocations,
            "under_allocation_examples": self.under_examples,
            "ratio": self.ratio(),
            "l1_saved_bytes": self.l1_saved_bytes,
            "biggest_changes": self.biggest_changes(),
            "tile_rounding": {"affected": self.tile_rounding_affected, "max_extra_elems": self.tile_rounding_max_elems,
                              "visible_to_site": "slice_padding" in s.roles.values()},
            "error": self.error,
        }


def verify_site(site: SiteInput, specs: Sequence[ConvSpec], grids: Sequence[str], variant: str,
                layouts: Sequence[str] = LAYOUTS, progress=None) -> SiteResult:
    res = SiteResult(site)
    bindings = {f: e for f, e, _ in site.bindings}
    try:
        builder = ConfigBuilder(bindings, site.shard_shape, site.roles)
    except EvalError as exc:
        res.error = exc.message
        return res
    kind = site.kind
    variant = estimate_variant_code(variant)
    has_estimate = variant is not None
    pads_in_dims = kind == "dram_slice" and site.slice_dims_include_padding
    sees_slice_padding = "slice_padding" in site.roles.values()
    for spec in specs:
        if progress is not None:
            progress.advance()
        for grid in grids:
            for layout in layouts:
                try:
                    pl = place(spec, layout, grid, kind, site.slice_dims_include_padding)
                except NotReached as exc:
                    res.skipped[str(exc)] += 1
                    continue
                except ValueError as exc:
                    res.skipped[f"placement model raised: {exc}"] += 1
                    continue
                try:
                    call_cfg, call_shard = builder.build(pl.roles)
                except EvalError as exc:
                    res.error = exc.message
                    return res
                runtime_cfg = pl.runtime_config
                extra = tile_rounding_extra_right_padding(pl) if kind == "dram_slice" else 0
                if extra and not sees_slice_padding:
                    # The site has no per-slice padding in scope (45ecf0a728's shape): it is judged on what
                    # it can know; the tile-rounding padding it cannot see is reported as tile_rounding.
                    p = runtime_cfg.padding
                    runtime_cfg = SlidingWindowConfig(**{**runtime_cfg.__dict__,
                                                         "padding": (p[0], p[1], p[2], p[3] - extra)})
                try:
                    runtime = precise_halo_output_elems(runtime_cfg, pl.runtime_shard_shape)
                    precise = precise_halo_output_elems(call_cfg, call_shard)
                except ValueError as exc:
                    res.skipped[f"reference model raised: {str(exc).split(':')[0]}"] += 1
                    continue
                res.evaluated += 1
                where = {"spec": _spec_label(spec), "layout": layout, "grid": grid}
                expected = {"input_hw": (pl.roles["input_height"], pl.roles["input_width"]),
                            "padding": (0, 0, 0, 0) if pads_in_dims else pl.runtime_config.padding}
                diff = differing_fields(call_cfg, call_shard, runtime_cfg, pl.runtime_shard_shape, bindings,
                                        expected)
                if precise != runtime and not diff:
                    diff = ["value"]
                if diff:
                    res.mismatches += 1
                    res.mismatch_fields.update(diff)
                    if len(res.mismatch_examples) < EXAMPLES:
                        res.mismatch_examples.append({**where, "fields": diff, "call_site": precise,
                                                      "runtime": runtime})
                if extra:
                    # How much the tile-rounding right padding adds at run time.
                    rc = pl.runtime_config
                    p = rc.padding
                    narrower = SlidingWindowConfig(**{**rc.__dict__, "padding": (p[0], p[1], p[2], p[3] - extra)})
                    try:
                        gap = (precise_halo_output_elems(rc, pl.runtime_shard_shape)
                               - precise_halo_output_elems(narrower, pl.runtime_shard_shape))
                    except ValueError:
                        gap = 0
                    if gap > 0:
                        res.tile_rounding_affected += 1
                        res.tile_rounding_max_elems = max(res.tile_rounding_max_elems, gap)
                if not has_estimate:
                    continue
                r = pl.roles
                estimate = estimate_halo_output_elems(
                    r["shard_shape"], r["batch_size"], r["input_height"], r["input_width"], r["kernel_size"],
                    r["dilation"], r["padding"], variant=variant)
                if runtime > estimate:
                    res.under_allocations += 1
                    if len(res.under_examples) < EXAMPLES:
                        res.under_examples.append({**where, "estimate": estimate, "runtime": runtime})
                if estimate:
                    res.ratios.append(precise / estimate)
                res.l1_saved_bytes += (estimate - precise) * BYTES_PER_ELEM
                delta = abs(estimate - precise)
                if delta and (len(res.changes) < EXAMPLES or delta > res.changes[-1][0]):
                    res.changes.append((delta, {**where, "estimate": estimate, "precise": precise,
                                                "delta_bytes": (precise - estimate) * BYTES_PER_ELEM}))
                    res.changes.sort(key=lambda x: -x[0])
                    del res.changes[EXAMPLES:]
    return res


def verify_sites(sites: Sequence[SiteInput], specs: Sequence[ConvSpec], grids: Sequence[str],
                 variant: str, quiet: bool = False) -> List[SiteResult]:
    """Progress is drawn on stderr only on a terminal (never in CI, with --quiet or NO_COLOR)."""
    from migrator.progress import Progress, enabled_for

    with Progress(len(sites) * len(specs), "verify: evaluating specs", enabled_for(quiet=quiet)) as progress:
        return [verify_site(s, specs, grids, variant, progress=progress) for s in sites]


PATH_NAMES = ("calculate_precise_halo_output_elems", "estimate_halo_output_elems",
              "determine_conv_config_for_auto_shard", "calculate_conv_dram_slice_L1_usage",
              "determine_conv2d_slice_config", "get_opt_block_config")


def path_sources(project, plan=None) -> list:
    """The C++ files the path check reads: the plan's new bytes where it changes a file (the
    migrated text), the checkout's own text elsewhere."""
    from migrator.engine.source import SourceFile

    paths = set()
    for name in PATH_NAMES:
        paths.update(p for p in project.mentioning_paths(name) if p.endswith((".cpp", ".cc", ".cxx")))
    new = plan.new_contents if plan is not None else {}
    paths.update(p for p in new if p.endswith((".cpp", ".cc", ".cxx")))
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


def any_mismatch(results: Sequence[SiteResult]) -> bool:
    return any(r.mismatches or r.error for r in results)


__all__ = ["SiteInput", "SiteResult", "site_from_plan", "verify_site", "verify_sites", "verify_plan",
           "differing_fields", "any_mismatch"]

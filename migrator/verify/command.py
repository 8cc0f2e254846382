"""`halo-migrate verify`: check every rewrite numerically against the reference model.

The sites are the exact calls of the migrated text: the in-memory plan's new bytes for pending
rewrites, the checkout's own text for sites migrated already (by this tool or by hand).  Specs: the checkout's own conv2d sweep files,
the bundled default set, and ``--specs FILE``.  Exit 0 when every rewrite matches the runtime
halo config, 1 on any mismatch, 2 on error.
"""

from __future__ import annotations

import time
from typing import List, Optional, Sequence

from migrator import PROG, __version__
from migrator.engine.recipe import VerifyResult
from migrator.errors import MigrateError
from migrator.report import compile_lines, md_table
from migrator.verify.core import estimate_variant_code
from migrator.verify.placement import GRIDS, LAYOUTS, ConvSpec
from migrator.verify.specs import SpecsError, collect_specs


class BadGrid(MigrateError):
    kind = "bad grid"


def parse_grids(text: Optional[str]) -> List[str]:
    names = [g.strip().lower() for g in (text or "wormhole,blackhole").split(",") if g.strip()]
    bad = [g for g in names if g not in GRIDS]
    if bad or not names:
        raise BadGrid(f"unknown grid(s) {', '.join(bad) or '(none)'}; known: {', '.join(sorted(GRIDS))}")
    return list(dict.fromkeys(names))


def verify_report(root: str, plan, specs: Sequence[ConvSpec], grids: Sequence[str],
                  spec_sources=None, warnings=None, quiet: bool = False, project=None,
                  budget: Optional[int] = None) -> dict:
    """The verify document.  The sites are the exact calls of the migrated text (the plan's new
    bytes for pending rewrites, the checkout's own text for hand migrations), each evaluated along
    every call path from the entry functions."""
    from migrator.engine.project import Project
    from migrator.verify.core import path_check, refusal

    t0 = time.perf_counter()
    if project is None:
        from migrator.engine.checkout import Checkout

        project = Project(Checkout.open(root))
    summaries = path_check(project, plan, specs, grids, plan.model.estimate_variant, budget)
    elapsed = time.perf_counter() - t0
    why = refusal(summaries) if summaries else None
    return {
        "schema_version": 1,
        "tool": PROG,
        "version": __version__,
        "root": root,
        "state": plan.state,
        "estimate_variant": plan.model.estimate_variant,
        "estimate_variant_used": estimate_variant_code(plan.model.estimate_variant),
        "grids": {g: list(GRIDS[g]) for g in grids},
        "layouts": list(LAYOUTS),
        "specs_evaluated": len(specs),
        "spec_sources": dict(spec_sources or {}),
        "warnings": list(warnings or []),
        "sites": summaries,
        "mismatches": sum(s["mismatches"] for s in summaries),
        "under_allocations": sum(s["under_allocations"] for s in summaries),
        "l1_saved_bytes": sum(s["l1_saved_bytes"] for s in summaries),
        "ok": why is None,
        "why_not_ok": why,
        "contexts": sum(s["evaluated"] for s in summaries),
        "path_errors": sum(s["path_errors"] for s in summaries),
        "seconds": round(elapsed, 3),
    }


def verify_result(checkout, options) -> VerifyResult:
    """The halo recipe's `verify`: the plan (or the migrated text), every exact call evaluated along every
    call path, as a document and its renderers."""
    from migrator.engine.project import Project
    from migrator.recipe.plan import build_plan
    from migrator.verify.core import VERIFY_BUDGET

    grids = parse_grids(options.get("grids"))
    project = Project(checkout)
    plan = build_plan(project)
    specset = collect_specs(checkout.root, options.get("specs"))
    if not specset.specs:
        raise SpecsError("no conv specs to evaluate")
    budget = None if options.get("all_paths") else VERIFY_BUDGET
    report = verify_report(str(checkout.root), plan, specset.specs, grids, specset.sources, specset.warnings,
                           quiet=options.get("quiet", False), project=project, budget=budget)
    return VerifyResult(plan, report, report["ok"],
                        {"text": render_text, "markdown": render_markdown, "github": render_github})


# ---- rendering ----------------------------------------------------------------------------------


def _kib(b: int) -> str:
    return f"{b / 1024:+,.1f} KiB"


def _ratio(r: dict) -> str:
    if r["min"] is None:
        return "n/a"
    return f"{r['min']:.3f} / {r['median']:.3f} / {r['max']:.3f}"


def _spec(s: list) -> str:
    return "[" + ", ".join(str(v) for v in s) + "]"


def render_text(report: dict) -> str:
    lines = [f"{report['root']}: verify ({report['state']}; estimate {report['estimate_variant']})",
             f"specs: {report['specs_evaluated']} x {len(report['layouts'])} layouts x "
             f"{len(report['grids'])} grid(s) ({', '.join(report['grids'])})"]
    for src, n in report["spec_sources"].items():
        lines.append(f"  {n:5d} from {src}")
    for w in report["warnings"]:
        lines.append(f"warning: {w}")
    if not report["sites"]:
        lines.append("no rewritten call sites to verify")
    for s in report["sites"]:
        where = s["function"] + (f" → {s['lambda']}" if s["lambda"] else "")
        lines += [
            "",
            f"site {s['file']}:{s['line']} in {where} ({s['kind']})",
            f"  evaluated {s['evaluated']}, skipped {s['skipped']}"
            # the reasons count per path: a context one path does not reach may be evaluated on another
            + (f" (not reached, per path: {'; '.join(f'{k}: {v}' for k, v in s['skipped_reasons'].items())})"
               if s["skipped"] else ""),
            f"  mismatches: {s['mismatches']}" + (f" (fields: {', '.join(f'{k}×{v}' for k, v in s['mismatch_fields'].items())})"
                                                  if s["mismatches"] else ""),
        ]
        if s.get("folded_contexts"):
            lines.append(f"  {s['folded_contexts']} evaluations are of convs the tree folds by itself (stride = kernel, "
                         "no padding): checked as the 1x1 matmul convs they run as")
        for m in s["mismatch_examples"]:
            lines.append(f"    {_spec(m['spec'])} {m['layout']}/{m['grid']}: {', '.join(m['fields'])} "
                         f"(call site {m['call_site']}, runtime {m['runtime']})")
        callers = [p for p in s.get("paths", []) if p.get("caller_findings")]
        if callers:
            ex = callers[0]["caller_examples"][0] if callers[0].get("caller_examples") else {}
            lines.append(f"  the caller's own description differs on {sum(p['caller_findings'] for p in callers)} "
                         f"evaluations of {len(callers)} path(s), reported, not failed"
                         + (f" (e.g. {', '.join(ex['fields'])} on {callers[0]['path']})" if ex else ""))
        unverified = [p for p in s.get("paths", []) if p.get("unverified")]
        if unverified:
            reason = next(iter(unverified[0]["unverified_reasons"]), "")
            lines.append(f"  {len(unverified)} of {len(s['paths'])} call paths not evaluated (e.g. {reason})")
        if report["estimate_variant_used"]:
            lines += [
                f"  under-allocations by the old estimate: {s['under_allocations']}",
                f"  precise/estimate ratio min/median/max: {_ratio(s['ratio'])}",
                f"  L1 saved per core, summed over specs: {s['l1_saved_bytes']:,} bytes ({_kib(s['l1_saved_bytes'])})",
            ]
            if s["biggest_changes"]:
                lines.append("  biggest changes:")
                for c in s["biggest_changes"]:
                    lines.append(f"    {_spec(c['spec'])} {c['layout']}/{c['grid']}: {c['estimate']} → {c['precise']} "
                                 f"elems ({c['delta_bytes']:+,} bytes)")
        tr = s["tile_rounding"]
        if tr["affected"] and tr["visible_to_site"]:
            lines.append(f"  tile rounding: in {tr['affected']} evaluations the slice's right padding grows for a "
                         f"tile-rounded output width (up to {tr['max_extra_elems']} elems); the rewrite includes it")
        elif tr["affected"]:
            lines.append(f"  note: {tr['affected']} evaluations would see extra right padding from DRAM-slice tile "
                         f"rounding, which this call site cannot see (up to {tr['max_extra_elems']} more elems; "
                         "excluded from the comparison)")
    lines += [""] + compile_lines(report)
    outside = sum(s["tile_rounding"]["affected"] for s in report["sites"] if not s["tile_rounding"]["visible_to_site"]) \
        + sum(p.get("caller_findings", 0) for s in report["sites"] for p in s.get("paths", []))
    matched = ("every rewrite matches the runtime halo config" if not outside else
               f"no rewrite mismatches; {outside} evaluations differ from the runtime for reasons outside the "
               "rewrite (the caller's own description, noted above or in --format json)")
    lines += ["result: " + (matched if report["ok"]
                            else (report.get("why_not_ok") or f"{report['mismatches']} mismatch(es)")
                            + (", new compile diagnostics" if not report.get("compile_check", {"ok": True})["ok"]
                               else ""))]
    return "\n".join(lines) + "\n"


def render_markdown(report: dict) -> str:
    out = [f"### halo-migrate verify: {'✅ all rewrites match' if report['ok'] else '❌ mismatches'}", "",
           f"{report['specs_evaluated']} conv specs × {len(report['layouts'])} shard layouts × "
           f"{len(report['grids'])} grid(s); old estimate: {report['estimate_variant']}.", "",
           md_table(("site", "evaluated", "skipped", "mismatches", "under-allocations (old)",
                     "precise/estimate min / median / max", "L1 saved (bytes, summed)"),
                    [(f"`{s['file']}:{s['line']}` ({s['function']})", s["evaluated"], s["skipped"], s["mismatches"],
                      s["under_allocations"], _ratio(s["ratio"]), f"{s['l1_saved_bytes']:,}") for s in report["sites"]])]
    for s in report["sites"]:
        for m in s["mismatch_examples"]:
            out.append(f"- mismatch at `{s['file']}:{s['line']}`: {_spec(m['spec'])} {m['layout']}/{m['grid']} "
                       f"fields {', '.join(m['fields'])}")
    out += [f"- {line.strip()}" for line in compile_lines(report)]
    return "\n".join(out) + "\n"


def render_github(report: dict, with_markdown: bool = True) -> str:
    """Annotations (escaped workflow commands), then the Markdown report unless it went to the step
    summary instead."""
    from migrator.github import command

    out = []
    for s in report["sites"]:
        for m in s["mismatch_examples"]:
            out.append(command("error", f"verify mismatch ({', '.join(m['fields'])}) for spec {_spec(m['spec'])} "
                               f"{m['layout']}/{m['grid']}: call site {m['call_site']}, runtime {m['runtime']}",
                               file=s["file"], line=s["line"]))
        if s["under_allocations"]:
            out.append(command("notice", f"old estimate under-allocated the halo output for "
                               f"{s['under_allocations']} evaluations", file=s["file"], line=s["line"]))
    cc = report.get("compile_check") or {}
    for d in cc.get("new_diagnostics", []):
        out.append(command("error", f"{d['kind']}: {d['message']}", file=d["file"], line=d["line"],
                           title="halo-migrate compile check"))
    if with_markdown:
        out.append(render_markdown(report).rstrip("\n"))
    return "\n".join(out) + "\n" if out else ""

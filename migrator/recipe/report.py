"""What the halo migration's plan shows: one finding per call site (each SlidingWindowConfig field, its
expression and where it comes from) and per threaded parameter (each caller and what it passes), and its
own fields of the JSON document (``migrator/schema/plan.schema.json``). Rendering is the reports' job."""

from __future__ import annotations

from migrator import PROG
from migrator.engine.recipe import Finding, Row
from migrator.recipe import names


def findings(plan) -> list[Finding]:
    out = []
    for s in plan.sites:
        rename = f" (renamed from {s.result_old})" if s.result_old != s.result_new else ""
        out.append(Finding(
            s.path, s.line,
            f"`{s.path}:{s.line}` — `{s.function}`" + (f" → `{s.lambda_name}`" if s.lambda_name else ""),
            notes=(f"result: {s.result_new}{rename}; config: {s.config_name}; shard shape: {s.shard_shape}",),
            columns=("field", "expression", "comes from"),
            rows=tuple(Row(b.field, b.expr, b.provenance) for b in s.bindings),
            annotation=f"{names.ESTIMATE} is pending migration to {names.PRECISE} (run {PROG} apply)"))
    for t in plan.threads:
        notes = [f"after `{t.after}`"]
        notes += [f"declaration {p}:{ln}" for p, ln in t.declarations]
        notes += [f"definition {p}:{ln}" for p, ln in t.definitions]
        first = (t.definitions or t.declarations or [("", 0)])[0]
        out.append(Finding(
            first[0], first[1], f"New parameter `{t.param_type} {t.param_name}` of `{t.function}`", notes=tuple(notes),
            columns=("caller", "passes", "comes from"),
            rows=tuple(Row(f"{c.path}:{c.line} ({c.function})", c.expr.text, c.expr.provenance) for c in t.callers)))
    return out


def report_fields(plan) -> dict:
    return {
        "estimate_variant": plan.model.estimate_variant,
        "shard_boundaries_arity": plan.model.shard_boundaries_arity,
        "sites": [
            {
                "file": s.path, "line": s.line, "function": s.function, "lambda": s.lambda_name,
                "config_name": s.config_name, "result": {"old": s.result_old, "new": s.result_new},
                "shard_shape": s.shard_shape,
                "arguments": s.arguments,
                "bindings": {b.field: {"expr": b.expr, "provenance": b.provenance} for b in s.bindings},
                "warnings": s.warnings,
            }
            for s in plan.sites
        ],
        "threading": [
            {
                "function": t.function, "parameter": f"{t.param_type} {t.param_name}", "after": t.after,
                "declarations": [{"file": p, "line": ln} for p, ln in t.declarations],
                "definitions": [{"file": p, "line": ln} for p, ln in t.definitions],
                "callers": [{"file": c.path, "line": c.line, "function": c.function, "expr": c.expr.text,
                             "provenance": c.expr.provenance} for c in t.callers],
            }
            for t in plan.threads
        ],
    }


def verify_rows(summaries) -> list[tuple]:
    """The numeric check's table in the PR description: one row per checked call."""
    def ratio(r):
        return "—" if r["min"] is None else f"{r['min']:.2f} · {r['median']:.2f} · {r['max']:.2f}"

    return [(f"`{v['file']}:{v['line']}`", v["evaluated"], v["mismatches"], v["under_allocations"], ratio(v["ratio"]),
             v["l1_saved_bytes"]) for v in summaries]


def regression_rows(test) -> list[tuple]:
    """The regression test's cases in the PR description."""
    if test is None:
        return []
    rows = []
    for c in test.cases:
        k = c.config
        rows.append((f"`{c.name}`",
                     f"{k.batch_size} · {k.input_hw[0]}×{k.input_hw[1]} · {k.window_hw[0]}×{k.window_hw[1]} · "
                     f"{k.stride_hw[0]}×{k.stride_hw[1]} · {','.join(str(x) for x in k.padding)} · "
                     f"{k.dilation_hw[0]}×{k.dilation_hw[1]}",
                     f"{k.num_cores_nhw} · {'on' if k.snap_to_tile else 'off'}",
                     f"{c.shard_shape[0]}×{c.shard_shape[1]}", c.expected, f"{c.why} ({c.source})"))
    return rows

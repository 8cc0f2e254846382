"""Render a MigrationPlan as text, JSON, Markdown or GitHub workflow commands."""

from __future__ import annotations

import json

from migrator import __version__
from migrator.engine.deliver.diff import diffstat
from migrator.recipe.plan import MigrationPlan

STATE_WORDS = {
    "pending": "migration pending",
    "partially-migrated": "partially migrated; the rest is pending",
    "migrated": "already migrated; nothing to do",
    "nothing-to-migrate": "no estimate_halo_output_elems in this tree; nothing to migrate",
}


def plan_dict(plan: MigrationPlan) -> dict:
    rows, ins, dels = diffstat(plan.originals, plan.new_contents)
    return {
        "schema_version": 1,
        "tool": "halo-migrate",
        "version": __version__,
        "root": plan.root,
        "state": plan.state,
        "pending": plan.pending,
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
        "files": [{"path": p, "insertions": a, "deletions": d} for p, a, d in rows],
        "insertions": ins,
        "deletions": dels,
        "steps": plan.steps,
        "warnings": plan.warnings,
    }


def render_plan(plan: MigrationPlan, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan_dict(plan), indent=2)
    if fmt == "markdown":
        return _markdown(plan)
    if fmt == "github":
        return _github(plan)
    return _text(plan)


def _text(plan: MigrationPlan) -> str:
    out = [f"{plan.root}: {STATE_WORDS.get(plan.state, plan.state)}"]
    if plan.model.estimate_variant not in ("absent",):
        out.append(f"estimate variant: {plan.model.estimate_variant}; "
                   f"generate_shard_boundaries takes {plan.model.shard_boundaries_arity} argument(s)")
    for s in plan.sites:
        where = s.function + (f" → lambda {s.lambda_name}" if s.lambda_name else "")
        out.append(f"\nsite {s.path}:{s.line} in {where}")
        rename = f" (renamed from {s.result_old})" if s.result_old != s.result_new else ""
        out.append(f"  result: {s.result_new}{rename}; config: {s.config_name}; shard shape: {s.shard_shape}")
        for b in s.bindings:
            out.append(f"  {b.field:<15} = {b.expr}")
            out.append(f"  {'':<15}   ← {b.provenance}")
    for t in plan.threads:
        out.append(f"\nthread `{t.param_type} {t.param_name}` into {t.function} after `{t.after}`")
        for p, ln in t.declarations:
            out.append(f"  declaration {p}:{ln}")
        for p, ln in t.definitions:
            out.append(f"  definition  {p}:{ln}")
        for c in t.callers:
            out.append(f"  caller      {c.path}:{c.line} in {c.function}: passes {c.expr.text}  ← {c.expr.provenance}")
    if plan.steps:
        out.append("\nsteps:")
        out.extend(f"  - {s}" for s in plan.steps)
    if plan.pending:
        rows, ins, dels = diffstat(plan.originals, plan.new_contents)
        out.append(f"\nfiles to change ({len(rows)}, +{ins} −{dels}):")
        out.extend(f"  {p} (+{a} −{d})" for p, a, d in rows)
    for w in plan.warnings:
        out.append(f"warning: {w}")
    return "\n".join(out)


def _markdown(plan: MigrationPlan) -> str:
    out = [f"## halo-migrate: {STATE_WORDS.get(plan.state, plan.state)}", ""]
    for s in plan.sites:
        out += [f"### `{s.path}:{s.line}` — `{s.function}`" + (f" → `{s.lambda_name}`" if s.lambda_name else ""), "",
                "| field | expression | from |", "|---|---|---|"]
        out += [f"| `{b.field}` | `{b.expr}` | {b.provenance.replace('|', '/')} |" for b in s.bindings]
        out.append("")
    for t in plan.threads:
        out += [f"### New parameter `{t.param_type} {t.param_name}` of `{t.function}`", "",
                "| caller | passes | from |", "|---|---|---|"]
        out += [f"| `{c.path}:{c.line}` `{c.function}` | `{c.expr.text}` | {c.expr.provenance.replace('|', '/')} |"
                for c in t.callers]
        out.append("")
    if plan.pending:
        rows, ins, dels = diffstat(plan.originals, plan.new_contents)
        out += ["| file | + | − |", "|---|---|---|"] + [f"| `{p}` | {a} | {d} |" for p, a, d in rows]
        out.append(f"\n{len(rows)} files, +{ins} −{dels}")
    out += [f"- warning: {w}" for w in plan.warnings]
    return "\n".join(out)


def _github(plan: MigrationPlan) -> str:
    from migrator.github import command

    out = []
    for s in plan.sites:
        out.append(command("warning", "estimate_halo_output_elems is pending migration to "
                           "calculate_precise_halo_output_elems (run halo-migrate apply)",
                           file=s.path, line=s.line, title="halo-migrate"))
    for w in plan.warnings:
        out.append(command("notice", w, title="halo-migrate"))
    if not plan.pending:
        out.append(command("notice", STATE_WORDS.get(plan.state, plan.state), title="halo-migrate"))
    return "\n".join(out)

"""Commit message and pull-request description, rendered from templates."""

from __future__ import annotations

from migrator.engine.deliver.diff import diffstat
from migrator.engine.render import render
from migrator.recipe.plan import MigrationPlan


def _context(plan: MigrationPlan, verify_summary=None, compiled=None) -> dict:
    rows, ins, dels = diffstat(plan.originals, plan.new_contents)
    return dict(plan=plan, sites=plan.sites, threads=plan.threads, files=rows, insertions=ins, deletions=dels,
                variant=plan.model.estimate_variant, warnings=plan.warnings, verify=verify_summary,
                compiled=compiled)


def commit_message(plan: MigrationPlan, verify_summary=None, compiled=None) -> tuple[str, str]:
    """``compiled``: the :class:`~migrator.engine.compile_check.CompileVerdict` when --compile-check ran."""
    text = render("commit_message.txt.j2", **_context(plan, verify_summary, compiled))
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def pr_description(plan: MigrationPlan, verify_summary=None, compiled=None) -> str:
    return render("pr_description.md.j2", **_context(plan, verify_summary, compiled))

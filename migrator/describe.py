"""Commit message and pull-request description of any recipe's Changes, rendered from the recipe's own
templates with the same variables for every recipe (plus the recipe's `template_context`)."""

from __future__ import annotations

from migrator.engine.deliver.diff import diffstat
from migrator.engine.recipe import Changes, Recipe
from migrator.engine.render import templates
from migrator.report import files_table, markdown_finding, md_table


def _context(recipe: Recipe, changes: Changes, check=None, compiled=None) -> dict:
    rows, ins, dels = diffstat(changes.originals, changes.new_contents)
    return dict(recipe=recipe, changes=changes, findings=changes.findings(), files=rows, insertions=ins,
                deletions=dels, warnings=changes.warnings, steps=changes.steps, verify=check, compiled=compiled,
                md_table=md_table, markdown_finding=markdown_finding, files_table=files_table(changes),
                **changes.template_context(check))


def commit_message(recipe: Recipe, changes: Changes, check=None, compiled=None) -> tuple[str, str]:
    """``compiled``: the :class:`~migrator.engine.compile_check.CompileVerdict` when --compile-check ran."""
    text = templates(recipe.template_dir()).render(recipe.commit_template, **_context(recipe, changes, check, compiled))
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def pr_description(recipe: Recipe, changes: Changes, check=None, compiled=None) -> str:
    return templates(recipe.template_dir()).render(recipe.pr_template, **_context(recipe, changes, check, compiled))

"""Render any recipe's Changes as text, JSON, Markdown or GitHub workflow commands: one renderer per
format, over the recipe's findings (:class:`~migrator.engine.recipe.Finding`). The Markdown tables of the
reports, the verify report and the pull-request description all come from `md_table`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from migrator import PROG, __version__
from migrator.document import PATH, doc, document_schema, to_json
from migrator.engine.deliver.diff import diffstat
from migrator.engine.recipe import Changes, Finding, Recipe


def md_cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def md_table(columns, rows) -> str:
    """A Markdown table; a `|` or a line break inside a cell cannot end it."""
    out = ["| " + " | ".join(md_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def markdown_finding(f: Finding, level: int = 3) -> str:
    out = [f"{'#' * level} {f.title}", ""]
    if f.notes:
        out += [f"- {n}" for n in f.notes] + [""]
    if f.rows:
        out.append(md_table(f.columns, [(f"`{r.name}`", f"`{r.value}`", r.source) for r in f.rows]))
    return "\n".join(out).rstrip("\n")


def files_table(changes: Changes) -> str:
    rows, ins, dels = diffstat(changes.originals, changes.new_contents)
    return md_table(("file", "+", "−"), [(f"`{p}`", a, d) for p, a, d in rows])


@dataclass
class FileChange:
    """One file the migration changes."""

    __schema_name__ = "file"
    path: str = doc(ref=PATH)
    insertions: int = doc("Inserted lines in this file.", minimum=0)
    deletions: int = doc("Deleted lines in this file.", minimum=0)


@dataclass
class PlanDocument:
    """What `plan` and `check` print with `--format json`, for any recipe (the recipe's own fields follow
    `pending`)."""

    schema_version: int = doc("Version of this JSON format (independent of the tool version); bumped only on "
                              "incompatible changes.", const=1)
    tool: str = doc(f'Always "{PROG}"; lets a consumer recognise the document.', const=PROG)
    version: str = doc(f'Version of {PROG} that produced the document (the package version, e.g. "0.1.0").',
                       minLength=1)
    recipe: str = doc("The recipe that made the plan (`--recipe`).")
    root: str = doc("Absolute path of the checkout that was scanned (the PATH argument, resolved).", minLength=1)
    state: str = doc("Where the checkout stands.")
    pending: bool = doc("True when applying the migration would change at least one file (then `check` exits 1); "
                        "`files` lists them.")
    files: list[FileChange] = doc("Every file the migration changes, sorted by path, with its diffstat. Empty when "
                                  "nothing is pending.")
    insertions: int = doc("Total inserted lines over `files` (as in `git diff --stat`; before clang-format runs on "
                          "`apply`).", minimum=0)
    deletions: int = doc("Total deleted lines over `files`.", minimum=0)
    steps: list[str] = doc("Human-readable, ordered list of what `apply` will do. Wording is not stable; do not "
                           "parse it.")
    warnings: list[str] = doc("Human-readable notes for a reviewer. Wording is not stable.")


def plan_dict(changes: Changes, recipe: Recipe) -> dict:
    rows, ins, dels = diffstat(changes.originals, changes.new_contents)
    document = to_json(PlanDocument(
        1, PROG, __version__, recipe.name, changes.root, changes.state, changes.pending,
        [FileChange(p, a, d) for p, a, d in rows], ins, dels, list(changes.steps), list(changes.warnings)))
    own = changes.report_fields()
    if own is None:
        return document
    out = {}
    for key, value in document.items():
        out[key] = value
        if key == "pending":
            out.update(to_json(own))
    return out


def plan_schema(recipe: Recipe) -> dict:
    """The JSON Schema of `recipe`'s plan document, generated from PlanDocument and the recipe's report_model."""
    states = "; ".join(f'"{k}": {v}' for k, v in recipe.state_words.items())
    return document_schema(
        PlanDocument, f"urn:{PROG}:schema:plan:{recipe.name}",
        f"{PROG} plan / check JSON output ({recipe.name})",
        f"The document printed by `{PROG} --recipe {recipe.name} plan PATH --format json` and `check PATH --format "
        "json` (the same document; `check` differs only in its exit code: 0 nothing to do, 1 migration pending). "
        f"Recipe {recipe.name}: {recipe.description} Paths are relative to `root` and use forward slashes; line "
        "numbers are 1-based and refer to the tree as it is now (before the migration). Errors never produce this "
        "document: they are one line on stderr and exit code 2.",
        recipe.report_model, "pending",
        {"recipe": {"const": recipe.name}, "state": {"enum": list(recipe.state_words),
                                                     "description": f"Where the checkout stands. {states}."}})


def render_plan(changes: Changes, recipe: Recipe, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan_dict(changes, recipe), indent=2)
    if fmt == "markdown":
        return _markdown(changes, recipe)
    if fmt == "github":
        return _github(changes, recipe)
    return _text(changes, recipe)


def _text(changes: Changes, recipe: Recipe) -> str:
    out = [f"{changes.root}: {recipe.words(changes.state)}"]
    out += changes.summary_lines()
    for f in changes.findings():
        out.append(f"\n{f.title.replace('`', '')}")
        out += [f"  {n}" for n in f.notes]
        width = max((len(r.name) for r in f.rows), default=0)
        for r in f.rows:
            out.append(f"  {r.name:<{width}} = {r.value}")
            out.append(f"  {'':<{width}}   ← {r.source}")
    if changes.steps:
        out.append("\nsteps:")
        out.extend(f"  - {s}" for s in changes.steps)
    if changes.pending:
        rows, ins, dels = diffstat(changes.originals, changes.new_contents)
        out.append(f"\nfiles to change ({len(rows)}, +{ins} −{dels}):")
        out.extend(f"  {p} (+{a} −{d})" for p, a, d in rows)
    for w in changes.warnings:
        out.append(f"warning: {w}")
    return "\n".join(out)


def _markdown(changes: Changes, recipe: Recipe) -> str:
    out = [f"## {PROG}: {recipe.words(changes.state)}", ""]
    for f in changes.findings():
        out += [markdown_finding(f), ""]
    if changes.pending:
        rows, ins, dels = diffstat(changes.originals, changes.new_contents)
        out += [files_table(changes), f"\n{len(rows)} files, +{ins} −{dels}"]
    out += [f"- warning: {w}" for w in changes.warnings]
    return "\n".join(out)


def _github(changes: Changes, recipe: Recipe) -> str:
    from migrator.github import command

    out = []
    for f in changes.findings():
        if f.annotation:
            out.append(command("warning", f.annotation, file=f.path, line=f.line, title=PROG))
    for w in changes.warnings:
        out.append(command("notice", w, title=PROG))
    if not changes.pending:
        out.append(command("notice", recipe.words(changes.state), title=PROG))
    return "\n".join(out)


def render_verify(result, recipe: Recipe, fmt: str, with_markdown: bool = True) -> str:
    """The `verify` document: JSON as it is; the other formats by the recipe's renderer for it, else the
    generic one (state, the check's verdict, the compile check)."""
    doc = result.document
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    own = result.renderers.get(fmt)
    if own is not None:
        return own(doc, with_markdown=with_markdown) if fmt == "github" else own(doc)
    verdict = "ok" if result.ok else "not ok"
    if not doc.get("checked", True):
        verdict += " (no check of its own: the plan re-parses and leaves nothing behind)"
    lines = [f"{doc['root']}: verify ({recipe.name}; {recipe.words(doc['state'])}): {verdict}"]
    lines += compile_lines(doc)
    if fmt == "markdown":
        return "\n".join(f"- {line}" if i else f"### {line}" for i, line in enumerate(lines)) + "\n"
    if fmt == "github":
        from migrator.github import command

        out = [command("error", line, title=PROG) for line in compile_lines(doc)[1:]]
        return "\n".join(out + (["\n".join(lines)] if with_markdown else [])) + "\n"
    return "\n".join(lines) + "\n"


def compile_lines(doc: dict) -> list:
    cc = doc.get("compile_check")
    if not cc:
        return []
    if not cc["ran"]:
        return [f"compile check: not run ({cc['reason']})"]
    head = (f"compile check: {len(cc['new_diagnostics'])} new diagnostic(s) on {len(cc['translation_units'])} "
            f"translation unit(s) with {cc['compiler']}")
    return [head] + [f"  {d['file']}:{d['line']}: {d['kind']}: {d['message']}" for d in cc["new_diagnostics"]]

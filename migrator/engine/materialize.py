"""From edits to new bytes, and the checks every migration's result must pass before anything is
delivered: each touched file re-parses without a new syntax error, and a name the migration removes
is gone (no mention left in the new text, every file that mentioned it is changed)."""

from __future__ import annotations

from migrator.engine.edits import Edit, EditSet
from migrator.engine.locate import find_occurrences
from migrator.engine.recipe import Changes
from migrator.engine.source import SourceFile, error_nodes
from migrator.errors import ParseFailure, PostconditionFailed


class EditBook:
    """The edits of a plan, one EditSet per file (overlaps refused as they are added)."""

    def __init__(self) -> None:
        self.sets: dict[str, EditSet] = {}

    def add(self, path: str, edit: Edit) -> None:
        self.sets.setdefault(path, EditSet(path)).add(edit)

    __call__ = add


def materialize(project, book: EditBook, changes: Changes) -> dict[str, SourceFile]:
    """Apply every file's edits once (its own line endings) into `changes`; then re-parse each touched
    file and refuse a new syntax error. Returns the new parsed files by path."""
    for path, es in book.sets.items():
        src = project.source(path)
        changes.originals[path] = src.data
        changes.edits[path] = es.encoded(src.newline)
        changes.new_contents[path] = es.apply(src.data, src.newline)
    return reparse(project, changes)


def reparse(project, changes: Changes) -> dict[str, SourceFile]:
    new_sources = {}
    for path, data in changes.new_contents.items():
        if path in changes.created:
            continue
        before = project.source(path)  # parsed already, from the same bytes
        after = before.reparse(data, changes.edits[path])
        if after.error_count() > before.error_count():
            after = SourceFile.parse(path, data)  # confirm with a parse from scratch before refusing
        if after.error_count() > before.error_count():
            bad = error_nodes(after.tree)
            line = after.line(bad[0]) if bad else 0
            raise ParseFailure(f"{path}:{line}: the rewritten file no longer parses cleanly; nothing written")
        new_sources[path] = after
    return new_sources


def require_gone(name: str, new_sources: dict[str, SourceFile], occurrences, changes: Changes) -> None:
    """Every mention of `name` is accounted for: none left in the new text, and every file that had one
    is among the changed files."""
    for path, after in new_sources.items():
        for occ in find_occurrences(after, name):
            raise PostconditionFailed(f"{path}:{occ.line}: {name} still referenced after the rewrite"
                                      + (f" ({occ.detail})" if occ.detail else ""))
    for occ in occurrences:
        if occ.path not in changes.new_contents:
            raise PostconditionFailed(f"{occ.path}:{occ.line}: {name} left unmigrated")


__all__ = ["EditBook", "materialize", "reparse", "require_gone"]

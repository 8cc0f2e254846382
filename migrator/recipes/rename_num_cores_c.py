"""Recipe `rename-num-cores-c`: ttnn's conv helper `get_num_cores_channels_from_parallel_config` is renamed
`get_num_cores_c_from_parallel_config` (the name beside `get_num_cores_nhw_from_parallel_config`, and the
`num_cores_c` field of `SlidingWindowConfig` it fills), in its declaration, its definition, every call and
every other reference, qualified or not. Idempotent: a tree that already says the new name has nothing to do.

Refused, naming the place (nothing written): a mention the parser cannot place (a macro body, code disabled
by a constant, a region that does not parse, a member or type of the same name), or a tree that already has
the new name next to the old one (two functions, or half a rename: a person decides)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from migrator.document import LINE, PATH, doc
from migrator.engine.recipe import Changes, Finding, Recipe, Row

OLD = "get_num_cores_channels_from_parallel_config"
NEW = "get_num_cores_c_from_parallel_config"
RENAMED = ("call", "declaration", "definition", "using", "reference")


@dataclass
class MentionDoc:
    """One mention of the old name that is renamed."""

    __schema_name__ = "mention"
    file: str = doc(ref=PATH)
    line: int = doc(ref=LINE)
    kind: str = doc("What the mention is.", enum=list(RENAMED))
    function: str = doc('The enclosing function ("" at namespace scope).')


@dataclass
class RenameFields:
    """The rename recipe's fields of the plan document."""

    renamed: list[MentionDoc] = doc(f"Every mention of {OLD} that becomes {NEW}, in file then line order.")


@dataclass
class Renaming(Changes):
    mentions: list = field(default_factory=list)  # (path, line, kind, enclosing function) per renamed mention

    def findings(self) -> list[Finding]:
        by_file: dict[str, list] = {}
        for m in self.mentions:
            by_file.setdefault(m[0], []).append(m)
        return [Finding(path, ms[0][1], f"`{path}`", columns=("line", "what", "in"),
                        rows=tuple(Row(str(line), kind, fn or "(namespace scope)") for _, line, kind, fn in ms),
                        annotation=f"{OLD} is renamed {NEW} (run `halo-migrate --recipe rename-num-cores-c apply`)")
                for path, ms in sorted(by_file.items())]

    def report_fields(self) -> RenameFields:
        return RenameFields([MentionDoc(p, ln, k, fn) for p, ln, k, fn in self.mentions])

    def template_context(self, check=None) -> dict:
        return {"old": OLD, "new": NEW, "mentions": self.mentions}


class RenameNumCoresC(Recipe):
    name = "rename-num-cores-c"
    description = f"Rename ttnn's {OLD} to {NEW} everywhere it is declared, defined, called or referenced."
    prefilter = (OLD, NEW)
    report_model = RenameFields
    state_words = {
        "pending": f"{OLD} is still used; rename pending",
        "migrated": f"already renamed to {NEW}; nothing to do",
        "nothing-to-migrate": f"no {OLD} in this tree; nothing to rename",
    }

    def template_dir(self) -> Path:
        return Path(__file__).resolve().parent / "templates" / self.name

    def plan(self, project, options: Mapping[str, Any]) -> Changes:
        from migrator.engine.edits import Edit
        from migrator.engine.locate import find_occurrences
        from migrator.engine.materialize import EditBook, materialize, require_gone
        from migrator.errors import UnsupportedShape

        project.prime(OLD, NEW)
        old = [o for src in project.mentioning(OLD) for o in find_occurrences(src, OLD)]
        new = [o for src in project.mentioning(NEW) for o in find_occurrences(src, NEW)]
        root = str(project.checkout.root)
        if not old:
            return Renaming(root, "migrated" if new else "nothing-to-migrate", warnings=list(project.checkout.warnings))
        for o in old:
            if o.kind not in RENAMED:
                raise UnsupportedShape(f"{o.path}:{o.line}: {OLD} is mentioned where it cannot be renamed safely "
                                       f"({o.kind}: {o.detail}); rename it by hand")
        if new:
            raise UnsupportedShape(f"{new[0].path}:{new[0].line}: {NEW} already exists while {OLD} is still used "
                                   f"(e.g. {old[0].path}:{old[0].line}); finish or undo the rename by hand")
        changes = Renaming(root, "pending", warnings=list(project.checkout.warnings))
        book = EditBook()
        for o in old:
            book.add(o.path, Edit(o.offset, o.offset + len(OLD), NEW, f"rename {OLD}"))
            changes.mentions.append((o.path, o.line, o.kind, o.function))
        for path in sorted(book.sets):
            changes.steps.append(f"rename {len(book.sets[path].edits)} mention(s) in {path}")
        new_sources = materialize(project, book, changes)
        require_gone(OLD, new_sources, old, changes)
        landed = [o for src in new_sources.values() for o in find_occurrences(src, NEW) if o.kind in RENAMED]
        if len(landed) != len(old):
            from migrator.errors import PostconditionFailed

            raise PostconditionFailed(f"{len(old)} mention(s) of {OLD} renamed, but {len(landed)} of {NEW} read back")
        return changes


RECIPE = RenameNumCoresC()

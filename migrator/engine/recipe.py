"""The boundary between the engine and one migration: a `Recipe` says *what* to change (in the spirit of
LibCST's `Codemod` and OpenRewrite's `Recipe`), the engine and the command line do everything else.

A recipe has a name and a description, a prefilter (the words a file must contain to be worth parsing),
its options (flags the command line adds for it), the directory of its Jinja templates, and

- ``plan(project, options) -> Changes``: every file's new bytes, what the reports show (findings), the
  steps, warnings; a refusal is a raised :class:`~migrator.errors.MigrateError` (one line, nothing written);
- ``check(changes, checkout, options)``: optional, runs before anything is written or committed (the default
  recipe's numeric verification plugs in here); raises to refuse, returns what the PR text may quote;
- ``verify(checkout, options)``: the ``verify`` command's document (by default: the plan and its check).

The registry (:mod:`migrator.recipes`) maps names to recipes; the command line, the reports and the
pull-request text only ever see this interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True)
class Option:
    """A flag a recipe adds to some commands (``--with-test`` on plan/apply/describe)."""

    flag: str
    help: str
    commands: tuple[str, ...]
    metavar: str | None = None  # takes a value when set; a switch otherwise
    default: Any = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def argparse_kwargs(self) -> dict:
        if self.metavar is None:
            return {"action": "store_true", "help": self.help}
        return {"metavar": self.metavar, "help": self.help, "default": self.default}


@dataclass(frozen=True)
class Row:
    """One line of a finding's table: what (a field, a caller), the value it gets, and where that comes from."""

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class Finding:
    """Something the reports show about a pending change, at a place in the tree. Every output format
    renders it the same way: a title, a few notes, a table of rows; GitHub gets `annotation` at path:line."""

    path: str
    line: int
    title: str  # one line, Markdown code spans allowed
    notes: tuple[str, ...] = ()
    columns: tuple[str, str, str] = ("name", "value", "from")
    rows: tuple[Row, ...] = ()
    annotation: str = ""  # a GitHub warning at path:line ("" = none)


@dataclass
class Changes:
    """What a recipe's plan produces, all in memory: nothing here has been written anywhere."""

    root: str
    state: str  # a key of the recipe's `state_words` ("pending", "migrated", ...)
    originals: dict[str, bytes] = field(default_factory=dict, repr=False)
    new_contents: dict[str, bytes] = field(default_factory=dict, repr=False)
    edits: dict[str, list[tuple[int, int, bytes]]] = field(default_factory=dict, repr=False)
    created: set[str] = field(default_factory=set)  # paths in new_contents that do not exist yet
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return bool(self.new_contents)

    @property
    def files(self) -> list[str]:
        return sorted(self.new_contents)

    # ---- what the reports show (a recipe's Changes subclass overrides these) ----------------------
    def findings(self) -> list[Finding]:
        return []

    def summary_lines(self) -> list[str]:
        """Lines under the state line of the text report (e.g. what the recipe found in the tree)."""
        return []

    def report_fields(self) -> Any:
        """The recipe's own fields of the JSON document: an instance of its `report_model` (a dataclass whose
        fields are documented with `migrator.document.doc`; the schema is generated from it), or None."""
        return None

    def template_context(self, check=None) -> dict:
        """Extra variables for the recipe's commit message and PR description templates (`check`: what the
        recipe's check hook returned, None when it did not run)."""
        return {}


class Recipe(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    prefilter: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[tuple[Option, ...]] = ()
    report_model: ClassVar[type | None] = None  # the dataclass of Changes.report_fields() (JSON + schema)
    state_words: ClassVar[Mapping[str, str]] = {
        "pending": "migration pending",
        "migrated": "already migrated; nothing to do",
        "nothing-to-migrate": "nothing to migrate",
    }
    # pull-request / commit text: `templates/commit_message.txt.j2` and `templates/pr_description.md.j2`
    commit_template: ClassVar[str] = "commit_message.txt.j2"
    pr_template: ClassVar[str] = "pr_description.md.j2"

    @abstractmethod
    def template_dir(self) -> Path:
        """Where this recipe's Jinja templates are (inside its package, so a wheel ships them)."""

    @abstractmethod
    def plan(self, project, options: Mapping[str, Any]) -> Changes:
        """Everything the migration changes, in memory; raise a MigrateError to refuse."""

    def check(self, changes: Changes, checkout, options: Mapping[str, Any]) -> Any:
        """Runs before anything is written or committed; raise a MigrateError to refuse. The value is
        passed to the templates as `check` (None: no check)."""
        return None

    def verify(self, checkout, options: Mapping[str, Any]) -> "VerifyResult":
        """The `verify` command: by default, the plan and its check (no document of its own)."""
        from migrator.engine.project import Project

        from migrator import PROG, __version__

        changes = self.plan(Project(checkout), options)
        result = self.check(changes, checkout, options) if changes.pending else None  # raises to refuse
        document = {"schema_version": 1, "tool": PROG, "version": __version__, "recipe": self.name,
                    "root": changes.root, "state": changes.state, "pending": changes.pending,
                    "checked": result is not None, "ok": True}
        return VerifyResult(changes, document, ok=True)

    def words(self, state: str) -> str:
        return self.state_words.get(state, state)


@dataclass
class VerifyResult:
    """What `verify` reports: the plan it checked, the recipe's document (JSON fields), whether it passed,
    and optionally the recipe's own renderers for the other formats (format -> function of the document)."""

    changes: Changes
    document: dict
    ok: bool
    renderers: Mapping[str, Any] = field(default_factory=dict)


__all__ = ["Option", "Row", "Finding", "Changes", "Recipe", "VerifyResult"]

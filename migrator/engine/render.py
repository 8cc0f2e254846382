"""Jinja rendering with StrictUndefined and an up-front check that every variable a template
uses is supplied (the same idea as ast-grep rejecting a fix that uses an unbound variable)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.meta

from migrator.errors import TemplateError


class Templates:
    """The Jinja templates of one directory (a recipe's): strict undefined, trimmed blocks."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self.environment.filters["indent_lines"] = indent_lines
        self._required: dict[str, frozenset[str]] = {}

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.iterdir() if p.is_file() and p.suffix == ".j2")

    def required_variables(self, name: str) -> frozenset[str]:
        """Variables `name` and every template it includes read without defining them."""
        if name not in self._required:
            env = self.environment
            ast = env.parse(env.loader.get_source(env, name)[0])
            found = set(jinja2.meta.find_undeclared_variables(ast))
            for included in jinja2.meta.find_referenced_templates(ast):
                if included:
                    found |= self.required_variables(included)
            self._required[name] = frozenset(found)
        return self._required[name]

    def render(self, name: str, **variables) -> str:
        missing = self.required_variables(name) - set(variables)
        if missing:
            raise TemplateError(f"{name}: no value bound for {', '.join(sorted(missing))}")
        try:
            return self.environment.get_template(name).render(**variables)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{name}: {exc}") from None


@lru_cache(maxsize=None)
def templates(directory: str | Path) -> Templates:
    """The (cached) templates of `directory`."""
    return Templates(Path(directory))


def indent_lines(text: str, prefix: str, first: bool = False) -> str:
    """Prefix every non-empty line (optionally not the first) with `prefix`."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line if (not line.strip() or (i == 0 and not first)) else prefix + line)
    return "\n".join(out)

"""Jinja rendering with StrictUndefined and an up-front check that every variable a template
uses is supplied (the same idea as ast-grep rejecting a fix that uses an unbound variable)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.meta

from migrator.errors import TemplateError


def template_dir() -> Path:
    # Imported from a source tree (templates/ beside migrator/): that tree's templates, so the code
    # and the templates always come from the same checkout, even beside another installed copy.
    source = Path(__file__).resolve().parents[2] / "templates"
    if (source / "__init__.py").is_file():
        return source
    from importlib.resources import files

    return Path(str(files("migrator.templates")))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["indent_lines"] = indent_lines
    return env


@lru_cache(maxsize=None)
def required_variables(name: str) -> frozenset[str]:
    """Variables `name` and every template it includes read without defining them."""
    env = environment()
    ast = env.parse(env.loader.get_source(env, name)[0])
    found = set(jinja2.meta.find_undeclared_variables(ast))
    for included in jinja2.meta.find_referenced_templates(ast):
        if included:
            found |= required_variables(included)
    return frozenset(found)


def render(name: str, **variables) -> str:
    missing = required_variables(name) - set(variables)
    if missing:
        raise TemplateError(f"{name}: no value bound for {', '.join(sorted(missing))}")
    try:
        return environment().get_template(name).render(**variables)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}: {exc}") from None


def indent_lines(text: str, prefix: str, first: bool = False) -> str:
    """Prefix every non-empty line (optionally not the first) with `prefix`."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line if (not line.strip() or (i == 0 and not first)) else prefix + line)
    return "\n".join(out)

"""This recipe's templates (`templates/` at the top of the source tree, shipped in the wheel as the package
`migrator.templates`): the C++ it writes, the regression test, the commit message and the PR description."""

from __future__ import annotations

from pathlib import Path

from migrator.engine.render import Templates, templates


def template_dir() -> Path:
    # Imported from a source tree (templates/ beside migrator/): that tree's templates, so the code
    # and the templates always come from the same checkout, even beside another installed copy.
    source = Path(__file__).resolve().parents[2] / "templates"
    if (source / "__init__.py").is_file():
        return source
    from importlib.resources import files

    return Path(str(files("migrator.templates")))


def halo_templates() -> Templates:
    return templates(template_dir())


def render(name: str, **variables) -> str:
    return halo_templates().render(name, **variables)

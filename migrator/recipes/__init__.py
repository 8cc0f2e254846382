"""The registry of recipes: every module or package in this package that defines a `RECIPE` (an instance of
:class:`~migrator.engine.recipe.Recipe`) is one. Adding a recipe is adding a module here; nothing else is
edited (the command line, the reports and the engine find it through `get` and `all_recipes`)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from migrator.engine.recipe import Recipe
from migrator.errors import UsageError


@lru_cache(maxsize=1)
def _registry() -> dict[str, Recipe]:
    found: dict[str, Recipe] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        recipe = getattr(module, "RECIPE", None)
        if isinstance(recipe, Recipe):
            if recipe.name in found:
                raise RuntimeError(f"two recipes are named {recipe.name}")
            found[recipe.name] = recipe
    return found


def names() -> list[str]:
    return sorted(_registry())


def all_recipes() -> list[Recipe]:
    return [_registry()[n] for n in names()]


def get(name: str) -> Recipe:
    try:
        return _registry()[name]
    except KeyError:
        raise UsageError(f"no recipe named '{name}' (known: {', '.join(names())})") from None

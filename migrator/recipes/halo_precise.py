"""The default recipe: tt-metal's `estimate_halo_output_elems` becomes the exact
`sliding_window::calculate_precise_halo_output_elems(config, shard_shape)`. Its implementation is the
package :mod:`migrator.recipe` (sites, facts, bindings, threading the stride, rewrite); its numeric check is
:mod:`migrator.verify`. This module only states the recipe to the engine, and imports the heavy parts
when they are needed (the command line reads every recipe's options before it parses anything)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from migrator.engine.recipe import Changes, Option, Recipe, VerifyResult
from migrator.recipe import names
from migrator.recipe.report import HaloPlanFields


class HaloPrecise(Recipe):
    name = "halo-precise"
    description = (f"Replace tt-metal's {names.ESTIMATE} with the exact halo size "
                   f"(sliding_window::{names.PRECISE}), threading the conv stride where it is missing.")
    prefilter = names.PREFILTER
    options = (
        Option("--with-test", f"also add a gtest pinning {names.PRECISE} to the ttnn C++ unit tests, listed in "
               "their CMakeLists.txt", ("plan", "apply", "describe")),
        Option("--specs", "extra conv specs (JSON like conv2d_short_sweep_specs.json)", ("verify",), metavar="FILE"),
        Option("--grids", "compute grids to evaluate", ("verify",), metavar="GRIDS", default="wormhole,blackhole"),
        Option("--all-paths", "evaluate every spec on every call path (default: a large tree's specs are spread over "
               "the paths, so that together they still cover every spec)", ("verify",)),
    )
    report_model = HaloPlanFields
    state_words = {
        "pending": "migration pending",
        "partially-migrated": "partially migrated; the rest is pending",
        "migrated": "already migrated; nothing to do",
        "nothing-to-migrate": f"no {names.ESTIMATE} in this tree; nothing to migrate",
    }

    def template_dir(self) -> Path:
        from migrator.recipe.render import template_dir

        return template_dir()

    def plan(self, project, options: Mapping[str, Any]) -> Changes:
        from migrator.recipe.plan import build_plan

        return build_plan(project, with_test=bool(options.get("with_test")))

    def check(self, changes, checkout, options: Mapping[str, Any]) -> list[dict]:
        """verify's per-site summaries; refuses the whole apply if any rewrite disagrees with the halo op's
        runtime config (the safety net for a wrong binding)."""
        from migrator.errors import PostconditionFailed
        from migrator.verify.core import refusal, verify_plan
        from migrator.verify.specs import collect_specs

        if not changes.sites:
            return []
        summaries = verify_plan(changes, collect_specs(checkout.root).specs, checkout=checkout)
        if not summaries:
            raise PostconditionFailed("numeric check found no exact call in the migrated text; nothing written")
        why = refusal(summaries)
        if why:
            raise PostconditionFailed(f"{why} (see `halo-migrate verify`); nothing written")
        return summaries

    def verify(self, checkout, options: Mapping[str, Any]) -> VerifyResult:
        from migrator.verify.command import verify_result

        return verify_result(checkout, options)


RECIPE = HaloPrecise()

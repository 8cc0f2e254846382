"""What this checkout really has, read from its own code (never assumed from one revision):
the estimate's parameters and occurrences, SlidingWindowConfig's and ParallelConfig's fields,
the arity of generate_shard_boundaries, which helpers exist, and whether the precise function
is already there."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.engine import cpp
from migrator.engine.locate import Occurrence, find_occurrences, function_nodes
from migrator.engine.project import Project
from migrator.engine.scope import StructDef, struct_definitions
from migrator.engine.source import SourceFile
from migrator.errors import NotACheckout, UnsupportedShape
from migrator.recipe import names
from migrator.recipe.variants import identify_variant


@dataclass
class CheckoutModel:
    sliding_window_hpp: SourceFile | None
    sliding_window_cpp: SourceFile | None
    occurrences: list[Occurrence]
    estimate_params: list[str]
    config_struct: StructDef | None
    parallel_config_struct: StructDef | None
    shard_boundaries_arity: int | None
    helpers: dict[str, str]  # helper name -> namespace it is declared in
    precise_declared: bool
    precise_defined: bool
    estimate_variant: str
    warnings: list[str] = field(default_factory=list)

    @property
    def calls(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.kind == "call"]

    @property
    def state(self) -> str:
        live = [o for o in self.occurrences if o.kind != "inactive"]
        if live:
            return "partially-migrated" if (self.precise_declared or self.precise_defined) else "pending"
        if self.precise_declared and self.precise_defined:
            return "migrated"
        return "nothing-to-migrate"


def read_model(project: Project) -> CheckoutModel:
    project.prime(*names.PREFILTER)
    swh = project.source(names.SLIDING_WINDOW_HPP)
    swc = project.source(names.SLIDING_WINDOW_CPP)
    mentions = project.mentioning(names.ESTIMATE)
    occurrences = [o for s in mentions for o in find_occurrences(s, names.ESTIMATE)]
    warnings = []
    textual_only = [s.path for s in mentions if not any(o.path == s.path for o in occurrences)]
    for path in textual_only:
        warnings.append(f"{path}: mentions {names.ESTIMATE} only in comments, strings or macros; left as is")
    if swh is None and not occurrences:
        raise NotACheckout(
            f"{project.checkout.root}: not a tt-metal checkout (no {names.SLIDING_WINDOW_HPP} and no {names.ESTIMATE})")

    estimate_params: list[str] = []
    variant = "absent"
    decl_owners = [o.owner for o in occurrences if o.kind in ("declaration", "definition") and o.owner is not None]
    # Declarations may name (or not name) parameters differently from the definition: legal C++.
    # Only the count must agree; the names that map to known meanings are kept.
    for owner in decl_owners:
        params = [p.name for p in cpp.parameters(owner)]
        if estimate_params and len(params) != len(estimate_params):
            raise UnsupportedShape(f"{names.ESTIMATE} is declared with {len(estimate_params)} and with "
                                   f"{len(params)} parameters (an overload?); migrate it by hand")
        known = sum(p in names.ESTIMATE_PARAM_ALIASES for p in params)
        if not estimate_params or known > sum(p in names.ESTIMATE_PARAM_ALIASES for p in estimate_params):
            estimate_params = params
    definitions = [o for o in occurrences if o.kind == "definition"]
    if len(definitions) > 1:
        raise UnsupportedShape(f"{names.ESTIMATE} is defined {len(definitions)} times "
                               f"({', '.join(o.path + ':' + str(o.line) for o in definitions)})")
    if definitions:
        src = project.source(definitions[0].path)
        variant = identify_variant(src, definitions[0].owner)

    structs: dict[str, StructDef] = {}
    if swh is not None:
        for sd in struct_definitions(swh):
            structs.setdefault(sd.name, sd)

    arity = None
    precise_declared = precise_defined = False
    if swh is not None:
        decls, _ = function_nodes(swh, names.SHARD_BOUNDARIES)
        if decls:
            arity = len(cpp.parameters(decls[0]))
        pd, _ = function_nodes(swh, names.PRECISE)
        precise_declared = bool(pd)
    if swc is not None:
        _, defs = function_nodes(swc, names.PRECISE)
        precise_defined = bool(defs)
        if arity is None:
            _, gdefs = function_nodes(swc, names.SHARD_BOUNDARIES)
            if gdefs:
                arity = len(cpp.parameters(gdefs[0]))

    helpers: dict[str, str] = {}
    # Headers first: the declaration is what makes the helper callable, and one is enough.
    for path in sorted(project.mentioning_paths(names.NUM_CORES_NHW_HELPER),
                       key=lambda p: not p.endswith((".hpp", ".h"))):
        s = project.source(path)
        if s is None:
            continue
        d, f = function_nodes(s, names.NUM_CORES_NHW_HELPER)
        if d or f:
            helpers[names.NUM_CORES_NHW_HELPER] = cpp.namespace_of((d or f)[0])
            break

    return CheckoutModel(
        sliding_window_hpp=swh, sliding_window_cpp=swc, occurrences=occurrences,
        estimate_params=estimate_params, config_struct=structs.get(names.CONFIG_TYPE),
        parallel_config_struct=structs.get(names.PARALLEL_CONFIG_TYPE), shard_boundaries_arity=arity,
        helpers=helpers, precise_declared=precise_declared, precise_defined=precise_defined,
        estimate_variant=variant, warnings=warnings,
    )

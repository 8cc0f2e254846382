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
    halo_kinds: dict[tuple[str, int], "HaloKind"] = field(default_factory=dict, repr=False)

    def halo_kind(self, occ: Occurrence) -> "HaloKind":
        """Whose halo a call of the estimate sizes (see `classify_halo`)."""
        return self.halo_kinds.get((occ.path, occ.offset)) or classify_halo(occ)

    @property
    def calls(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.kind == "call"]

    @property
    def state(self) -> str:
        # Every mention counts, even one that cannot be migrated (a macro body, a disabled branch):
        # the tree is not migrated while the estimate is still named anywhere in its code.
        if self.occurrences:
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
        warnings.append(f"{path}: mentions {names.ESTIMATE} only in comments or strings; left as is")
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
        halo_kinds={(o.path, o.offset): classify_halo(o) for o in occurrences if o.kind == "call"},
    )


@dataclass(frozen=True)
class HaloKind:
    """Whose halo a call sizes: "conv" (conv2d's: the only kind this recipe binds), "pool" (a pool
    op's, whose config differs: ceil_mode, is_avg_pool, snap_to_tile from the output layout), or
    "unknown" (the evidence disagrees). `evidence` says what decided it, for the refusal."""

    kind: str
    evidence: str


# Names that only a pool op's code has in scope (tt-metal's pool2d: generic_pools.cpp, pool_utils.cpp).
POOL_SCOPE_NAMES = ("Pool2DType", "pool_type", "ceil_mode", "is_avg_pool", "count_include_pad", "divisor_override")


def classify_halo(occ: Occurrence) -> HaloKind:
    """Pool or conv, from what the call's function has in scope and where the call is.

    A pool op's halo config differs from conv2d's in exactly the values a pool function carries:
    `ceil_mode`, the pool type (`is_avg_pool`), the output layout (`snap_to_tile`). So any of
    `POOL_SCOPE_NAMES` in the call's (outermost) function, as a parameter, local, type or member
    (`op.pool_type_`), makes it "pool", whose evidence names them and, if it agrees, the location (a
    `pool/` directory or a `pool` namespace). A call in pool code whose function has none of them is
    "unknown": it is bound from the estimate's own arguments like a conv2d halo (the estimate knew no
    more), with a warning. No pool evidence at all: "conv". A function's or file's name never decides."""
    where = []
    if "/pool/" in "/" + occ.path:
        where.append(f"in {occ.path.rsplit('/', 1)[0]}/")
    ns = cpp.namespace_of(occ.node)
    if any("pool" in part for part in ns.split("::")):
        where.append(f"namespace {ns}")
    fn = None
    for a in cpp.ancestors(occ.node):
        if a.type == "function_definition":
            fn = a  # the outermost one: a lambda's enclosing function sees the same op parameters
    seen: list[str] = []
    for n in cpp.walk(fn) if fn is not None else ():
        if n.type in ("identifier", "type_identifier", "field_identifier"):
            t = cpp.text(n)
            if t.rstrip("_") in POOL_SCOPE_NAMES and t not in seen:
                seen.append(t)
    if seen:
        return HaloKind("pool", "; ".join([", ".join(where)] * bool(where) + [f"{', '.join(seen)} in scope"]))
    if where:
        return HaloKind("unknown", f"pool code ({', '.join(where)}), though {occ.function or 'the function'} has "
                        "no pool parameters in scope")
    return HaloKind("conv", "")

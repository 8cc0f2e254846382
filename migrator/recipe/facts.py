"""What is true at one estimate call, worked out once and then frozen.

`analyze(site)` reads the syntax tree and the scope at the call and records, for every value a
binding may use, its C++ spelling, its declared type and where it comes from. Threading (a new
`stride` parameter) and the slice geometry (a DRAM slice's exact extents and padding) add values
later by `dataclasses.replace`, never by mutation. bindings.py turns these facts into expressions
and reads nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import tree_sitter as ts

from migrator.engine import cpp, dataflow
from migrator.engine.cpptypes import shape_of, strip_cv_ref
from migrator.engine.scope import bare_type
from migrator.recipe import names
from migrator.recipe.site import Expr, Site

# What the estimate's parameters are declared as, where the checkout's declaration cannot be read.
DEFAULT_PARAM_TYPES = {"shard_shape": "std::array<uint32_t, 2>", "kernel_size": "std::array<uint32_t, 2>",
                       "dilation": "std::array<uint32_t, 2>", "padding": "std::array<uint32_t, 4>"}
# Roles whose value the config takes apart into two elements.
PAIR_ROLES = ("kernel_size", "dilation")
# tt-metal's ShardSpec::shape, read as `X.shard_spec().value().shape`.
SHARD_SHAPE_TYPE = "std::array<uint32_t, 2>"


@dataclass(frozen=True)
class Arg:
    """One argument of the estimate call."""

    role: str
    text: str  # as written, whitespace squashed
    value: Expr  # typed; for an expression argument, the local it is first bound to
    elements: tuple[str, ...] = ()  # a braced list's elements (`{3, 3}`, `std::array<…>{3, 3}`)


@dataclass(frozen=True)
class Local:
    """An expression argument the config block holds in a local of the estimate parameter's declared
    type first: evaluated once, converted exactly as the call converted it, then taken apart."""

    type_text: str
    name: str
    expr: str


@dataclass(frozen=True)
class SliceFacts:
    """A DRAM slice whose sizes, as this site receives them, already contain the slice's padding."""

    evidence: str  # the statement that adds the padding
    late_padding: str  # a `pad_x += …` after the sizes were computed ('' if none)
    exact_input_hw: Expr | None = None  # set once the lambda receives the clamped extents
    exact_padding: Expr | None = None  # … and the final slice padding


@dataclass(frozen=True)
class SiteFacts:
    path: str
    line: int
    function: str
    lambda_name: str
    args: Mapping[str, Arg]
    locals: tuple[Local, ...]
    stride: Expr | None  # the convolution's stride (site.find_stride), or the threaded parameter
    memory_config: Expr | None  # the memory config the shard shape was read from
    parallel_config: Expr | None  # the ParallelConfig linked to it by data flow
    parallel_configs_seen: tuple[str, ...]
    num_cores_helper: str | None  # get_num_cores_nhw_from_parallel_config, spelled for this site
    slice: SliceFacts | None

    def arg(self, role: str) -> Arg:
        return self.args[role]


def analyze(site: Site, param_types: Mapping[str, str], reserved: set[str]) -> SiteFacts:
    """The facts of one site. `reserved`: names other sites' locals already took (updated)."""
    args: dict[str, Arg] = {}
    locals_: list[Local] = []
    for role, node in site.args.items():
        text = " ".join(site.src.text(node).split())
        provenance = site.provenance_of(node, f"argument `{role}` of the estimate call")
        value = Expr(text, provenance, declared_type(site, node))
        elements = braced_elements(node)
        if role in PAIR_ROLES and not elements and not (is_simple(node) and value.shape.is_vector(2)):
            # `cond ? a : b`, a call, or a name whose type is not known: hold it in a local of the
            # parameter's type, so it is evaluated once and converted as the call did.
            name = free_name(site, f"halo_{role}", reserved)
            type_text = strip_cv_ref(param_types.get(role) or DEFAULT_PARAM_TYPES[role])
            locals_.append(Local(type_text, name, text))
            value = Expr(name, f"{provenance}; held in `{name}` (an expression argument)", type_text)
        args[role] = Arg(role, text, value, elements)
    mem = site.memory_config_of_shard_shape()
    memory_config = Expr(mem[0], mem[1]) if mem else None
    return SiteFacts(
        path=site.path, line=site.line, function=site.occurrence.function,
        lambda_name=site.occurrence.lambda_name, args=MappingProxyType(args), locals=tuple(locals_),
        stride=site.stride(), memory_config=memory_config,
        parallel_config=site.parallel_config_for(mem[0] if mem else None),
        parallel_configs_seen=tuple(n.name for n in site.scope.of_type(names.PARALLEL_CONFIG_TYPE)),
        num_cores_helper=site.helper(names.NUM_CORES_NHW_HELPER),
        slice=slice_facts(site))


# ---- types and shapes of arguments ---------------------------------------------------------------
def is_simple(node: ts.Node) -> bool:
    """A plain name or a member access on one: safe to read twice and to index."""
    if node.type in ("identifier", "qualified_identifier"):
        return True
    if node.type == "field_expression":
        base = node.child_by_field_name("argument")
        return base is not None and is_simple(base)
    return False


def braced_elements(node: ts.Node) -> tuple[str, ...]:
    """`{a, b}` or `std::array<uint32_t, 2>{a, b}` -> ('a', 'b')."""
    if node.type == "compound_literal_expression":
        node = node.child_by_field_name("value") or node
    if node.type != "initializer_list":
        return ()
    return tuple(" ".join(cpp.text(c).split()) for c in cpp.named_children(node) if c.type != "comment")


def declared_type(site: Site, node: ts.Node, depth: int = 0) -> str:
    """The declared type of a name or member access, `auto` followed through its initializer;
    '' when it cannot be established."""
    if depth > 4:
        return ""
    if node.type == "compound_literal_expression":
        t = node.child_by_field_name("type")
        return cpp.text(t) if t is not None else ""
    if node.type == "identifier":
        n = site.scope.get(cpp.text(node))
        if n is None:
            return ""
        if bare_type(n.type_text) != "auto":
            return n.type_text
        init = n.initializer_node
        return declared_type(site, init, depth + 1) if init is not None else ""
    if node.type == "field_expression":
        if _is_shard_spec_shape(node):
            return SHARD_SHAPE_TYPE
        base, member = node.child_by_field_name("argument"), node.child_by_field_name("field")
        if base is not None and base.type == "identifier" and member is not None:
            e = site.member_of(cpp.text(base), cpp.text(member))
            return e.type_text if e is not None else ""
    return ""


def _is_shard_spec_shape(node: ts.Node) -> bool:
    t = cpp.text(node).replace(" ", "").replace("\n", "")
    return t.endswith((".shard_spec().value().shape", ".shard_spec()->shape"))


def free_name(site: Site, base: str, reserved: set[str]) -> str:
    fn = site.scope.function
    used = {cpp.text(n) for n in cpp.walk(fn) if n.type == "identifier"} if fn is not None else set()
    name, i = base, 2
    while name in site.scope or name in used or name in reserved:
        name, i = f"{base}_{i}", i + 1
    reserved.add(name)
    return name


# ---- DRAM slices -----------------------------------------------------------------------------------
def slice_facts(site: Site) -> SliceFacts | None:
    """If the height passed to this site is a lambda parameter whose value, at the lambda's call,
    was computed with padding terms: the evidence, and a padding adjustment made after it."""
    h = site.arg_node("input_height")
    if h.type != "identifier" or not site.scope.lambdas:
        return None
    lam = site.scope.lambdas[0]
    params = [p.name for p in cpp.parameters(lam)]
    if cpp.text(h) not in params:
        return None
    index = params.index(cpp.text(h))
    var = dataflow.lambda_variable(lam)
    fn = site.scope.function
    if not var or fn is None:
        return None
    for call in dataflow.calls_named(fn, var):
        args = cpp.arguments(call)
        if index >= len(args) or args[index].type != "identifier":
            continue
        passed = cpp.text(args[index])
        for stmt, _op, rhs in dataflow.assignments_to(fn, passed):
            pads = [i for i in dataflow.identifiers_in(rhs) if "pad" in i]
            if pads:
                evidence = f"{site.path}:{site.src.line(stmt)} `{_squash(site.src.text(stmt))}`"
                return SliceFacts(evidence, _late_padding(site, fn, stmt, call))
    return None


def _late_padding(site: Site, fn, dims_stmt, call) -> str:
    """A `pad_x += ...` between the slice-size computation and the lambda call."""
    for n in cpp.walk(fn):
        if (n.type == "assignment_expression" and dims_stmt.end_byte <= n.start_byte < call.start_byte
                and cpp.text(n.child_by_field_name("operator")) == "+="):
            left = n.child_by_field_name("left")
            if left is not None and "pad" in cpp.text(left):
                return f"`{_squash(site.src.text(n))}` ({site.path}:{site.src.line(n)})"
    return ""


def _squash(s: str) -> str:
    return " ".join(s.split())


__all__ = ["Arg", "Local", "SliceFacts", "SiteFacts", "analyze", "declared_type", "is_simple", "shape_of"]

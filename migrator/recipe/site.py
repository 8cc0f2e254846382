"""Everything known at one call of the estimate: its arguments by meaning, the names in scope, and
the traced sources of values that are not arguments (stride, parallel config, memory config)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter as ts

from migrator.engine import cpp, dataflow
from migrator.engine.cpptypes import UNKNOWN, TypeShape, element, shape_of
from migrator.engine.locate import Occurrence, find_occurrences
from migrator.engine.project import Project
from migrator.engine.scope import Scope, StructDef, bare_type, scope_at
from migrator.engine.source import SourceFile
from migrator.errors import UnresolvedBinding, UnsupportedShape
from migrator.recipe import names


@dataclass(frozen=True)
class Expr:
    """A C++ expression the recipe may emit, with where its value comes from and its declared type
    ('' where the type is not known: such a value is never taken apart)."""

    text: str
    provenance: str
    type_text: str = ""

    @property
    def shape(self) -> TypeShape:
        return shape_of(self.type_text, names.TYPE_ALIASES) if self.type_text else UNKNOWN

    def as_array_argument(self) -> str:
        """The value spelled for a `const std::array<uint32_t, 2>&` parameter."""
        if self.shape.kind == "pair":
            return "{" + ", ".join(element(self.text, self.shape, i) for i in range(2)) + "}"
        return self.text


class Lookup:
    """Struct and member lookups shared by call sites and by the callers threading visits."""

    project: Project
    scope: Scope

    def struct(self, type_name: str, depth: int = 2, mentioning: str = "") -> StructDef | None:
        return self.project.struct_visible_from(self.src, type_name, depth, mentioning)

    def member_of(self, base: str, member: str, depth: int = 2) -> Expr | None:
        """`base.member` if `base` is visible and its struct type (defined in this file or a
        header it includes, up to `depth` levels) has that member."""
        n = self.scope.get(base)
        if n is None:
            return None
        sd = self.struct(n.bare_type, depth, mentioning=member)
        if sd is None or sd.field(member) is None:
            return None
        f = sd.field(member)
        return Expr(f"{base}.{member}",
                    f"member `{f.type_text} {member}` of {sd.name} ({sd.path}:{f.line}) via {n.provenance}",
                    f.type_text)


class ScopeView(Lookup):
    def __init__(self, project: Project, src: SourceFile, point: ts.Node):
        self.project = project
        self.src = src
        self.point = point
        self.scope = scope_at(src, point)


@dataclass
class Site(Lookup):
    project: Project = field(repr=False)
    src: SourceFile = field(repr=False)
    occurrence: Occurrence
    call: ts.Node = field(repr=False)
    scope: Scope = field(repr=False)
    args: dict[str, ts.Node] = field(repr=False)
    project_helpers: dict[str, str] = field(default_factory=dict)  # helper -> its namespace

    @property
    def path(self) -> str:
        return self.src.path

    @property
    def point(self) -> ts.Node:
        return self.call

    @property
    def line(self) -> int:
        return self.occurrence.line

    # ---- arguments ---------------------------------------------------------------------
    def arg(self, role: str) -> Expr:
        node = self.args[role]
        return Expr(self.src.text(node), self.provenance_of(node, f"argument `{role}` of the estimate call"))

    def arg_node(self, role: str) -> ts.Node:
        return self.args[role]

    def provenance_of(self, node: ts.Node, fallback: str) -> str:
        root = dataflow.root_identifier(node)
        name = self.scope.get(root) if root else None
        if name is None:
            return fallback
        return name.provenance

    # ---- traced sources -----------------------------------------------------------------
    def memory_config_of_shard_shape(self) -> tuple[str, str] | None:
        """The memory-config variable the shard shape was read from: `X` in `X.shard_spec().value().shape`,
        in the argument or, through locals, in what it was computed from (`{2 * s[0], s[1]}` with
        `auto s = X.shard_spec().value().shape`). None unless exactly one such `X` is found."""
        roots: set[str] = set()
        pending, seen = [self.args["shard_shape"]], set()
        while pending and len(seen) < 8:
            node = pending.pop()
            for sub in cpp.walk(node):
                root = _shard_spec_root(sub)
                if root:
                    roots.add(root)
                elif sub.type == "identifier" and cpp.text(sub) not in seen:
                    seen.add(cpp.text(sub))
                    name = self.scope.get(cpp.text(sub))
                    if name is not None and name.kind == "local" and name.initializer_node is not None:
                        pending.append(name.initializer_node)
        if len(roots) != 1:
            return None
        root = roots.pop()
        name = self.scope.get(root)
        return (root, name.provenance) if name else None

    def parallel_config_for(self, memory_config: str | None) -> Expr | None:
        """The ParallelConfig linked to the halo input's memory config by data flow: the one passed
        when the memory config was made, or the one made from it."""
        candidates = self.scope.of_type(names.PARALLEL_CONFIG_TYPE)
        if memory_config is None:
            return None
        mem = self.scope.get(memory_config)
        linked = []
        for c in candidates:
            made_from = c.initializer_node is not None and memory_config in dataflow.identifiers_in(c.initializer_node)
            passed_to = mem is not None and c.name in dataflow.identifiers_in(mem.initializer_node)
            if made_from or passed_to:
                linked.append((c, "made from" if made_from else "passed to"))
        if len(linked) == 1:
            c, how = linked[0]
            return Expr(c.name, f"{c.provenance}; {how} `{memory_config}`")
        if not linked and len(candidates) == 1 and mem is not None and mem.kind.endswith("parameter"):
            # Both arrive from the caller (nothing to trace here): the only ParallelConfig is the one.
            c = candidates[0]
            return Expr(c.name, f"{c.provenance}; the only ParallelConfig in scope")
        return None

    def stride(self) -> Expr | None:
        """The convolution's stride visible here, by where it comes from (stride_candidates); a stride
        parameter of the site's function must travel with the kernel at each of its callers."""
        return find_stride(self, self.args["kernel_size"], callers_too=True)

    def enclosing_namespace(self) -> str:
        return cpp.namespace_of(self.call)

    def helper(self, name: str) -> str | None:
        """`name` spelled as code at this site must spell it (namespace-qualified if needed)."""
        if name not in self.project_helpers:
            return None
        return cpp.qualifier(self.enclosing_namespace(), self.project_helpers[name]) + name


def find_stride(site_like, kernel_node: ts.Node, callers_too: bool = False) -> Expr | None:
    """The convolution's stride visible at a call site or at a caller of a threaded function, chosen
    by where the value comes from, never by its name alone (see stride_candidates). None when no
    value qualifies (the caller then threads one in); UnresolvedBinding when two equally good ones
    disagree."""
    ranked = stride_candidates(site_like, kernel_node)
    if not ranked:
        return None
    ranked = _travelling_with_the_kernel(site_like, kernel_node, ranked)
    best = min(rank for rank, _ in ranked)
    top = {e.text: e for rank, e in ranked if rank == best}
    if len(top) > 1:
        where = f"{site_like.src.path}:{site_like.src.line(kernel_node)}"
        raise UnresolvedBinding(f"{where}: more than one value could be the convolution stride "
                                f"({', '.join(f'`{t}`' for t in top)}); pass it explicitly and rerun")
    chosen = next(iter(top.values()))
    if callers_too:  # at the site only: a threading caller's own callers are one level further than checked
        _callers_pair_it_with_the_kernel(site_like, kernel_node, chosen)
    return chosen


def _callers_pair_it_with_the_kernel(site_like, kernel_node: ts.Node, chosen: Expr) -> None:
    """Where both the kernel and the chosen stride are parameters of the enclosing function (a branch
    that already passes the stride in), their values are what each caller passes: at every call the
    stride argument must travel with the kernel argument, as a threaded one must
    (`_travelling_with_the_kernel`).  A caller that folds the kernel but passes the stride it was
    asked for (`orig_stride`) describes another conv than the one the halo op runs; no spec the
    numeric check runs may fold, so this is decided from the code."""
    fn = site_like.scope.function
    kernel, stride = dataflow.root_identifier(kernel_node), dataflow.leading_name(chosen.text)
    if kernel_node.type != "identifier" or stride == kernel:
        return  # `params.kernel_size` beside `params.stride`: one struct the caller fills, they travel together
    k, s = site_like.scope.get(kernel), site_like.scope.get(stride)
    if fn is None or k is None or s is None or k.kind != "parameter" or s.kind != "parameter":
        return
    params = [p.name for p in cpp.parameters(fn)]
    if kernel not in params or stride not in params:
        return
    ki, si = params.index(kernel), params.index(stride)
    fname = cpp.last_name(cpp.function_name(fn))
    for src in site_like.project.mentioning(fname):
        for occ in find_occurrences(src, fname):
            if occ.kind != "call":
                continue
            args = [a for a in cpp.arguments(occ.owner) if a.type != "comment"]
            if max(ki, si) >= len(args):
                continue  # a default argument: nothing this caller chose
            view = ScopeView(site_like.project, src, occ.owner)
            passed = Expr(" ".join(cpp.text(args[si]).split()), f"{occ.path}:{occ.line}", chosen.type_text)
            # the variables the argument is made of (`{stride[0], stride[1]}`, `SlidingWindowConfig{.stride_hw = ...}`)
            made_of = set(dataflow.identifiers_in(args[si]))
            try:
                _travelling_with_the_kernel(view, args[ki], [(OP_PARAMETER, passed)], names_of=lambda e: made_of)
            except UnresolvedBinding as exc:
                raise UnresolvedBinding(f"{occ.path}:{occ.line}: {fname} is passed `{passed.text}` as its stride "
                                        f"`{stride}` next to the kernel `{' '.join(cpp.text(args[ki]).split())}`: "
                                        f"{str(exc).split(': ', 1)[-1]}") from None


def _travelling_with_the_kernel(site_like, kernel_node: ts.Node, ranked: list[tuple[int, Expr]],
                                names_of=lambda e: {dataflow.leading_name(e.text)}):
    """The candidates that describe the same convolution as the kernel passed at this call.  Where the
    kernel is changed before the call, the conv's stride changes under the same conditions
    (`fold_input_tensor_if_required(..., kernel_size, stride, ...)` rewrites both in place): a branch
    that folds a copy (`conv_stride`) and passes the folded kernel must pass that copy, not the
    untouched parameter.  A kernel written out as a literal describes a conv whose stride no variable
    here is known to hold.  Neither is left to the ranks."""
    where = f"{site_like.src.path}:{site_like.src.line(kernel_node)}"
    if not dataflow.identifiers_in(kernel_node):
        raise UnresolvedBinding(f"{where}: the kernel passed here is the literal `{' '.join(cpp.text(kernel_node).split())}`"
                                ": the stride of the conv it describes is not in scope; pass it explicitly and rerun")
    kernel_node = _whole_kernel(kernel_node, where)
    fn = site_like.scope.function
    body = fn.child_by_field_name("body") if fn is not None else None
    kernel = dataflow.root_identifier(kernel_node)
    if body is None or not kernel:
        return ranked
    signatures = _signatures(site_like.project, site_like.src)
    points = [site_like.point]
    declared = site_like.scope.get(kernel)
    if declared is not None and declared.kind == "lambda-parameter":
        # The kernel is what each call of the enclosing lambda passes: it must be one variable, and the
        # stride must travel with it at every call (a lambda run for the folded conv with `{1, 1}` and
        # for the unfolded one with `kernel_size` describes two convs, and no one name is both strides).
        passed = _lambda_arguments(declared, body)
        roots = {dataflow.root_identifier(a) if dataflow.identifiers_in(a) else "" for a, _ in passed}
        if not passed or len(roots) != 1 or "" in roots:
            shown = ", ".join(f"`{' '.join(cpp.text(a).split())}`" for a, _ in passed) or "no call of it here"
            raise UnresolvedBinding(f"{where}: the kernel `{kernel}` is a parameter of a lambda whose calls pass "
                                    f"{shown}: the stride of the conv each call describes is not one name here; "
                                    "pass it explicitly and rerun")
        kernel, points = roots.pop(), [call for _, call in passed]

    def writers(*names_: str) -> frozenset[int]:
        return frozenset().union(*(dataflow.writers_before(body, n, pt, signatures) for n in names_ for pt in points))

    want = writers(kernel)
    if not want:
        return ranked  # the kernel is the one handed in: the ranks decide (a stride set up here is not a fold)
    paired = [(rank, e) for rank, e in ranked if writers(*names_of(e)) == want]
    if not paired:
        raise UnresolvedBinding(
            f"{where}: the kernel `{kernel}` passed here is changed by other statements than every stride candidate "
            f"({', '.join(f'`{e.text}`' for _, e in ranked)}), so none is known to be this conv's stride; "
            "pass it explicitly and rerun")
    return paired


def _whole_kernel(node: ts.Node, where: str) -> ts.Node:
    """The variable a kernel argument passes whole: `kernel_size`, `params.kernel_size`, or its two
    elements in order (`{kernel_size[0], kernel_size[1]}`).  A kernel built otherwise (swapped for a
    transposed 1D conv, `{kernel_size[0], 1}` for one pass of a separable kernel) describes a conv whose
    stride is built the same way, which no variable here holds."""
    if node.type in ("identifier", "field_expression", "qualified_identifier", "parenthesized_expression"):
        return node
    items = cpp.braced_items(node) or []

    def compact(n) -> str:
        return "".join(cpp.text(n).split())
    if len(items) == 2 and all(i.type == "subscript_expression" for i in items):
        bases = [i.child_by_field_name("argument") for i in items]
        if compact(bases[0]) == compact(bases[1]) and \
                [compact(i.child_by_field_name("indices")) for i in items] == ["[0]", "[1]"]:
            return bases[0]
    raise UnresolvedBinding(f"{where}: the kernel passed here is `{' '.join(cpp.text(node).split())}`, built from "
                            "parts: the stride of the conv it describes is not in scope; pass it explicitly and rerun")


def _lambda_arguments(param, body: ts.Node) -> list[tuple[ts.Node, ts.Node]]:
    """(argument, call) for every call in `body` of the named lambda that declares `param`, the
    argument being the one at that parameter's position; [] when the lambda has no name or a call
    passes fewer arguments."""
    lam = cpp.enclosing(param.declaration, "lambda_expression") if param.declaration is not None else None
    holder = lam.parent if lam is not None else None
    if holder is None or holder.type != "init_declarator":
        return []
    name = cpp.text(cpp.declarator_name(holder.child_by_field_name("declarator")) or holder)
    index = next((i for i, p in enumerate(cpp.parameters(lam)) if p.name == param.name), None)
    out = []
    for n in cpp.walk(body):
        fn = n.child_by_field_name("function") if n.type == "call_expression" else None
        if fn is not None and fn.type == "identifier" and cpp.text(fn) == name:
            args = [a for a in cpp.arguments(n) if a.type != "comment"]
            if index is None or index >= len(args):
                return []
            out.append((args[index], n))
    return out


def _signatures(project: Project, src: SourceFile):
    """callee name -> the parameter lists a call of it in `src` may bind to.  A macro (`TT_FATAL`) or a
    standard-library call changes no variable of the conv here, and looking it up would grep the tree."""
    def signatures(callee: str) -> list:
        name = cpp.last_name(callee) if callee else ""
        if not name or name.isupper() or callee.startswith("std::"):
            return []
        return project.signatures(name, src)
    return signatures


# Ranks of the evidence that a value is the convolution's stride (lower is stronger).
BESIDE_KERNEL, OP_PARAMETER, CONFIG_STRIDE, COPY, PARAMS_STRUCT = 1, 2, 3, 4, 5


def stride_candidates(site_like, kernel_node: ts.Node) -> list[tuple[int, Expr]]:
    """Every visible value with evidence of being the convolution's stride, with its rank:

    1. the `stride` member of the object the kernel size is read from (`params.stride` beside
       `params.kernel_size`);
    2. a parameter of the enclosing function or lambda typed as two integers and named as a stride
       (`stride`, `conv_stride`, `stride_hw`): the op's own stride, handed down;
    3. `X.stride_hw` of a SlidingWindowConfig whose stride was set before this point;
    4. a local of two integers copied from one of the above (`auto s = params.stride;`);
    5. the `stride` member of the one visible struct that also carries the kernel or window.

    Only values of a known two-integer type (std::array<·, 2>, std::pair / uint32_pair_t) count:
    a scalar `stride` (a byte pitch, say) is never the convolution's stride."""
    scope = site_like.scope
    out: list[tuple[int, Expr]] = []

    def add(rank: int, e: Expr | None) -> None:
        if e is not None and e.shape.is_vector(2):
            out.append((rank, e))

    if kernel_node.type == "field_expression":
        base = kernel_node.child_by_field_name("argument")
        if base is not None and base.type == "identifier":
            add(BESIDE_KERNEL, site_like.member_of(cpp.text(base), names.STRIDE))
    parameter = ("parameter", "lambda-parameter")
    for n in scope.names():
        if n.kind in parameter and names.STRIDE_NAME.fullmatch(n.name):
            add(OP_PARAMETER, Expr(n.name, f"{n.provenance}: the op's stride parameter", n.type_text))
        elif n.bare_type == names.CONFIG_TYPE and (n.kind in parameter or _config_sets_stride(site_like, n)):
            # A config handed in carries the caller's stride; a local one only once its stride was set.
            add(CONFIG_STRIDE, Expr(f"{n.name}.{names.CONFIG_STRIDE_FIELD}",
                                    f"`{names.CONFIG_STRIDE_FIELD}` of {n.provenance}", names.CONFIG_STRIDE_TYPE))
    sources = {e.text: e for _, e in out}
    scalars = {n.name for n in scope.names() if n.kind in parameter and names.STRIDE_SCALAR_NAME.fullmatch(n.name)
               and shape_of(n.type_text).kind == "scalar"}
    for n in scope.names():
        if n.kind in ("local", "init-capture", "namespace-variable") and n.initializer_node is not None:
            init = " ".join(cpp.text(n.initializer_node).split())
            if init in sources:
                typed = n.type_text if bare_type(n.type_text) != "auto" else sources[init].type_text
                add(COPY, Expr(n.name, f"{n.provenance}: a copy of `{init}`", typed))
            elif len(scalars) == 2 and _pair_of_names(n.initializer_node) == sorted(scalars, key=_height_first):
                # `auto s = std::make_pair(stride_h, stride_w);` / `std::array<uint32_t, 2> s = {stride_h, stride_w};`
                typed = n.type_text if bare_type(n.type_text) != "auto" else "std::pair<uint32_t, uint32_t>"
                add(COPY, Expr(n.name, f"{n.provenance}: built from the stride parameters", typed))
    if not out:
        found = []
        for v in (v for v in scope.names() if shape_of(v.type_text).kind == "struct"):
            sd = site_like.struct(v.bare_type, 1, mentioning=names.STRIDE)
            if (sd is not None and sd.field(names.STRIDE) is not None
                    and any(names.WINDOW_FIELD_NAME.fullmatch(f.name) for f in sd.fields)):
                found.append(site_like.member_of(v.name, names.STRIDE, depth=1))
        if len(found) == 1:
            add(PARAMS_STRUCT, found[0])
    return out


def _pair_of_names(init: ts.Node) -> list[str]:
    """['a', 'b'] for `std::make_pair(a, b)`, `{a, b}` or `T{a, b}`; [] otherwise."""
    node = init
    if node.type == "call_expression" and cpp.last_name(cpp.call_name(node)) == "make_pair":
        items = cpp.arguments(node)
    else:
        items = cpp.braced_items(node) or []
    return [cpp.text(i) for i in items] if len(items) == 2 and all(i.type == "identifier" for i in items) else []


def _height_first(name: str) -> int:
    return 0 if re.search(r"(_h|_height|_y)$", name) else 1


def _config_sets_stride(site_like, n) -> bool:
    """Whether a visible SlidingWindowConfig had its stride set before this point: a designated
    initializer `.stride_hw = …` or an assignment `name.stride_hw = …` earlier in the function."""
    field_ = names.CONFIG_STRIDE_FIELD
    if n.initializer_node is not None and f".{field_}" in cpp.text(n.initializer_node).replace(" ", ""):
        return True
    fn = site_like.scope.function
    if fn is None or n.declaration is None:
        return False
    for a in cpp.walk(fn):
        if (a.type == "assignment_expression"
                and n.declaration.end_byte <= a.start_byte < site_like.point.start_byte):
            left = a.child_by_field_name("left")
            if left is not None and cpp.text(left).replace(" ", "") == f"{n.name}.{field_}":
                return True
    return False


def _shard_spec_root(node: ts.Node) -> str:
    """`X` if node is `X.shard_spec().value().shape` (or `->`), else ''."""
    t = cpp.text(node).replace(" ", "").replace("\n", "")
    for suffix in (".shard_spec().value().shape", ".shard_spec()->shape"):
        if t.endswith(suffix):
            head = t[: -len(suffix)]
            if head.isidentifier():
                return head
    return ""


def map_arguments(call: ts.Node, params: list[str], where: str) -> dict[str, ts.Node]:
    args = cpp.arguments(call)
    if params and len(args) != len(params):
        raise UnsupportedShape(f"{where}: the call passes {len(args)} arguments, the declaration has {len(params)}")
    if len(args) != len(names.ESTIMATE_ROLES):
        raise UnsupportedShape(f"{where}: the call passes {len(args)} arguments, expected {len(names.ESTIMATE_ROLES)}")
    roles = [names.ESTIMATE_PARAM_ALIASES.get(p) for p in params] if params else list(names.ESTIMATE_ROLES)
    if sorted(r for r in roles if r) != sorted(names.ESTIMATE_ROLES):
        roles = list(names.ESTIMATE_ROLES)  # renamed parameters: fall back to position
    return dict(zip(roles, args))


def make_site(project: Project, occ: Occurrence, params: list[str], helpers: dict[str, str]) -> Site:
    """The site of one estimate call; `helpers`: the checkout's helper functions and their namespaces."""
    src = project.source(occ.path)
    call = occ.owner
    where = f"{occ.path}:{occ.line}"
    args = map_arguments(call, params, where)
    return Site(project, src, occ, call, scope_at(src, call), args, dict(helpers))


__all__ = ["Expr", "Site", "make_site", "find_stride", "bare_type"]

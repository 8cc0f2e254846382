"""Everything known at one call of the estimate: its arguments by meaning, the names in scope, and
the traced sources of values that are not arguments (stride, parallel config, memory config)."""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter as ts

from migrator.engine import cpp, dataflow
from migrator.engine.locate import Occurrence
from migrator.engine.project import Project
from migrator.engine.scope import Scope, StructDef, bare_type, scope_at
from migrator.engine.source import SourceFile
from migrator.errors import UnsupportedShape
from migrator.recipe import names


@dataclass(frozen=True)
class Expr:
    """A C++ expression the recipe may emit, with where its value comes from."""

    text: str
    provenance: str


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
                    f"member `{f.type_text} {member}` of {sd.name} ({sd.path}:{f.line}) via {n.provenance}")


class ScopeView(Lookup):
    def __init__(self, project: Project, src: SourceFile, point: ts.Node):
        self.project = project
        self.src = src
        self.scope = scope_at(src, point)


@dataclass
class Site(Lookup):
    project: Project = field(repr=False)
    src: SourceFile = field(repr=False)
    occurrence: Occurrence
    call: ts.Node = field(repr=False)
    scope: Scope = field(repr=False)
    args: dict[str, ts.Node] = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    threaded: dict[str, Expr] = field(default_factory=dict)  # values made visible by threading
    project_helpers: dict[str, str] = field(default_factory=dict)  # helper -> its namespace
    cached: dict[str, object] = field(default_factory=dict, repr=False)  # per-site analyses, computed once

    @property
    def path(self) -> str:
        return self.src.path

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
        directly in the argument or in the initializer of the local the argument names."""
        node = self.args["shard_shape"]
        for _ in range(3):
            root = _shard_spec_root(node)
            if root:
                name = self.scope.get(root)
                return (root, name.provenance if name else root) if name else None
            if node.type == "identifier":
                name = self.scope.get(cpp.text(node))
                if name is None or name.initializer_node is None:
                    return None
                node = name.initializer_node
            else:
                return None
        return None

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
        """The convolution's stride in scope: beside the kernel size when that is a struct member,
        else a visible `stride`, else the one struct-typed variable with a `stride` member."""
        if names.STRIDE in self.threaded:
            return self.threaded[names.STRIDE]
        return find_stride(self, self.args["kernel_size"])

    def enclosing_namespace(self) -> str:
        return cpp.namespace_of(self.call)

    def helper(self, name: str) -> str | None:
        """`name` spelled as code at this site must spell it (namespace-qualified if needed)."""
        if name not in self.project_helpers:
            return None
        return cpp.qualifier(self.enclosing_namespace(), self.project_helpers[name]) + name


def find_stride(site_like, kernel_node: ts.Node) -> Expr | None:
    """Shared by call sites and by threading (each caller of the threaded function)."""
    scope = site_like.scope
    if kernel_node.type == "field_expression":
        base = kernel_node.child_by_field_name("argument")
        if base is not None and base.type == "identifier":
            e = site_like.member_of(cpp.text(base), names.STRIDE)
            if e is not None:
                return e
    n = scope.get(names.STRIDE)
    if n is not None and ("array" in n.type_text or n.bare_type in ("auto",) or "pair" in n.type_text):
        return Expr(names.STRIDE, n.provenance)
    typed = [v for v in scope.names() if v.bare_type not in ("auto", "uint32_t", "int", "bool")]
    # Last resort, so only the file and its direct includes are searched for the struct types.
    found = [e for e in (site_like.member_of(v.name, names.STRIDE, depth=1) for v in typed) if e is not None]
    if len(found) == 1:
        return found[0]
    return None


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


def make_site(project: Project, occ: Occurrence, params: list[str]) -> Site:
    src = project.source(occ.path)
    call = occ.owner
    where = f"{occ.path}:{occ.line}"
    args = map_arguments(call, params, where)
    return Site(project, src, occ, call, scope_at(src, call), args)


__all__ = ["Expr", "Site", "make_site", "find_stride", "bare_type"]

"""Syntax helpers over tree-sitter-cpp nodes: names of functions, parameters, arguments, lambdas.

Only shapes of C++ syntax live here; no knowledge of any particular code base."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import tree_sitter as ts

FUNCTION_LIKE = ("function_definition", "lambda_expression")
DECLARATOR_WRAPPERS = (
    "reference_declarator", "pointer_declarator", "init_declarator", "array_declarator",
    "attributed_declarator", "parenthesized_declarator",
)


def text(node: ts.Node | None) -> str:
    return "" if node is None else node.text.decode("utf-8", "surrogateescape")


def walk(node: ts.Node) -> Iterator[ts.Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def named_children(node: ts.Node) -> list[ts.Node]:
    return [c for c in node.named_children if c.type != "comment"]


def ancestors(node: ts.Node) -> Iterator[ts.Node]:
    n = node.parent
    while n is not None:
        yield n
        n = n.parent


def enclosing(node: ts.Node, *types: str) -> ts.Node | None:
    for a in ancestors(node):
        if a.type in types:
            return a
    return None


def last_name(qualified: str) -> str:
    return qualified.rsplit("::", 1)[-1].strip()


# ---- declarators ----------------------------------------------------------------------------
def declarator_name(decl: ts.Node | None) -> ts.Node | None:
    """The identifier a (possibly wrapped) declarator declares."""
    while decl is not None:
        if decl.type in ("identifier", "field_identifier", "qualified_identifier", "destructor_name",
                         "operator_name", "type_identifier"):
            return decl
        if decl.type == "function_declarator":
            decl = decl.child_by_field_name("declarator")
            continue
        if decl.type in DECLARATOR_WRAPPERS:
            inner = decl.child_by_field_name("declarator")
            if inner is None:
                inner = next((c for c in decl.named_children if c.type not in ("type_qualifier",)), None)
            decl = inner
            continue
        return None
    return None


def function_declarator(node: ts.Node) -> ts.Node | None:
    """The function_declarator inside a declaration/definition declarator chain."""
    decl = node.child_by_field_name("declarator")
    while decl is not None:
        if decl.type == "function_declarator":
            return decl
        decl = decl.child_by_field_name("declarator")
    return None


@dataclass(frozen=True)
class Param:
    index: int
    name: str
    type_text: str  # full declaration text without the name, e.g. "const std::array<uint32_t, 2>&"
    node: ts.Node
    has_default: bool


def parameters(fn: ts.Node) -> list[Param]:
    """Parameters of a function definition/declaration, a function_declarator or a lambda."""
    plist = None
    if fn.type == "parameter_list":
        plist = fn
    elif fn.type == "lambda_expression":
        d = fn.child_by_field_name("declarator")
        plist = d.child_by_field_name("parameters") if d is not None else None
    else:
        fd = fn if fn.type == "function_declarator" else function_declarator(fn)
        plist = fd.child_by_field_name("parameters") if fd is not None else None
    if plist is None:
        return []
    out = []
    for p in named_children(plist):
        if p.type not in ("parameter_declaration", "optional_parameter_declaration", "variadic_parameter_declaration"):
            continue
        name_node = declarator_name(p.child_by_field_name("declarator"))
        name = text(name_node) if name_node is not None else ""
        full = text(p)
        if p.type == "optional_parameter_declaration":
            default = p.child_by_field_name("default_value")
            full = text(p)[: (default.start_byte - p.start_byte)].rstrip().rstrip("=").rstrip()
        type_text = full
        if name_node is not None:
            s, e = name_node.start_byte - p.start_byte, name_node.end_byte - p.start_byte
            type_text = (full[:s] + full[e:]).strip() if e <= len(full) else full
        out.append(Param(len(out), name, type_text, p, p.type == "optional_parameter_declaration"))
    return out


def parameter_list(fn: ts.Node) -> ts.Node | None:
    if fn.type == "lambda_expression":
        d = fn.child_by_field_name("declarator")
        return d.child_by_field_name("parameters") if d is not None else None
    fd = fn if fn.type == "function_declarator" else function_declarator(fn)
    return fd.child_by_field_name("parameters") if fd is not None else None


def function_name(fn: ts.Node) -> str:
    """Name as written in a definition/declaration ('ns::f' stays qualified)."""
    fd = function_declarator(fn) if fn.type != "function_declarator" else fn
    if fd is None:
        return ""
    return text(fd.child_by_field_name("declarator"))


# ---- calls ----------------------------------------------------------------------------------
def call_name(call: ts.Node) -> str:
    """Unqualified callee name of a call_expression ('' for calls through expressions)."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    if fn.type == "identifier":
        return text(fn)
    if fn.type == "qualified_identifier":
        return last_name(text(fn))
    if fn.type == "template_function":
        return last_name(text(fn.child_by_field_name("name")))
    return ""


def arguments(call: ts.Node) -> list[ts.Node]:
    args = call.child_by_field_name("arguments")
    return [] if args is None else named_children(args)


# ---- lambdas --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    default: str | None  # "&", "=" or None
    explicit: tuple[str, ...]  # names captured explicitly (with '&'/'=' stripped), 'this' included
    by_reference: tuple[str, ...] = ()  # of those, the ones captured as `&name`
    # init-captures (`stride = orig_stride`, `&r = x`): their `lambda_capture_initializer` nodes, each a
    # variable of the lambda itself
    initializers: tuple[ts.Node, ...] = ()


def lambda_capture(lam: ts.Node) -> Capture:
    spec = lam.child_by_field_name("captures")
    default = None
    names: list[str] = []
    by_ref: list[str] = []
    initializers: list[ts.Node] = []
    if spec is not None:
        for c in named_children(spec):
            if c.type == "lambda_default_capture":
                default = text(c).strip()
            else:
                t = text(c).lstrip("&=* ").split("=")[0].strip()
                names.append(t)
                # `&name` parses as an anonymous `&` token before the identifier; `&y = z` as one node
                before = c.prev_sibling
                if text(c).strip().startswith("&") or (before is not None and before.type == "&"):
                    by_ref.append(t)
                if c.type == "lambda_capture_initializer" and c.child_by_field_name("left") is not None:
                    initializers.append(c)
    return Capture(default, tuple(names), tuple(by_ref), tuple(initializers))


def braced_items(node: ts.Node) -> list[ts.Node] | None:
    """The elements of `{a, b}` or `T{a, b}` (comments left out); None for any other expression."""
    value = node.child_by_field_name("value") if node.type == "compound_literal_expression" else node
    if value is None or value.type != "initializer_list":
        return None
    return [c for c in named_children(value) if c.type != "comment"]


def statement_of(node: ts.Node) -> ts.Node:
    """The statement (child of a compound statement / translation unit) holding `node`."""
    n = node
    while n.parent is not None and n.parent.type not in (
        "compound_statement", "translation_unit", "declaration_list", "field_declaration_list",
        "case_statement",
    ):
        n = n.parent
    return n


def namespace_of(node: ts.Node) -> str:
    parts = []
    for a in ancestors(node):
        if a.type == "namespace_definition":
            nm = a.child_by_field_name("name")
            if nm is not None:
                parts.insert(0, text(nm))
    return "::".join(parts)


def qualifier(from_ns: str, target_ns: str) -> str:
    """Shortest prefix that names something in `target_ns` from code in `from_ns`."""
    if not target_ns or from_ns == target_ns or from_ns.startswith(target_ns + "::"):
        return ""
    a, b = from_ns.split("::") if from_ns else [], target_ns.split("::")
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return "::".join(b[common:]) + "::" if common else target_ns + "::"

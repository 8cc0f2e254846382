"""Which names are visible at a point of a C++ file, and where each was declared.

Handles what refactors of function bodies meet: function and lambda parameters, locals declared
earlier in enclosing blocks (including structured bindings and for/if init statements), lambda
captures (`[&]`, `[=]` reach the enclosing function; an explicit list lets only its names through),
members of struct-typed variables, and namespace-scope variables. Declarations after the point —
in particular locals declared after a lambda — are not visible, as in C++.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.source import SourceFile


@dataclass(frozen=True)
class Name:
    name: str
    kind: str  # parameter | lambda-parameter | init-capture | local | structured-binding | namespace-variable
    type_text: str
    path: str
    line: int
    initializer: str | None = None
    initializer_node: ts.Node | None = field(default=None, compare=False, repr=False)
    declaration: ts.Node | None = field(default=None, compare=False, repr=False)
    via: str = ""  # e.g. "captured by [&]"

    @property
    def provenance(self) -> str:
        where = f"{self.path}:{self.line}"
        what = f"{self.kind} `{self.type_text} {self.name}`".replace("  ", " ")
        tail = f" = {_one_line(self.initializer)}" if self.initializer else ""
        via = f", {self.via}" if self.via else ""
        return f"{what}{tail} ({where}{via})"

    @property
    def bare_type(self) -> str:
        return bare_type(self.type_text)


@dataclass(frozen=True)
class StructField:
    name: str
    type_text: str
    default: str | None
    line: int


@dataclass(frozen=True)
class StructDef:
    name: str
    path: str
    line: int
    fields: tuple[StructField, ...]

    def field(self, name: str) -> StructField | None:
        return next((f for f in self.fields if f.name == name), None)


class Scope:
    """Names visible at one point; the innermost declaration of a name wins."""

    def __init__(self, names: dict[str, Name], function: ts.Node | None, lambdas: list[ts.Node]):
        self._names = names
        self.function = function  # enclosing named function definition (outside all lambdas)
        self.lambdas = lambdas  # enclosing lambdas, innermost first

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def get(self, name: str) -> Name | None:
        return self._names.get(name)

    def names(self) -> list[Name]:
        return list(self._names.values())

    def of_type(self, pattern: str) -> list[Name]:
        """Visible names whose bare type is `pattern` (regex, full match)."""
        rx = re.compile(pattern)
        return [n for n in self._names.values() if rx.fullmatch(n.bare_type)]


def bare_type(type_text: str) -> str:
    """'const sliding_window::ParallelConfig&' -> 'ParallelConfig'; templates keep their arguments."""
    t = re.sub(r"\b(const|volatile|static|constexpr|inline|mutable|struct|class|typename)\b", " ", type_text)
    t = t.replace("&", " ").replace("*", " ").strip()
    if "<" not in t:
        t = t.rsplit("::", 1)[-1]
    return re.sub(r"\s+", " ", t).strip()


def scope_at(src: SourceFile, point: ts.Node) -> Scope:
    names: dict[str, Name] = {}
    allow: set[str] | None = None  # set once an explicit-capture lambda is crossed
    via = ""
    lambdas: list[ts.Node] = []
    function = None

    def add(n: Name) -> None:
        if n.name and n.name not in names and (allow is None or n.name in allow):
            names[n.name] = replace(n, via=via) if via else n

    child = point
    for anc in cpp.ancestors(point):
        if anc.type in ("compound_statement", "case_statement"):
            # A statement under a `case X:` label is a child of the label's node, not of the switch
            # body; a declaration there is in scope for the rest of the switch body, later labels too.
            for stmt in cpp.named_children(anc):
                if stmt.start_byte >= child.start_byte:
                    break
                for inner in cpp.named_children(stmt) if stmt.type == "case_statement" else [stmt]:
                    for n in _declared_names(src, inner):
                        add(n)
        elif anc.type in PREPROC_BRANCHES:
            # Inside one branch of #if/#ifdef/#elif/#else: that branch's earlier declarations are
            # visible; a sibling branch's are not (the point is in the `alternative` then).
            if child != anc.child_by_field_name("alternative"):
                for stmt in cpp.named_children(anc):
                    if stmt.start_byte >= child.start_byte:
                        break
                    for n in _declared_names(src, stmt):
                        add(n)
        elif anc.type in ("for_statement", "for_range_loop", "if_statement", "while_statement", "switch_statement"):
            for part in anc.named_children:
                if part.start_byte >= child.start_byte:
                    break
                if part.type == "condition_clause":
                    for sub in part.named_children:
                        for n in _declared_names(src, sub):
                            add(n)
                elif part.type == "declaration":
                    for n in _declared_names(src, part):
                        add(n)
            if anc.type == "for_range_loop":
                decl = anc.child_by_field_name("declarator")
                if decl is not None and decl.start_byte < child.start_byte:
                    for n in _names_from_declarator(src, anc, decl, anc.child_by_field_name("type")):
                        add(n)
        elif anc.type == "lambda_expression":
            lambdas.append(anc)
            for p in cpp.parameters(anc):
                add(Name(p.name, "lambda-parameter", p.type_text, src.path, src.line(p.node), declaration=p.node))
            for n in _init_captures(src, anc):  # `[stride = orig_stride]` declares a `stride` of its own
                add(n)
            cap = cpp.lambda_capture(anc)
            if cap.default is None:
                allowed = set(cap.explicit)
                allow = allowed if allow is None else (allow & allowed)
            via = f"captured by [{cap.default or ', '.join(cap.explicit)}]"
        elif anc.type == "function_definition":
            if function is None:
                function = anc
            for p in cpp.parameters(anc):
                add(Name(p.name, "parameter", p.type_text, src.path, src.line(p.node), declaration=p.node))
        elif anc.type in ("translation_unit", "declaration_list"):
            for stmt in cpp.named_children(anc):
                if stmt.start_byte >= child.start_byte:
                    break
                if stmt.type == "declaration" and cpp.function_declarator(stmt) is None:
                    for n in _declared_names(src, stmt):
                        add(replace(n, kind="namespace-variable"))
        child = anc
    return Scope(names, function, lambdas)


def _init_captures(src: SourceFile, lam: ts.Node) -> list[Name]:
    """The variables a lambda's init-captures declare (`[&, stride = orig_stride]`): locals of the
    lambda, initialized where the lambda is written, hiding any outer name."""
    cap = cpp.lambda_capture(lam)
    out = []
    for c in cap.initializers:
        left, right = c.child_by_field_name("left"), c.child_by_field_name("right")
        name = cpp.text(left)
        out.append(Name(name, "init-capture", "auto&" if name in cap.by_reference else "auto", src.path, src.line(c),
                        initializer=cpp.text(right) if right is not None else None, initializer_node=right,
                        declaration=c))
    return out


PREPROC_BRANCHES = ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_elifdef", "preproc_else")


def _declared_names(src: SourceFile, stmt: ts.Node) -> list[Name]:
    if stmt.type in PREPROC_BRANCHES:
        # A finished #if/#else block before the point: a name it declares (in whichever branch
        # the build takes) is visible after it.
        return [n for sub in cpp.named_children(stmt) for n in _declared_names(src, sub)]
    if stmt.type != "declaration" or cpp.function_declarator(stmt) is not None:
        return []
    type_node = stmt.child_by_field_name("type")
    out: list[Name] = []
    for decl in stmt.children_by_field_name("declarator"):
        out.extend(_names_from_declarator(src, stmt, decl, type_node))
    return out


def _names_from_declarator(src: SourceFile, stmt: ts.Node, decl: ts.Node, type_node: ts.Node | None) -> list[Name]:
    type_start = stmt.start_byte
    type_text = src.data[type_start : (type_node.end_byte if type_node is not None else decl.start_byte)].decode(
        "utf-8", "surrogateescape").strip()
    value = None
    target = decl
    if decl.type == "init_declarator":
        value = decl.child_by_field_name("value")
        target = decl.child_by_field_name("declarator")
    if target is not None and target.type == "reference_declarator":
        type_text += "&"
    if target is not None and target.type == "structured_binding_declarator":
        return [
            Name(cpp.text(i), "structured-binding", type_text, src.path, src.line(i),
                 src.text(value) if value is not None else None, value, stmt)
            for i in cpp.named_children(target) if i.type == "identifier"
        ]
    name_node = cpp.declarator_name(target)
    if name_node is None:
        return []
    init = src.text(value) if value is not None else None
    return [Name(cpp.text(name_node), "local", type_text, src.path, src.line(name_node), init, value, stmt)]


def struct_definitions(src: SourceFile) -> list[StructDef]:
    """Every struct/class with a body in the file (including ones local to functions)."""
    found = []
    for node in cpp.walk(src.root):
        if node.type not in ("struct_specifier", "class_specifier"):
            continue
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if name is None or body is None:
            continue
        fields = []
        for fd in cpp.named_children(body):
            if fd.type != "field_declaration" or cpp.function_declarator(fd) is not None:
                continue
            if any(c.type == "storage_class_specifier" and cpp.text(c) == "static" for c in fd.children):
                continue
            type_node = fd.child_by_field_name("type")
            for d in fd.children_by_field_name("declarator"):
                nm = cpp.declarator_name(d)
                if nm is None:
                    continue
                default = fd.child_by_field_name("default_value")
                ttext = src.data[fd.start_byte : type_node.end_byte].decode() if type_node is not None else ""
                fields.append(StructField(cpp.text(nm), ttext.strip(), src.text(default) if default else None,
                                          src.line(nm)))
        found.append(StructDef(cpp.text(name), src.path, src.line(node), tuple(fields)))
    return found


def _one_line(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= 90 else s[:87] + "..."

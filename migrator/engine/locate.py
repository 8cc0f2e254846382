"""Find every syntactic occurrence of a name and say what it is: call, declaration, definition or
other reference. Comments and strings are never identifiers, so they are never matched; code
inside `#if 0` is reported as inactive."""

from __future__ import annotations

from dataclasses import dataclass, field
import re

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.source import SourceFile


@dataclass
class Occurrence:
    path: str
    line: int
    kind: str  # call | declaration | definition | using | reference | inactive
    node: ts.Node = field(repr=False)  # the identifier
    owner: ts.Node | None = field(default=None, repr=False)  # call_expression / declaration / definition
    function: str = ""  # enclosing named function
    lambda_name: str = ""  # enclosing lambda's variable, if any

    def describe(self) -> str:
        where = self.function + (f" → lambda {self.lambda_name}" if self.lambda_name else "")
        return f"{self.path}:{self.line} {self.kind}" + (f" in {where}" if where else "")


def identifier_nodes(src: SourceFile, name: str) -> list[ts.Node]:
    """Identifiers spelled `name`, in source order. Found by a byte search for the word, then the
    syntax node at that range: a hit inside a comment or a string is not an identifier node."""
    if not name.isidentifier():
        return []
    needle = name.encode()
    out = []
    for m in re.finditer(rb"(?<![A-Za-z0-9_])" + re.escape(needle) + rb"(?![A-Za-z0-9_])", src.data):
        node = src.root.descendant_for_byte_range(m.start(), m.end())
        if node is not None and node.type == "identifier" and node.start_byte == m.start() and node.end_byte == m.end():
            out.append(node)
    return out


def find_occurrences(src: SourceFile, name: str) -> list[Occurrence]:
    found = []
    for node in identifier_nodes(src, name):
        kind, owner = classify(node)
        if _inactive(node):
            kind = "inactive"
        fn, lam = enclosing_names(node)
        found.append(Occurrence(src.path, src.line(node), kind, node, owner, fn, lam))
    return found


def classify(ident: ts.Node) -> tuple[str, ts.Node | None]:
    n = ident
    # ns1::ns2::name nests one qualified_identifier per `::`; climb to the outermost.
    while n.parent is not None and n.parent.type == "qualified_identifier" and n.parent.child_by_field_name("name") == n:
        n = n.parent
    parent = n.parent
    if parent is None:
        return "reference", None
    if parent.type == "call_expression" and parent.child_by_field_name("function") == n:
        return "call", parent
    if parent.type == "using_declaration":
        return "using", parent
    if parent.type == "function_declarator" and parent.child_by_field_name("declarator") == n:
        holder = parent.parent
        while holder is not None and holder.type in cpp.DECLARATOR_WRAPPERS:
            holder = holder.parent
        if holder is not None and holder.type == "function_definition":
            return "definition", holder
        return "declaration", holder
    return "reference", parent


def enclosing_names(node: ts.Node) -> tuple[str, str]:
    fn_name, lam_name = "", ""
    for a in cpp.ancestors(node):
        if a.type == "lambda_expression" and not lam_name:
            p = a.parent
            if p is not None and p.type == "init_declarator":
                lam_name = cpp.text(cpp.declarator_name(p.child_by_field_name("declarator")))
            else:
                lam_name = "<lambda>"
        if a.type == "function_definition":
            fn_name = cpp.last_name(cpp.function_name(a))
            break
    return fn_name, lam_name


def _inactive(node: ts.Node) -> bool:
    for a in cpp.ancestors(node):
        if a.type in ("preproc_if", "preproc_elif"):
            cond = a.child_by_field_name("condition")
            if cond is not None and cpp.text(cond).strip() in ("0", "false"):
                alt = a.child_by_field_name("alternative")
                if alt is None or not (alt.start_byte <= node.start_byte < alt.end_byte):
                    return True
    return False


def function_nodes(src: SourceFile, name: str) -> tuple[list[ts.Node], list[ts.Node]]:
    """(declarations, definitions) of functions whose unqualified name is `name`."""
    decls, defs = [], []
    for occ in find_occurrences(src, name):
        if occ.kind == "declaration" and occ.owner is not None:
            decls.append(occ.owner)
        elif occ.kind == "definition" and occ.owner is not None:
            defs.append(occ.owner)
    return decls, defs

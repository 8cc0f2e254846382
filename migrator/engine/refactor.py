"""Generic refactoring steps that produce Edits: add a parameter or an argument after a given one
(copying the separator the code already uses), delete a declaration with its stray semicolon and
one surrounding blank line, rename a local from its declaration to the end of its block."""

from __future__ import annotations

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.edits import Edit
from migrator.engine.source import SourceFile


def _separator(src: SourceFile, items: list[ts.Node], index: int) -> str:
    """Text between item `index` and the next one (", " or ",\n    "), or a sensible default."""
    if index + 1 < len(items):
        between = src.data[items[index].end_byte : items[index + 1].start_byte].decode("utf-8", "surrogateescape")
        if "//" not in between and "/*" not in between:
            return between
    if index > 0:
        between = src.data[items[index - 1].end_byte : items[index].start_byte].decode("utf-8", "surrogateescape")
        if "//" not in between and "/*" not in between:
            return between
    return ", "


def insert_after_item(src: SourceFile, items: list[ts.Node], index: int, new_text: str, origin: str,
                      container: ts.Node) -> Edit:
    """Insert `new_text` as a new list element right after items[index] (or first, if index < 0)."""
    if not items:
        inner = container.children[0]  # "("
        return Edit(inner.end_byte, inner.end_byte, new_text, origin)
    if index < 0:
        sep = _separator(src, items, 0)
        return Edit(items[0].start_byte, items[0].start_byte, new_text + sep, origin)
    sep = _separator(src, items, index)
    anchor = items[index].end_byte
    return Edit(anchor, anchor, sep + new_text, origin)


def add_parameter(src: SourceFile, fn: ts.Node, after_index: int, param_text: str, origin: str) -> Edit:
    plist = cpp.parameter_list(fn)
    items = [p.node for p in cpp.parameters(fn)]
    return insert_after_item(src, items, after_index, param_text, origin, plist)


def add_argument(src: SourceFile, call: ts.Node, after_index: int, arg_text: str, origin: str) -> Edit:
    args = call.child_by_field_name("arguments")
    return insert_after_item(src, cpp.arguments(call), after_index, arg_text, origin, args)


def delete_statement(src: SourceFile, node: ts.Node, origin: str) -> Edit:
    """Remove the whole lines of `node`, a directly following stray ';', comment lines directly
    above it, and one blank line so that no double blank line is left behind."""
    start = src.line_start(node.start_byte)
    end_node = node
    nxt = node.next_sibling
    if nxt is not None and nxt.type in ("expression_statement", "empty_statement") and cpp.text(nxt).strip() == ";":
        end_node = nxt
    end = src.line_end(end_node.end_byte - 1)
    # attached comments directly above (no blank line in between)
    prev = node.prev_sibling
    while prev is not None and prev.type == "comment" and src.line_end(prev.end_byte - 1) == start:
        start = src.line_start(prev.start_byte)
        prev = prev.prev_sibling
    data = src.data
    blank_before = start >= 2 and data[src.line_start(start - 1) : start].strip() == b""
    next_line_end = src.line_end(end) if end < len(data) else end
    blank_after = end < len(data) and data[end:next_line_end].strip() == b""
    if blank_after:
        end = next_line_end
    elif blank_before:
        start = src.line_start(start - 1)
    return Edit(start, end, "", origin)


def rename_in_block(src: SourceFile, block: ts.Node, after_byte: int, old: str, new: str, origin: str,
                    skip: tuple[tuple[int, int], ...] = ()) -> list[Edit]:
    """Rename identifier `old` (not members, not strings) in `block` from `after_byte` on, outside
    the byte ranges in `skip` (e.g. the other branches of an #if the declaration sits in)."""
    edits = []
    for n in cpp.walk(block):
        if (n.type == "identifier" and n.start_byte >= after_byte and cpp.text(n) == old
                and not any(a <= n.start_byte < b for a, b in skip)):
            edits.append(Edit(n.start_byte, n.end_byte, new, origin))
    return edits

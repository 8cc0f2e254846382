"""One parsed C++ file: its original bytes, its tree-sitter tree and its line-ending style."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter as ts
import tree_sitter_cpp

BOM = b"\xef\xbb\xbf"


@lru_cache(maxsize=1)
def language() -> ts.Language:
    return ts.Language(tree_sitter_cpp.language())


def parse_bytes(data: bytes) -> ts.Tree:
    # tree-sitter-cpp has no notion of a byte-order mark; blank it out (same length, so every
    # byte offset in the tree is still an offset into the original file).
    if data.startswith(BOM):
        data = b"   " + data[3:]
    return ts.Parser(language()).parse(data)


def error_nodes(tree: ts.Tree) -> list[ts.Node]:
    """ERROR and MISSING nodes, outermost first."""
    found: list[ts.Node] = []
    if not tree.root_node.has_error:
        return found
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return found


@dataclass
class SourceFile:
    path: str  # posix path relative to the checkout root
    data: bytes
    tree: ts.Tree = field(repr=False)
    newline: bytes = b"\n"

    @classmethod
    def parse(cls, path: str, data: bytes) -> "SourceFile":
        crlf = data.count(b"\r\n")
        newline = b"\r\n" if crlf and crlf * 2 >= data.count(b"\n") else b"\n"
        return cls(path=path, data=data, tree=parse_bytes(data), newline=newline)

    @property
    def root(self) -> ts.Node:
        return self.tree.root_node

    def text(self, node: ts.Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")

    def line(self, node_or_byte) -> int:
        """1-based line number."""
        if isinstance(node_or_byte, int):
            return self.data.count(b"\n", 0, node_or_byte) + 1
        return node_or_byte.start_point[0] + 1

    def line_start(self, byte: int) -> int:
        return self.data.rfind(b"\n", 0, byte) + 1

    def line_end(self, byte: int) -> int:
        """Offset just past the newline that ends the line holding `byte` (or EOF)."""
        end = self.data.find(b"\n", byte)
        return len(self.data) if end < 0 else end + 1

    def indent_of(self, node: ts.Node) -> str:
        start = self.line_start(node.start_byte)
        prefix = self.data[start : node.start_byte]
        return prefix[: len(prefix) - len(prefix.lstrip(b" \t"))].decode()

    def reparse(self, new_data: bytes, edits: list[tuple[int, int, bytes]]) -> "SourceFile":
        """The file after `edits` (as EditSet.encoded gives them), parsed incrementally: tree-sitter
        reuses every subtree the edits did not touch."""
        if self.data.startswith(BOM) or new_data.startswith(BOM):
            return SourceFile.parse(self.path, new_data)
        tree = self.tree.copy()
        shift = 0
        for start, end, text in edits:  # file order; later offsets move by what came before
            s, e = start + shift, end + shift
            start_point = _point(new_data, s)  # everything before `s` is already in its final form
            tree.edit(start_byte=s, old_end_byte=e, new_end_byte=s + len(text),
                      start_point=start_point, old_end_point=_advance(start_point, self.data[start:end]),
                      new_end_point=_advance(start_point, text))
            shift += len(text) - (end - start)
        new_tree = ts.Parser(language()).parse(new_data, tree)
        crlf = new_data.count(b"\r\n")
        newline = b"\r\n" if crlf and crlf * 2 >= new_data.count(b"\n") else b"\n"
        return SourceFile(path=self.path, data=new_data, tree=new_tree, newline=newline)

    def error_count(self) -> int:
        return len(error_nodes(self.tree))


def _point(data: bytes, byte: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, byte)
    return row, byte - (data.rfind(b"\n", 0, byte) + 1)


def _advance(point: tuple[int, int], text: bytes) -> tuple[int, int]:
    newlines = text.count(b"\n")
    if not newlines:
        return point[0], point[1] + len(text)
    return point[0] + newlines, len(text) - (text.rfind(b"\n") + 1)

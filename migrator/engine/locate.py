"""Find every occurrence of a name and say what it is: call, declaration, definition or other
reference, or a place the syntax tree cannot account for (a macro's body, a region that does not
parse, a preprocessor branch that is disabled by a constant, anything else).

Every word-boundary match of the name outside comments and string literals (found by a small
lexer over the raw bytes, `code_mentions`) yields exactly one Occurrence, so the parser's count
always equals the text's count: a mention the tree does not classify is reported, never dropped.
Comments and strings are never identifiers, so they are never matched."""

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
    # call | declaration | definition | using | reference (syntax the tree classifies)
    # inactive (in a branch disabled by a constant `#if 0` / after `#if 1`) | macro (in a `#define`)
    # unparsed (in or around a parse error) | unclassified (anything else; `detail` says what)
    kind: str
    node: ts.Node = field(repr=False)  # the identifier
    owner: ts.Node | None = field(default=None, repr=False)  # call_expression / declaration / definition
    function: str = ""  # enclosing named function
    lambda_name: str = ""  # enclosing lambda's variable, if any
    detail: str = ""  # macro name, directive line or what the tree has there (for the non-syntax kinds)
    offset: int = -1  # byte offset of the mention itself (`node` may be larger: a macro body, an ERROR)


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


# Comments, string/char literals (with prefixes, raw strings), pp-numbers (so a digit separator is
# not a quote) and `#include <...>` names: everything a mention cannot be part of.
_SKIP = (
    rb"//(?:[^\n\\]|\\.)*"
    rb"|/\*.*?(?:\*/|\Z)"
    rb"|(?:u8|u|U|L)?R\"([^()\\ \t\r\n]{0,16})\(.*?(?:\)\1\"|\Z)"
    rb"|(?:u8|u|U|L)?\"(?:[^\"\\\n]|\\.)*\""
    rb"|(?:u8|u|U|L)?'(?:[^'\\\n]|\\.)*'"
    rb"|(?<![\w.])\.?\d(?:[eEpP][+-]|'[0-9A-Za-z_]|[\w.])*"
    rb"|\#[ \t]*include[ \t]*<[^>\n]*>"
)
_LEXERS: dict[bytes, re.Pattern] = {}


def code_mentions(data: bytes, name: str) -> list[int]:
    """Start offsets of `name` as a whole word outside comments and string/char literals: the
    cheap textual count that the parser's classification must match one for one."""
    needle = name.encode()
    pattern = _LEXERS.get(needle)
    if pattern is None:
        pattern = re.compile(_SKIP + rb"|(?<![A-Za-z0-9_$])(" + re.escape(needle) + rb")(?![A-Za-z0-9_$])", re.S)
        _LEXERS[needle] = pattern
    if needle not in data:
        return []
    return [m.start(2) for m in pattern.finditer(data) if m.group(2) is not None]


def find_occurrences(src: SourceFile, name: str) -> list[Occurrence]:
    """One Occurrence per mention of `name` in code (see the module docstring), in source order."""
    if not name.isidentifier():
        return []
    mentions = code_mentions(src.data, name)
    in_code = set(mentions)
    found = []
    for start in mentions:
        found.append(_occurrence_at(src, name, start, start + len(name)))
    for node in identifier_nodes(src, name):
        if node.start_byte not in in_code:  # the tree has an identifier where the lexer saw a comment/string
            fn, lam = enclosing_names(node)
            found.append(Occurrence(src.path, src.line(node), "unclassified", node, node.parent, fn, lam,
                                    "the parser reads an identifier inside what looks like a comment or string",
                                    node.start_byte))
    found.sort(key=lambda o: o.offset)
    return found


_TYPE_NAMES = ("type_identifier", "namespace_identifier")


def _occurrence_at(src: SourceFile, name: str, start: int, end: int) -> Occurrence:
    node = src.root.descendant_for_byte_range(start, end)
    line = src.line(start)
    fn, lam = enclosing_names(node) if node is not None else ("", "")

    def occ(kind: str, owner: ts.Node | None, detail: str = "") -> Occurrence:
        return Occurrence(src.path, line, kind, node, owner, fn, lam, detail, start)

    macro = cpp.enclosing(node, "preproc_def", "preproc_function_def") if node is not None else None
    if node is not None and node.type in ("preproc_def", "preproc_function_def"):
        macro = node
    if macro is not None:
        macro_name = cpp.text(macro.child_by_field_name("name"))
        if macro_name == name:
            return occ("macro", macro, f"a macro named {name} is defined")
        body = src.data[start : src.line_end(start)]
        called = re.match(rb"\w+\s*\(", body) is not None
        return occ("macro", macro, f"{name} is {'called' if called else 'named'} inside the body of macro {macro_name}")
    if node is None:
        return occ("unclassified", None, "no syntax node covers it")
    dead = _disabled_by(node)
    if dead is not None:
        return occ("inactive", None, dead)
    exact = node.start_byte == start and node.end_byte == end
    broken = _parse_error_near(src, node)
    if broken is not None:
        return occ("unparsed", None, broken)
    if exact and node.type == "identifier":
        kind, owner = classify(node)
        if owner is not None and owner.type in ("preproc_ifdef", "preproc_defined", "preproc_if", "preproc_elif",
                                                 "preproc_call", "preproc_params"):
            return occ("unclassified", owner, "it is named in a preprocessor directive")
        return occ(kind, owner)
    if exact and node.type == "field_identifier":
        return occ("unclassified", node.parent, "it is the name of a member (of some other class or struct)")
    if exact and node.type in _TYPE_NAMES:
        return occ("unclassified", node.parent, "it is used as a type or namespace name")
    if node.type in ("comment", "string_literal", "raw_string_literal", "char_literal", "string_content",
                     "system_lib_string"):
        return occ("unclassified", node, "the parser reads a comment or string where the text is code")
    directive = cpp.enclosing(node, "preproc_call", "preproc_include")
    if directive is not None or node.type.startswith("preproc") or node.type.startswith("#"):
        return occ("unclassified", directive, "it is named in a preprocessor directive")
    return occ("unclassified", node, f"the parser has a `{node.type}` there, not an identifier")


def _parse_error_near(src: SourceFile, node: ts.Node) -> str | None:
    """Why the code around `node` cannot be trusted: it is inside an ERROR node, or the function
    (or, outside functions, the declaration) holding it has a syntax error or a missing token."""
    unit = None
    for a in cpp.ancestors(node):
        if a.is_error:  # the innermost region the parser could not read
            first, last = a.start_point[0] + 1, a.end_point[0] + 1
            return f"parse error at line {first}" if first == last else f"parse error in lines {first}-{last}"
        if unit is None and a.type == "function_definition":
            unit = a
    if node.is_error or node.is_missing:
        return f"parse error at line {src.line(node)}"
    if unit is None:
        unit = cpp.statement_of(node)
    if unit is not None and unit.has_error:
        bad = next((n for n in cpp.walk(unit) if n.is_error or (n.is_missing and not _grammar_quirk(n))), None)
        if bad is not None:
            return f"parse error at line {src.line(bad)}"
    return None


def _grammar_quirk(missing: ts.Node) -> bool:
    """A MISSING node that tree-sitter-cpp inserts into valid C++: a braced default argument
    (`const Foo& f = {}`, `std::array<uint32_t, 2> d = {1, 1}`) is read as a compound literal with a
    missing type."""
    parent = missing.parent
    return missing.type == "type_identifier" and parent is not None and parent.type == "compound_literal_expression"


def _constant(cond: ts.Node | None) -> int | None:
    """0 or 1 for a preprocessor condition that is a constant (`0`, `false`, `(1)`, ...)."""
    if cond is None:
        return None
    t = cpp.text(cond).strip()
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    if t in ("0", "false", "0L", "0U"):
        return 0
    if t in ("1", "true", "1L", "1U"):
        return 1
    return None


def _disabled_by(node: ts.Node) -> str | None:
    """`#if 0 (line N)`-style description when `node` sits in a branch no build can enable
    without editing the condition: the body of `#if 0` / `#elif 0`, or the `#elif`/`#else` of `#if 1`."""
    for a in cpp.ancestors(node):
        if a.type not in ("preproc_if", "preproc_elif"):
            continue
        cond = a.child_by_field_name("condition")
        value = _constant(cond)
        if value is None:
            continue
        alt = a.child_by_field_name("alternative")
        in_alt = alt is not None and alt.start_byte <= node.start_byte < alt.end_byte
        directive = "#if" if a.type == "preproc_if" else "#elif"
        if value == 0 and not in_alt:
            return f"`{directive} {cpp.text(cond).strip()}` (line {a.start_point[0] + 1})"
        if value == 1 and in_alt:
            return f"the alternative of `{directive} {cpp.text(cond).strip()}` (line {a.start_point[0] + 1})"
    return None


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


def function_nodes(src: SourceFile, name: str) -> tuple[list[ts.Node], list[ts.Node]]:
    """(declarations, definitions) of functions whose unqualified name is `name`."""
    decls, defs = [], []
    for occ in find_occurrences(src, name):
        if occ.kind == "declaration" and occ.owner is not None:
            decls.append(occ.owner)
        elif occ.kind == "definition" and occ.owner is not None:
            defs.append(occ.owner)
    return decls, defs

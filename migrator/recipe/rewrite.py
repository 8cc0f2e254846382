"""Turn a bound call site into edits: the config block and the new call (rendered from templates),
and the result variable renamed from approx_* to precise_* wherever it is used afterwards."""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.edits import Edit
from migrator.engine.refactor import rename_format_labels, rename_in_block
from migrator.engine.render import indent_lines, render
from migrator.engine.scope import scope_at
from migrator.recipe import names
from migrator.recipe.bindings import Binding
from migrator.recipe.site import Site

COLUMN_LIMIT = 120  # tt-metal's .clang-format ColumnLimit


@dataclass
class SiteRewrite:
    config_name: str
    result_old: str
    result_new: str
    qualifier: str
    edits: list[Edit]


def qualifier_for(site: Site) -> tuple[str, str]:
    """(prefix for the function, spelling of the config type) as visible from the site."""
    ns = site.enclosing_namespace()
    if ns == names.SLIDING_WINDOW_NAMESPACE:
        return "", names.CONFIG_TYPE
    prefix = "sliding_window::" if ns.startswith("ttnn::operations") else names.SLIDING_WINDOW_NAMESPACE + "::"
    config_type = names.CONFIG_TYPE if _type_visible_unqualified(site) else prefix + names.CONFIG_TYPE
    return prefix, config_type


def _type_visible_unqualified(site: Site) -> bool:
    if b"using" not in site.src.data:
        return False
    for n in _namespace_scope_nodes(site.src.root):
        if n.type in ("using_declaration", "alias_declaration") and n.start_byte < site.call.start_byte:
            t = cpp.text(n)
            if t.rstrip(";").strip().endswith("::" + names.CONFIG_TYPE) or "namespace" in t and "sliding_window" in t:
                return True
    return False


def _namespace_scope_nodes(root):
    """Declarations at file or namespace scope (where `using` of a type normally lives)."""
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.named_children:
            yield child
            if child.type == "namespace_definition":
                body = child.child_by_field_name("body")
                if body is not None:
                    stack.append(body)


def choose_config_name(site: Site, block: ts.Node | None, reserved: set[str] = frozenset()) -> str:
    base = "slice_halo_config" if "slice" in site.arg("input_height").text else "halo_config"
    name, i = base, 2
    while name in site.scope or _used_in(block, name) or name in reserved:
        name, i = f"{base}_{i}", i + 1
    return name


def _used_in(block: ts.Node | None, name: str) -> bool:
    """Whether `name` is used anywhere in the block the new declaration goes into."""
    return block is not None and any(n.type == "identifier" and cpp.text(n) == name for n in cpp.walk(block))


def rewrite_site(site: Site, bindings: list[Binding], introduced: dict | None = None) -> SiteRewrite:
    """`introduced`: names this plan already declares, per (file, block); two sites whose configs land
    in one block must not both declare `halo_config`. The names chosen here are added to it."""
    src = site.src
    stmt = _statement_starting_its_line(site, bindings)
    block = cpp.enclosing(stmt, "compound_statement")
    reserved = (introduced if introduced is not None else {}).setdefault((src.path, block.id if block else 0), set())
    qualifier, config_type = qualifier_for(site)
    config_name = choose_config_name(site, block, reserved)
    reserved.add(config_name)
    shard_shape = site.arg("shard_shape").text
    indent = src.indent_of(stmt)
    line_start = src.line_start(stmt.start_byte)

    decl = _simple_declaration(stmt, site.call)
    origin = f"rewrite {names.ESTIMATE} call at {site.path}:{site.line}"
    edits: list[Edit] = []
    old = new = ""
    if decl is not None:
        result_type, declarator, scale = decl
        old = cpp.text(declarator)
        new = "precise_" + old[len("approx_"):] if old.startswith("approx_") else old
        if new != old and (new in site.scope or _used_in(block, new) or new in reserved):
            new = old
        reserved.add(new)
        variables = dict(config_type=config_type, config_name=config_name, bindings=bindings,
                         result_type=result_type, result_name=new, qualifier=qualifier,
                         shard_shape=shard_shape, scale=scale, wrap=False)
        one_line = render("call_site.cpp.j2", **variables).rstrip("\n").split("\n")[-1]
        variables["wrap"] = len(indent) + len(one_line) > COLUMN_LIMIT
        text = indent_lines(render("call_site.cpp.j2", **variables).rstrip("\n"), indent, first=True)
        before, after = _blank_lines_around(src, line_start, stmt.end_byte)
        edits.append(Edit(line_start, stmt.end_byte, before + text + after, origin))
        if new != old:
            block = cpp.enclosing(stmt, "compound_statement")
            edits.extend(rename_in_block(src, block, stmt.end_byte, old, new, f"rename {old} → {new}"))
            edits.extend(rename_format_labels(src, block, stmt.end_byte, old, new,
                                              f"relabel {old} → {new} in log format strings"))
    else:
        block_text = render("config_block.cpp.j2", config_type=config_type, config_name=config_name,
                            bindings=bindings)
        before, _ = _blank_lines_around(src, line_start, stmt.end_byte)
        edits.append(Edit(line_start, line_start,
                          before + indent_lines(block_text.rstrip("\n"), indent, first=True) + "\n\n", origin))
        call_text = render("precise_call.cpp.j2", qualifier=qualifier, config_name=config_name,
                           shard_shape=shard_shape)
        edits.append(Edit(site.call.start_byte, site.call.end_byte, call_text, origin))
    return SiteRewrite(config_name, old, new, qualifier, edits)


def _blank_lines_around(src, line_start: int, end: int) -> tuple[str, str]:
    """Blank lines that set the inserted block apart the way tt-metal's code (and upstream's own
    migration, #30446) does: one before it unless it opens its block or follows a blank line, one
    after the rewritten statement unless a blank line or the block's `}` follows."""
    prev_start = src.line_start(line_start - 1) if line_start > 0 else 0
    prev = src.data[prev_start:line_start].strip()
    before = "" if line_start == 0 or not prev or prev.endswith(b"{") else "\n"
    next_line = src.data[src.line_end(end) : src.line_end(src.line_end(end))].strip() if end < len(src.data) else b""
    rest_of_line = src.data[end : src.line_end(end)].strip()
    after = "" if rest_of_line or not next_line or next_line.startswith(b"}") else "\n"
    return before, after


def _statement_starting_its_line(site: Site, bindings: list[Binding]) -> ts.Node:
    """The statement holding the call, or, when that shares its line with other code (a call inside
    `[&]() { return ...; }()`), the enclosing statement that starts its line: the config block goes
    before it, so every name a binding uses must be visible there and the lambdas in between must
    capture by default ([&] or [=])."""
    own = stmt = cpp.statement_of(site.call)
    while site.src.data[site.src.line_start(stmt.start_byte) : stmt.start_byte].strip():
        if stmt.parent is None:
            raise_unsupported(site, "no statement that starts its line encloses the call")
        stmt = cpp.statement_of(stmt.parent)
    if stmt != own:
        for lam in (a for a in _between(site.call, stmt) if a.type == "lambda_expression"):
            if cpp.lambda_capture(lam).default not in ("&", "="):
                raise_unsupported(site, "the call sits in a lambda on a shared line with an explicit capture "
                                  "list, so a config declared before it would not be visible")
        outer = scope_at(site.src, stmt)
        threaded = {e.text for e in site.threaded.values()}  # new parameters: visible everywhere in the body
        for b in bindings:
            missing = [i for i in expression_roots(b.expr)
                       if i not in outer and i not in threaded and i not in ("true", "false")]
            if missing:
                raise_unsupported(site, f"`{missing[0]}` ({b.field}) is not visible before the statement that "
                                  "holds the call")
    return stmt


def _between(node: ts.Node, ancestor: ts.Node):
    n = node
    while n is not None and n != ancestor:
        yield n
        n = n.parent


def _simple_declaration(stmt: ts.Node, call: ts.Node):
    """(type text, declarator node, ' * scale' or '') for `T name = CALL [* x];`, else None."""
    if stmt.type != "declaration":
        return None
    decls = stmt.children_by_field_name("declarator")
    if len(decls) != 1 or decls[0].type != "init_declarator":
        return None
    value = decls[0].child_by_field_name("value")
    declarator = decls[0].child_by_field_name("declarator")
    if declarator is None or declarator.type != "identifier":
        return None
    type_text = stmt.text[: decls[0].start_byte - stmt.start_byte].decode().strip()
    if value == call:
        return type_text, declarator, ""
    if (value is not None and value.type == "binary_expression"
            and cpp.text(value.child_by_field_name("operator")) == "*"
            and value.child_by_field_name("left") == call):
        right = value.child_by_field_name("right")
        return type_text, declarator, " * " + " ".join(cpp.text(right).split())
    return None


def expression_roots(expr: str) -> list[str]:
    """Identifiers an emitted expression needs in scope: not members after `.`/`->`, not callees,
    not namespace qualifiers."""
    out = []
    for m in re.finditer(r"(?<![\w.>:])([A-Za-z_]\w*)", expr):
        tail = expr[m.end():].lstrip()
        if tail.startswith(("(", "::")):
            continue
        out.append(m.group(1))
    return out


def raise_unsupported(site: Site, why: str):
    from migrator.errors import UnsupportedShape

    raise UnsupportedShape(f"{site.path}:{site.line}: {why}")

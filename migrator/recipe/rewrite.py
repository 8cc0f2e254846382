"""Turn a bound call site into edits: the config block and the new call (rendered from templates),
and the result variable renamed from approx_* to precise_* wherever it is used afterwards."""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.edits import Edit
from migrator.engine.refactor import rename_format_labels, rename_in_block
from migrator.engine.render import indent_lines
from migrator.engine.scope import PREPROC_BRANCHES
from migrator.recipe import names
from migrator.recipe.render import render
from migrator.recipe.bindings import Binding
from migrator.recipe.facts import SiteFacts
from migrator.recipe.site import Site

COLUMN_LIMIT = 120  # tt-metal's .clang-format ColumnLimit


@dataclass
class SiteRewrite:
    config_name: str
    result_old: str
    result_new: str
    qualifier: str
    edits: list[Edit]
    region: tuple[int, int]  # original bytes the config and the new call replace or precede


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
        if n.type in ("using_declaration", "alias_declaration") and n.start_byte < site.call.start_byte \
                and _encloses_namespaces(n, site.call):
            t = cpp.text(n)
            if t.rstrip(";").strip().endswith("::" + names.CONFIG_TYPE) or "namespace" in t and "sliding_window" in t:
                return True
    return False


def _encloses_namespaces(decl, at) -> bool:
    """Every namespace ``decl`` sits in also holds ``at``: a `using` inside a nested namespace that
    has closed before ``at`` (`namespace detail { using ...; }`) is not visible there."""
    return all(ns.start_byte <= at.start_byte < ns.end_byte for ns in cpp.ancestors(decl)
               if ns.type == "namespace_definition")


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


def rewrite_site(site: Site, facts: SiteFacts, bindings: list[Binding], introduced: dict | None = None) -> SiteRewrite:
    """`introduced`: names this plan already declares, per (file, block); two sites whose configs land
    in one block must not both declare `halo_config`. The names chosen here are added to it."""
    src = site.src
    place = placement(site)
    stmt = place.stmt
    block = cpp.enclosing(stmt, "compound_statement")
    # Names are reserved per block the config lands in; a config in braces of its own (`wrap`, `case`)
    # is in a block of its own.
    scope_key = ("own braces", stmt.id) if place.mode in ("wrap", "case") else (block.id if block else 0)
    reserved = (introduced if introduced is not None else {}).setdefault((src.path, scope_key), set())
    qualifier, config_type = qualifier_for(site)
    config_name = choose_config_name(site, block, reserved)
    reserved.add(config_name)
    shard_shape = facts.arg("shard_shape").text
    line_start = src.line_start(stmt.start_byte)
    starts_line = not src.data[line_start:stmt.start_byte].strip()
    at = line_start if starts_line else stmt.start_byte
    outer = src.indent_of(stmt)
    wrapped = place.mode in ("wrap", "case")
    indent = outer + "    " if wrapped else outer

    decl = _simple_declaration(stmt, site.call)
    origin = f"rewrite {names.ESTIMATE} call at {site.path}:{site.line}"
    edits: list[Edit] = []
    old = new = ""
    config = dict(config_type=config_type, config_name=config_name, bindings=bindings, locals=facts.locals)
    if place.mode == "inline":
        call_text = render("precise_call.cpp.j2", qualifier=qualifier, config_name=config_name,
                           shard_shape=shard_shape)
        body = render("config_block.cpp.j2", **config).rstrip("\n") + f"\nreturn {call_text};"
        text = "[&] {\n" + indent_lines(body, outer + "    ", first=True) + "\n" + outer + "}()"
        span = (site.call.start_byte, site.call.end_byte)
        return SiteRewrite(config_name, old, new, qualifier, [Edit(*span, text, origin)], span)
    if decl is not None:
        result_type, declarator, scale = decl
        old = cpp.text(declarator)
        renamed = (introduced if introduced is not None else {}).setdefault(
            ("renamed", src.path, block.id if block else 0), {})
        if old in renamed:
            # The same variable declared in another #if branch: it keeps one name in all branches.
            new = renamed[old]
        else:
            new = "precise_" + old[len("approx_"):] if old.startswith("approx_") else old
            if new != old and (new in site.scope or _used_in(block, new) or new in reserved):
                new = old
            renamed[old] = new
        reserved.add(new)
        variables = dict(config, result_type=result_type, result_name=new, qualifier=qualifier,
                         shard_shape=shard_shape, scale=scale, wrap=False)
        one_line = render("call_site.cpp.j2", **variables).rstrip("\n").split("\n")[-1]
        variables["wrap"] = len(indent) + len(one_line) > COLUMN_LIMIT
        text = indent_lines(render("call_site.cpp.j2", **variables).rstrip("\n"), indent, first=True)
        if not (starts_line or wrapped):
            text = "\n" + text  # the statement shared its line (`[&]() { uint32_t x = ...; }`): start a new one
        before, after = _blank_lines_around(src, line_start, stmt.end_byte) if starts_line and not wrapped else ("", "")
        edits.append(Edit(at, stmt.end_byte, before + text + after, origin))
        if new != old:
            edits.extend(rename_in_block(src, block, stmt.end_byte, old, new, f"rename {old} → {new}",
                                         skip=_other_branches(stmt, block)))
            edits.extend(rename_format_labels(src, block, stmt.end_byte, old, new,
                                              f"relabel {old} → {new} in log format strings"))
    else:
        block_text = indent_lines(render("config_block.cpp.j2", **config).rstrip("\n"), indent, first=True)
        if starts_line and not wrapped:
            before = _blank_lines_around(src, line_start, stmt.end_byte)[0]
            edits.append(Edit(at, at, before + block_text + "\n\n", origin))
        else:
            # The statement shares its line (`[&]() { return ...; }()`) or gets braces of its own.
            lead = "" if starts_line or wrapped else "\n"
            edits.append(Edit(at, at, lead + block_text + "\n" + ("" if starts_line else indent), origin))
        call_text = render("precise_call.cpp.j2", qualifier=qualifier, config_name=config_name,
                           shard_shape=shard_shape)
        edits.append(Edit(site.call.start_byte, site.call.end_byte, call_text, origin))
    if wrapped:
        # A single-statement loop/branch body or a `case` without braces: the config and the code
        # that uses it get braces of their own, so the config is built exactly as often as the call.
        inside = [e for e in edits if at <= e.start and e.end <= place.end]
        edits = [e for e in edits if e not in inside]
        edits.append(_braced(src, at, place.end, inside, outer, starts_line, origin))
    return SiteRewrite(config_name, old, new, qualifier, edits, (at, place.end))


def _braced(src, start: int, end: int, inside: list[Edit], outer: str, starts_line: bool, origin: str) -> Edit:
    """One edit: `{`, the original bytes [start, end) with `inside` applied and indented one level
    more, `}`."""
    pieces, cursor = [], start
    for e in sorted(inside, key=lambda e: (e.start, e.end)):
        pieces += [_indented_more(src, cursor, e.start), e.text]
        cursor = e.end
    pieces.append(_indented_more(src, cursor, end))
    return Edit(start, end, (outer if starts_line else "") + "{\n" + "".join(pieces) + "\n" + outer + "}", origin)


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


def _indented_more(src, start: int, end: int) -> str:
    text = src.data[start:end].decode("utf-8", "surrogateescape")
    if text and src.line_start(start) == start:
        text = "    " + text
    return re.sub(r"\n(?=[^\n])", "\n    ", text)


@dataclass(frozen=True)
class Placement:
    """Where the config goes so that it is built exactly as often, and from the same values, as the
    call it replaces: right before the statement holding the call (`before`), or in new braces
    around that statement (`wrap`: the single-statement body of a loop or branch) or around the
    rest of a `case` (`case`: a declaration directly under a case label would be jumped over), or
    at the call itself in an immediately-invoked lambda (`inline`: a call evaluated only on one side
    of `?:`, `&&` or `||`)."""

    stmt: ts.Node
    mode: str
    end: int


LOOPS = {"for_statement": "for", "while_statement": "while", "do_statement": "do", "for_range_loop": "for"}
BRANCH_BODIES = {"if_statement": ("consequence", "alternative"), "else_clause": ("",)}
CONTAINERS = ("compound_statement", *PREPROC_BRANCHES)


def placement(site: Site) -> Placement:
    prev, n = site.call, site.call.parent
    while n is not None:
        if n.type in LOOPS:
            body = n.child_by_field_name("body")
            evaluated_once = n.child_by_field_name("initializer" if n.type == "for_statement" else "right")
            if prev != body and prev != evaluated_once:
                raise_unsupported(site, f"the call is in the header of the `{LOOPS[n.type]}` loop at line "
                                  f"{site.src.line(n)}, evaluated on every iteration; a config built before "
                                  "the loop would be computed once. Migrate this call by hand")
            if prev == body and prev.type != "compound_statement":
                return Placement(prev, "wrap", prev.end_byte)
        elif n.type in BRANCH_BODIES and prev.type != "compound_statement" and (
                n.type == "else_clause" or prev in [n.child_by_field_name(f) for f in BRANCH_BODIES[n.type]]):
            return Placement(prev, "wrap", prev.end_byte)
        elif n.type == "conditional_expression" and prev != n.child_by_field_name("condition") or (
                n.type == "binary_expression" and prev == n.child_by_field_name("right")
                and cpp.text(n.child_by_field_name("operator")) in ("&&", "||")):
            # Evaluated only on one side: a config built before the statement would always be built,
            # so it is built at the call, in an immediately-invoked lambda.
            return Placement(cpp.statement_of(site.call), "inline", site.call.end_byte)
        elif n.type in CONTAINERS:
            return Placement(prev, "before", prev.end_byte)
        elif n.type == "case_statement":
            statements = [c for c in cpp.named_children(n) if c != n.child_by_field_name("value")
                          and c.type != "comment"]
            return Placement(prev, "case", statements[-1].end_byte)
        elif n.type in ("function_definition", "translation_unit", "field_declaration_list", "declaration_list"):
            break
        prev, n = n, n.parent
    raise_unsupported(site, "the call is not inside a statement of a function body")


def _other_branches(stmt: ts.Node, block: ts.Node | None) -> tuple[tuple[int, int], ...]:
    """Byte ranges of the #elif/#else branches after the one holding `stmt`: a name declared in one
    branch is a different variable in the others."""
    out = []
    for a in cpp.ancestors(stmt):
        if a == block:
            break
        alt = a.child_by_field_name("alternative") if a.type in PREPROC_BRANCHES else None
        if alt is not None and alt.start_byte >= stmt.end_byte:
            out.append((alt.start_byte, alt.end_byte))
    return tuple(out)


def _squash(s: str) -> str:
    return " ".join(s.split())


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


def raise_unsupported(site: Site, why: str):
    from migrator.errors import UnsupportedShape

    raise UnsupportedShape(f"{site.path}:{site.line}: {why}")

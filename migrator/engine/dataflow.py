"""Small intra-function data-flow questions: where a variable gets its value, where a lambda is
called, which identifiers an expression reads."""

from __future__ import annotations

import re

import tree_sitter as ts

from migrator.engine import cpp


def identifiers_in(node: ts.Node | None) -> list[str]:
    """Plain identifiers an expression reads (not member names after '.', not types)."""
    if node is None:
        return []
    return [cpp.text(n) for n in cpp.walk(node) if n.type == "identifier"]


# The one identifier pattern for expression *text* (what a recipe is about to emit): a name not
# preceded by a member access (`.`, `->`) or a qualifier (`::`).
_NAME = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*)")


def names_needed(expr: str) -> list[str]:
    """Identifiers an expression's text needs in scope, in order: not members after `.`/`->`, not
    callees, not namespace qualifiers (`std::min(a, b)` needs `a` and `b`)."""
    out = []
    for m in _NAME.finditer(expr):
        if expr[m.end():].lstrip().startswith(("(", "::")):
            continue
        out.append(m.group(1))
    return out


def root_identifier(expr: ts.Node | None) -> str:
    """`a` for `a`, `a.b`, `a.b()[0]`, `a->b`; '' for anything else."""
    n = expr
    while n is not None:
        if n.type == "identifier":
            return cpp.text(n)
        if n.type in ("field_expression",):
            n = n.child_by_field_name("argument")
        elif n.type == "call_expression":
            n = n.child_by_field_name("function")
        elif n.type == "subscript_expression":
            n = n.child_by_field_name("argument")
        elif n.type == "parenthesized_expression":
            n = cpp.named_children(n)[0] if cpp.named_children(n) else None
        else:
            return ""
    return ""


def leading_name(expr_text: str) -> str:
    """`a` for the text `a`, `a.b`, `a[0]`, `a->b()`; '' when the text does not start with a name."""
    m = re.match(r"\s*([A-Za-z_]\w*)", expr_text)
    return m.group(1) if m else ""


def assignments_to(block: ts.Node, name: str) -> list[tuple[ts.Node, str, ts.Node]]:
    """(statement node, operator, right-hand side) for every `name = ...`, `name += ...` and every
    initialised declaration of `name` inside `block`."""
    out = []
    for n in cpp.walk(block):
        if n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            if left is not None and left.type == "identifier" and cpp.text(left) == name:
                op = n.child_by_field_name("operator")
                out.append((n, cpp.text(op) if op is not None else "=", n.child_by_field_name("right")))
        elif n.type == "init_declarator":
            d = cpp.declarator_name(n.child_by_field_name("declarator"))
            if d is not None and cpp.text(d) == name:
                out.append((n, "=", n.child_by_field_name("value")))
    return out


def lambda_variable(lam: ts.Node) -> str:
    p = lam.parent
    if p is not None and p.type == "init_declarator":
        return cpp.text(cpp.declarator_name(p.child_by_field_name("declarator")))
    return ""


def calls_named(block: ts.Node, name: str) -> list[ts.Node]:
    return [n for n in cpp.walk(block) if n.type == "call_expression" and cpp.call_name(n) == name]


def nonconst_reference(type_text: str) -> bool:
    """A parameter type through which the callee can change the caller's variable (`T&`, not
    `const T&`, not `T&&`)."""
    t = type_text.strip()
    return "&" in t and "&&" not in t and not t.startswith("const ") and " const" not in t


def writers_before(fn_body: ts.Node, name: str, point: ts.Node, signatures) -> frozenset[int]:
    """Where variable `name` may change in `fn_body` before `point`, as the set of control regions
    holding a change: the innermost `if`/loop/`switch`/`case` around it (its start byte), or the body
    itself.  A change is an assignment or increment of it (or of an element or member of it), or a
    call passing it to a non-const reference parameter; `signatures(callee)` gives the parameter
    lists the project declares for a callee name ([] when unknown: such a call is assumed not to
    change it).  Two variables changed under the same conditions (a fold that rewrites the kernel
    and the stride together) compare equal."""
    out = set()

    def region(n: ts.Node) -> int:
        for a in cpp.ancestors(n):
            if a.id == fn_body.id:
                break
            if a.type in CONTROL:
                return a.start_byte
        return fn_body.start_byte

    for n in cpp.walk(fn_body):
        if n.start_byte >= point.start_byte:
            continue
        if n.type in ("assignment_expression", "update_expression"):
            target = n.child_by_field_name("left") or n.child_by_field_name("argument")
            if root_identifier(target) == name:
                out.add(region(n))
        elif n.type == "call_expression":
            args = [a for a in cpp.arguments(n) if a.type != "comment"]
            at = [i for i, a in enumerate(args) if a.type == "identifier" and cpp.text(a) == name]
            if at and any(i < len(ps) and nonconst_reference(ps[i].type_text)
                          for ps in signatures(cpp.call_name(n) or "") for i in at):
                out.add(region(n))
    return frozenset(out)


CONTROL = ("if_statement", "for_statement", "for_range_loop", "while_statement", "do_statement", "switch_statement",
           "case_statement", "lambda_expression")

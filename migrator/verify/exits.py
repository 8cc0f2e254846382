"""How a function body leaves: the statements that run before each ``return``, as a tree of ``if`` splits.

The path evaluator needs two things from a function of the tree it follows: the value it returns
(``auto_enable_kernel_folding``) and what it leaves in a by-reference parameter when it returns
(``fold_input_tensor_if_required`` rewriting ``stride``).  Both depend on the same syntax fact: which
statements run before which exit.  :func:`exits` computes it once, from the syntax alone; the
evaluator folds the tree into a value or into a write (``paths.Compiler._returned`` /
``_exit_writes``), so the two can never disagree about where a function returns.

A statement that holds a return somewhere the walk does not follow (a loop, a ``switch``) ends the
tree in :class:`Unfollowed`: its exits depend on values, which the tree does not model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

from migrator.engine import cpp


@dataclass(frozen=True)
class End:
    """``run`` execute in order, then the function leaves at ``last``: a ``return`` (with or without a
    value), a ``throw`` / ``TT_THROW(...)``, or None when control falls off the end."""

    run: Tuple[Any, ...]
    last: Optional[Any]


@dataclass(frozen=True)
class Split:
    """``run`` execute, then ``stmt`` (an ``if`` with a return inside) decides between two bodies."""

    run: Tuple[Any, ...]
    stmt: Any
    then: "Exits"
    orelse: "Exits"


@dataclass(frozen=True)
class Unfollowed:
    """``run`` execute, then ``stmt`` may return from a place the walk does not follow."""

    run: Tuple[Any, ...]
    stmt: Any


Exits = Union[End, Split, Unfollowed]


def exits(stmts, run: Tuple[Any, ...] = ()) -> Exits:
    """The exits of ``stmts`` (a function body's statements), after the statements ``run``."""
    for i, s in enumerate(stmts):
        if terminates(s):
            return End(run, s)
        if not has_return(s):
            run = run + (s,)
            continue
        rest = list(stmts[i + 1:])
        if s.type == "compound_statement":
            inner = statements(s)
            return exits(inner + ([] if always_exits(inner) else rest), run)
        if s.type == "if_statement":
            then_s, else_s = branches(s)
            return Split(run, s, exits(then_s + ([] if always_exits(then_s) else rest)),
                         exits(else_s + ([] if always_exits(else_s) else rest)))
        return Unfollowed(run, s)
    return End(run, None)


def statements(block) -> list:
    """The statements of a block (or the one statement of an unbraced branch)."""
    if block is None:
        return []
    if block.type == "compound_statement":
        return [c for c in block.named_children if c.type != "comment"]
    return [block]


def branches(if_stmt) -> Tuple[list, list]:
    alt = if_stmt.child_by_field_name("alternative")
    if alt is not None and alt.type == "else_clause":
        alt = alt.named_children[0] if alt.named_children else None
    return statements(if_stmt.child_by_field_name("consequence")), statements(alt)


def has_return(s) -> bool:
    """Does ``s`` leave the function somewhere inside (``return``, ``throw``, ``TT_THROW``)?"""
    return any(n.type in ("return_statement", "throw_statement")
               or (n.type == "call_expression" and cpp.call_name(n) == "TT_THROW") for n in cpp.walk(s))


def terminates(s) -> bool:
    """``return``, ``throw`` or ``TT_THROW(...)``: nothing after it in its block runs."""
    if s.type in ("return_statement", "throw_statement"):
        return True
    kids = [c for c in s.named_children if c.type != "comment"] if s.type == "expression_statement" else []
    return bool(kids) and kids[0].type == "call_expression" and cpp.call_name(kids[0]) == "TT_THROW"


def always_exits(stmts) -> bool:
    """Do ``stmts`` leave the function on every way through them?"""
    for s in stmts:
        if terminates(s):
            return True
        if s.type == "if_statement":
            then_s, else_s = branches(s)
            if else_s and always_exits(then_s) and always_exits(else_s):
                return True
        if s.type == "compound_statement" and always_exits(statements(s)):
            return True
    return False


def condition(s):
    """The condition expression of an ``if`` (unwrapped from its condition clause)."""
    c = s.child_by_field_name("condition")
    if c is not None and c.type == "condition_clause":
        kids = [k for k in c.named_children if k.type != "comment"]
        if len(kids) == 1:
            return kids[0]
    return c

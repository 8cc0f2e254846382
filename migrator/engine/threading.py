"""Thread a value that a call site needs but cannot see into the enclosing named function: a new
parameter after a named one, in every declaration and the definition, and a new argument at every
call of that function, resolved in each caller's own scope by the recipe's callback. All or nothing:
if any caller cannot supply the value, nothing is threaded and the unresolved chain is reported.

Where C++ makes the change illegal or ambiguous the refusal names the cause: a default argument at
or before the insertion point (the new parameter would need a default too), an overload (a call
could bind to either), a mention of the function that a new parameter would break (a macro body, a
disabled branch, code that does not parse). A name already taken in the function (a `stride` that
is a byte pitch) gets a fresh one (`<prefix>_stride`, `<prefix>_stride_2`, ...): `ThreadPlan.param_name`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.edits import Edit
from migrator.engine.locate import find_occurrences
from migrator.engine.project import Project
from migrator.engine.refactor import add_argument, add_parameter
from migrator.engine.source import SourceFile
from migrator.errors import ThreadingBlocked


@dataclass
class CallerUpdate:
    path: str
    line: int
    function: str
    expr: Any  # the recipe's description of the value passed (with `text` and `provenance`)


@dataclass
class ThreadPlan:
    function: str
    param_name: str  # the name actually threaded: `wanted`, or a fresh one when that is taken
    param_type: str
    after: str
    declarations: list[tuple[str, int]] = field(default_factory=list)
    definitions: list[tuple[str, int]] = field(default_factory=list)
    callers: list[CallerUpdate] = field(default_factory=list)
    edits: list[tuple[str, Edit]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CallerValue:
    """What one caller passes for the new parameter (`argument`, the C++ text inserted; `expr`, the
    recipe's description of it for reports), and any argument it must pass differently so that the two
    describe the same computation (index in the call, new text)."""

    expr: Any
    argument: str
    replace: tuple[tuple[int, str], ...] = ()
    note: str = ""


# resolve(project, src, call, args, index): what the caller at `call` passes, or None when it has nothing
Resolver = Callable[[Any, SourceFile, ts.Node, list, int], Optional[CallerValue]]


def plan_threading(project: Project, function_def: ts.Node, def_src: SourceFile, param_name: str,
                   after_param: str, reason: str, resolve: Resolver, fresh_prefix: str = "new") -> ThreadPlan:
    """`resolve(project, src, call, args, index)`: the value a caller passes (a CallerValue), or None when
    it has none. A taken `param_name` becomes `<fresh_prefix>_<param_name>` (then `_2`, ...)."""
    fname = cpp.last_name(cpp.function_name(function_def))
    params = cpp.parameters(function_def)
    names_ = [p.name for p in params]
    if after_param not in names_:
        raise ThreadingBlocked(f"{fname} has no `{after_param}` parameter to place `{param_name}` after")
    index = names_.index(after_param)
    target = (def_src.path, def_src.line(function_def))

    mentions = [(src, occ) for src in project.mentioning(fname) for occ in find_occurrences(src, fname)]
    signatures = [(src, occ) for src, occ in mentions if occ.kind in ("declaration", "definition")]
    for src, occ in mentions:
        if occ.kind in ("macro", "inactive", "unparsed", "unclassified"):
            why = {"inactive": f"it is used in code disabled by {occ.detail}", "unparsed": "the file does not parse "
                   f"there ({occ.detail})"}.get(occ.kind, occ.detail)
            raise ThreadingBlocked(f"{occ.path}:{occ.line}: {why}; adding a parameter to {fname} would break that "
                                   "mention, so nothing is threaded")
    own = _signature(params)
    for src, occ in signatures:
        if _signature(cpp.parameters(occ.owner)) != own:
            raise ThreadingBlocked(f"{target[0]}:{target[1]}: {fname} has an overload at {occ.path}:{occ.line}; "
                                   f"threading `{param_name}` into one of them would be ambiguous")
    for src, occ in sorted(signatures, key=lambda so: so[1].kind != "declaration"):
        for p in cpp.parameters(occ.owner)[: index + 1]:
            if p.has_default:
                raise ThreadingBlocked(
                    f"{occ.path}:{src.line(p.node)}: parameter `{p.name}` of {fname} has a default argument; a "
                    f"new `{param_name}` parameter after it would need one too, and the {param_name} has none")
    chosen = free_name(param_name, [function_def] + [occ.owner for _, occ in signatures], fresh_prefix)

    plan = ThreadPlan(fname, chosen, params[index].type_text, after_param)
    arity = len(params)
    blocked: list[str] = []
    for src, occ in mentions:
        if occ.kind in ("declaration", "definition"):
            fn_params = cpp.parameters(occ.owner)
            ptype = fn_params[index].type_text
            edit = add_parameter(src, occ.owner, index, f"{ptype} {chosen}", f"thread {chosen} into {fname}")
            plan.edits.append((src.path, edit))
            (plan.definitions if occ.kind == "definition" else plan.declarations).append((occ.path, occ.line))
        elif occ.kind == "call":
            args = cpp.arguments(occ.owner)
            if not index < len(args) <= arity:
                raise ThreadingBlocked(f"{occ.path}:{occ.line}: call of {fname} with {len(args)} arguments "
                                       f"(the definition has {arity}, `{after_param}` is number {index + 1})")
            value = resolve(project, src, occ.owner, args, index)
            if value is None:
                blocked.append(f"{occ.path}:{occ.line} in {occ.function or '?'}")
                continue
            expr = value.expr
            plan.callers.append(CallerUpdate(occ.path, occ.line, occ.function, expr))
            if value.note:
                plan.notes.append(f"{occ.path}:{occ.line}: {value.note}")
            plan.edits.append((src.path, add_argument(src, occ.owner, index, value.argument,
                                                      f"pass {chosen} to {fname}")))
            for i, text in value.replace:
                plan.edits.append((src.path, Edit(args[i].start_byte, args[i].end_byte, text,
                                                  f"{occ.function} passes {text} to {fname} with {chosen}")))
        elif occ.kind == "reference":
            raise ThreadingBlocked(f"{occ.path}:{occ.line}: {fname} is used other than by a call "
                                   "(address taken or aliased); cannot add a parameter safely")
    if blocked:
        raise ThreadingBlocked(
            f"{reason}, so `{param_name}` must be passed into {fname}, but no `{param_name}` is in scope at "
            + "; ".join(blocked))
    if not plan.definitions:
        raise ThreadingBlocked(f"{fname}: definition not found in the checkout")
    return plan


def free_name(wanted: str, functions: list[ts.Node], prefix: str = "new") -> str:
    """`wanted` unless some parameter or identifier of `functions` already spells it (then the new
    parameter would clash with it or shadow it): `<prefix>_<wanted>`, then `<prefix>_<wanted>_2`, ..."""
    taken = {cpp.text(n) for fn in functions for n in cpp.walk(fn) if n.type == "identifier"}
    taken |= {p.name for fn in functions for p in cpp.parameters(fn)}
    for candidate in [wanted, f"{prefix}_{wanted}"] + [f"{prefix}_{wanted}_{i}" for i in range(2, 100)]:
        if candidate not in taken:
            return candidate
    raise ThreadingBlocked(f"no free name for `{wanted}` in {', '.join(sorted(cpp.function_name(f) for f in functions))}")


def _signature(params: list[cpp.Param]) -> tuple[str, ...]:
    """Parameter types as far as overloading sees them: qualifiers like `sliding_window::` and a
    by-value `const` do not make another overload (a declaration may spell them differently)."""
    out = []
    for p in params:
        t = re.sub(r"\b[A-Za-z_]\w*::", "", p.type_text)
        t = re.sub(r"\s+", "", t)
        if "&" not in t and "*" not in t:
            t = re.sub(r"^const", "", t)
        out.append(t)
    return tuple(out)

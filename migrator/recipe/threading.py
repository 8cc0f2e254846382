"""Thread a value that a call site needs but cannot see into the enclosing named function: a new
parameter after a named one, in every declaration and the definition, and a new argument at every
call of that function, resolved in each caller's own scope. All or nothing: if any caller cannot
supply the value, nothing is threaded and the unresolved chain is reported."""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.edits import Edit
from migrator.engine.locate import find_occurrences
from migrator.engine.project import Project
from migrator.engine.refactor import add_argument, add_parameter
from migrator.engine.source import SourceFile
from migrator.errors import ThreadingBlocked
from migrator.recipe.site import Expr, ScopeView, find_stride


@dataclass
class CallerUpdate:
    path: str
    line: int
    function: str
    expr: Expr


@dataclass
class ThreadPlan:
    function: str
    param_name: str
    param_type: str
    after: str
    declarations: list[tuple[str, int]] = field(default_factory=list)
    definitions: list[tuple[str, int]] = field(default_factory=list)
    callers: list[CallerUpdate] = field(default_factory=list)
    edits: list[tuple[str, Edit]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_threading(project: Project, function_def: ts.Node, def_src: SourceFile, param_name: str,
                   after_param: str, reason: str) -> ThreadPlan:
    fname = cpp.last_name(cpp.function_name(function_def))
    params = cpp.parameters(function_def)
    names_ = [p.name for p in params]
    if param_name in names_:
        raise ThreadingBlocked(f"{fname} already has a parameter named `{param_name}`")
    if after_param not in names_:
        raise ThreadingBlocked(f"{fname} has no `{after_param}` parameter to place `{param_name}` after")
    index = names_.index(after_param)
    after_type = params[index].type_text
    body = function_def.child_by_field_name("body")
    if body is not None and any(
        n.type == "identifier" and cpp.text(n) == param_name for n in cpp.walk(body)
    ):
        raise ThreadingBlocked(f"{fname} already uses the name `{param_name}` in its body")
    if any(p.has_default for p in params[index + 1:]):
        raise ThreadingBlocked(f"{fname} has default arguments after `{after_param}`; a new parameter there "
                               "would need a default too")

    plan = ThreadPlan(fname, param_name, after_type, after_param)
    arity = len(params)
    blocked: list[str] = []
    for src in project.mentioning(fname):
        for occ in find_occurrences(src, fname):
            if occ.kind in ("declaration", "definition"):
                fn_params = cpp.parameters(occ.owner)
                if len(fn_params) != arity:
                    raise ThreadingBlocked(f"{fname} is overloaded ({occ.path}:{occ.line} has {len(fn_params)} "
                                           f"parameters, the definition {arity}); refusing to guess which to change")
                if any(p.has_default for p in fn_params[index + 1:]):
                    raise ThreadingBlocked(f"{fname} has default arguments after `{after_param}` at "
                                           f"{occ.path}:{occ.line}")
                ptype = fn_params[index].type_text
                edit = add_parameter(src, occ.owner, index, f"{ptype} {param_name}", f"thread {param_name} into {fname}")
                plan.edits.append((src.path, edit))
                (plan.definitions if occ.kind == "definition" else plan.declarations).append((occ.path, occ.line))
            elif occ.kind == "call":
                args = cpp.arguments(occ.owner)
                if len(args) != arity:
                    raise ThreadingBlocked(f"{occ.path}:{occ.line}: call of {fname} with {len(args)} arguments "
                                           f"(the definition has {arity})")
                view = ScopeView(project, src, occ.owner)
                expr = find_stride(view, args[index])
                if expr is None:
                    blocked.append(f"{occ.path}:{occ.line} in {occ.function or '?'}")
                    continue
                plan.callers.append(CallerUpdate(occ.path, occ.line, occ.function, expr))
                if "transpose" in occ.function:
                    plan.notes.append(
                        f"{occ.path}:{occ.line}: {occ.function} passes its own `{expr.text}`; its auto-shard L1 "
                        "sizing models a regular (non-transposed) halo, as it did before this change")
                plan.edits.append((src.path, add_argument(src, occ.owner, index, expr.as_array_argument(),
                                                          f"pass {param_name} to {fname}")))
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

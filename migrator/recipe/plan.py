"""The whole migration for one checkout, computed in memory: sites and their bindings, the
threading, the new function, the deletions, every file's new bytes, and the checks that the
result is sound. Nothing here writes to disk."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial

from migrator.engine import cpp, dataflow
from migrator.engine.edits import Edit, map_offset
from migrator.engine.materialize import EditBook, materialize, require_gone
from migrator.engine.recipe import Changes, Finding
from migrator.engine.locate import find_occurrences, function_nodes
from migrator.engine.project import Project
from migrator.engine.refactor import delete_statement
from migrator.engine.render import indent_lines
from migrator.engine.scope import scope_at
from migrator.engine.source import SourceFile
from migrator.errors import ParseFailure, PostconditionFailed, ThreadingBlocked, UnsupportedShape
from migrator.recipe import names
from migrator.recipe.render import render
from migrator.recipe.bindings import Binding, bind
from migrator.recipe.facts import SiteFacts, analyze
from migrator.recipe.checkout_model import CheckoutModel, read_model
from migrator.recipe.rewrite import rewrite_site
from migrator.recipe.slice_geometry import INPUT_HW as SLICE_INPUT_HW
from migrator.recipe.slice_geometry import INPUT_HW_TYPE as SLICE_INPUT_TYPE
from migrator.recipe.slice_geometry import PADDING as SLICE_PADDING
from migrator.recipe.slice_geometry import PADDING_TYPE as SLICE_PADDING_TYPE
from migrator.recipe.slice_geometry import plan_slice_geometry
from migrator.recipe.regression_test import RegressionTest, plan_regression_test
from migrator.recipe.site import Expr, ScopeView, Site, find_stride, make_site
from migrator.engine.threading import CallerValue, ThreadPlan, plan_threading

@dataclass
class SitePlan:
    path: str
    line: int
    function: str
    lambda_name: str
    bindings: list[Binding]
    config_name: str
    result_old: str
    result_new: str
    shard_shape: str
    warnings: list[str] = field(default_factory=list)
    arguments: dict[str, str] = field(default_factory=dict)  # estimate parameter meaning -> argument text
    region: tuple[int, int] = field(default=(0, 0), repr=False)  # original bytes the rewrite covers


@dataclass
class MigrationPlan(Changes):
    """The halo recipe's Changes: its sites, threading and model of the checkout besides the new bytes."""

    model: CheckoutModel | None = field(default=None, repr=False)
    sites: list[SitePlan] = field(default_factory=list)
    threads: list[ThreadPlan] = field(default_factory=list)
    regression_test: RegressionTest | None = None  # apply --with-test

    def findings(self) -> list[Finding]:
        from migrator.recipe.report import findings

        return findings(self)

    def summary_lines(self) -> list[str]:
        if self.model.estimate_variant in ("absent",):
            return []
        return [f"estimate variant: {self.model.estimate_variant}; "
                f"generate_shard_boundaries takes {self.model.shard_boundaries_arity} argument(s)"]

    def report_fields(self) -> dict:
        from migrator.recipe.report import report_fields

        return report_fields(self)

    def template_context(self, check=None) -> dict:
        from migrator.recipe.report import regression_rows, verify_rows

        return dict(plan=self, sites=self.sites, threads=self.threads, variant=self.model.estimate_variant,
                    verify_rows=verify_rows(check or []), regression_rows=regression_rows(self.regression_test))


def build_plan(project: Project, with_test: bool = False) -> MigrationPlan:
    model = read_model(project)
    plan = MigrationPlan(str(project.checkout.root), model.state, model=model, warnings=list(model.warnings))
    plan.warnings.extend(project.checkout.warnings)
    for occ in model.occurrences:
        plan.warnings.extend(_account_for(occ, model))
    if model.state in ("migrated", "nothing-to-migrate"):
        return plan
    if model.config_struct is None:
        raise UnsupportedShape(f"struct {names.CONFIG_TYPE} not found in {names.SLIDING_WINDOW_HPP}")

    add = EditBook()

    # 1. sites, and what is true at each (facts.py)
    sites = [make_site(project, occ, model.estimate_params, model.helpers) for occ in model.calls]
    param_types = _estimate_param_types(model)
    local_names: set[str] = set()
    facts = [analyze(site, param_types, local_names) for site in sites]

    # 2. threading: a stride that is not in scope becomes a parameter of the enclosing function;
    #    a DRAM slice's exact extents and padding become parameters of its lambda
    facts = _thread_missing_stride(project, sites, facts, plan, add)
    facts = _thread_slice_geometry(sites, facts, plan, add)

    # 3. bind and rewrite each site
    fields = [f.name for f in model.config_struct.fields]
    introduced: dict[tuple[str, int], set[str]] = {}  # names each block gains from this plan
    for site, f in zip(sites, facts):
        bindings, warnings = bind(f, fields)
        rw = rewrite_site(site, f, bindings, introduced)
        for e in rw.edits:
            add(site.path, e)
        plan.sites.append(SitePlan(
            site.path, site.line, site.occurrence.function, site.occurrence.lambda_name, bindings,
            rw.config_name, rw.result_old, rw.result_new, f.arg("shard_shape").text,
            warnings, {role: a.text for role, a in f.args.items()},
            region=rw.region))
        plan.warnings.extend(warnings)
        plan.steps.append(f"rewrite call at {site.path}:{site.line} ({site.occurrence.function}"
                          + (f" → {site.occurrence.lambda_name}" if site.occurrence.lambda_name else "") + ")")
        _ensure_include(project, site, add, plan)

    # 4. the new function, once
    _add_precise_function(model, add, plan)

    # 5. the deprecated function goes
    for occ in model.occurrences:
        if occ.kind in ("declaration", "definition", "using"):
            src = project.source(occ.path)
            what = "using-declaration" if occ.kind == "using" else occ.kind
            add(occ.path, delete_statement(src, occ.owner, f"delete {names.ESTIMATE} {what}"))
            plan.steps.append(f"delete {names.ESTIMATE} {what} at {occ.path}:{occ.line}")

    # 6. new bytes, then prove them sound
    new_sources = materialize(project, add, plan)
    _check_postconditions(project, plan, new_sources)
    if with_test:
        _add_regression_test(project, plan, fields)
    return plan


def _add_regression_test(project: Project, plan: MigrationPlan, fields: list[str]) -> None:
    test = plan_regression_test(project, fields)
    plan.regression_test = test
    plan.originals[test.path] = b""
    plan.new_contents[test.path] = test.content
    plan.created.add(test.path)
    plan.originals[test.cmake_path] = test.cmake_original
    plan.new_contents[test.cmake_path] = test.cmake_new
    plan.steps.append(f"add regression test {test.path} ({len(test.cases)} cases) and list it in "
                      f"{test.cmake_path} (target {test.target}); run: {test.run_command}")
    plan.warnings.extend(f"regression test: no row reaches the branch '{b}'" for b in test.uncovered)


def _account_for(occ, model: CheckoutModel) -> list[str]:
    """Every mention of the estimate is migrated (a call, a declaration, a definition, a
    using-declaration) or refuses the whole run with one line saying where and why: deleting the
    estimate while anything still names it would break the build. Returns the warnings."""
    at = f"{occ.path}:{occ.line}: "
    est = names.ESTIMATE
    if occ.kind == "macro":
        raise UnsupportedShape(at + (f"{occ.detail}; the macro cannot be migrated automatically (expand it "
                                     "by hand, or delete it if unused)"))
    if occ.kind == "inactive":
        # Code disabled by a constant is never compiled, so a rewrite of it could not be checked, and
        # leaving it would break the build the day the condition is flipped: a person decides.
        raise UnsupportedShape(at + f"{est} is used in code disabled by {occ.detail}; it would no longer compile "
                               "if re-enabled once the estimate is deleted: delete the disabled code or migrate "
                               "it by hand")
    if occ.kind == "unparsed":
        raise ParseFailure(at + f"the file does not parse around a mention of {est} ({occ.detail}; truncated?)")
    if occ.kind == "unclassified":
        raise UnsupportedShape(at + f"{est} is mentioned where it cannot be migrated: {occ.detail}")
    if occ.kind == "reference":
        owner = occ.owner
        if owner is not None and owner.type == "argument_list" and owner.parent is not None:
            callee = owner.parent.child_by_field_name("function")
            raise UnsupportedShape(at + f"{est} is passed as an argument to {cpp.text(callee)} (a macro or a "
                                   "function), not called; migrate it by hand")
        raise UnsupportedShape(at + f"{est} is used other than by a direct call (address taken, alias or call "
                               "through a pointer); migrate it by hand")
    if occ.kind == "call":
        halo = model.halo_kind(occ)
        if halo.kind == "pool":
            raise UnsupportedShape(at + f"not a conv2d halo (pool op: {halo.evidence}): migrate by hand; a pool's "
                                   "halo config (ceil_mode, is_avg_pool, snap_to_tile) differs from conv2d's")
        if halo.kind == "unknown":
            # Pool code without pool parameters in scope: still a pool's halo as far as anyone can tell,
            # and conv2d's defaults (snap_to_tile, no ceil_mode) would size it wrongly.
            raise UnsupportedShape(at + f"not a conv2d halo (called in {halo.evidence}): migrate by hand; a pool's "
                                   "halo config (ceil_mode, is_avg_pool, snap_to_tile) differs from conv2d's")
    return []


def _thread_missing_stride(project: Project, sites: list[Site], facts: list[SiteFacts], plan: MigrationPlan,
                           add) -> list[SiteFacts]:
    """Sites without a stride in scope, grouped by enclosing named function: each function gets one
    new parameter (after kernel_size) and every caller passes its own stride."""
    by_function: dict[int, list[int]] = {}
    for i, (site, f) in enumerate(zip(sites, facts)):
        if f.stride is not None:
            continue
        fn = site.scope.function
        if fn is None:
            raise ThreadingBlocked(f"{site.path}:{site.line}: no stride in scope and no enclosing function")
        for lam in site.scope.lambdas:
            if cpp.lambda_capture(lam).default is None:
                raise ThreadingBlocked(f"{site.path}:{site.line}: no stride in scope, and the lambda captures "
                                       "an explicit list, so a new parameter would not be visible in it")
        by_function.setdefault(fn.id, []).append(i)
    out = list(facts)
    for group in by_function.values():
        first = sites[group[0]]
        fn = first.scope.function
        kernel = facts[group[0]].arg("kernel_size").text
        after = kernel if kernel in [p.name for p in cpp.parameters(fn)] else names.THREAD_AFTER_ROLE
        fn_params = [p.name for p in cpp.parameters(fn)]
        padding = facts[group[0]].arg("padding").text
        thread = plan_threading(project, fn, first.src, names.STRIDE, after,
                                f"{first.path}:{first.line} needs the convolution stride",
                                resolve=partial(caller_stride, padding_index=fn_params.index(padding)
                                                if padding in fn_params else None),
                                fresh_prefix=names.THREAD_FRESH_PREFIX)
        plan.threads.append(thread)
        plan.warnings.extend(thread.notes)
        for path, edit in thread.edits:
            add(path, edit)
        stride = Expr(thread.param_name, f"new parameter `{thread.param_type} {thread.param_name}` of "
                      f"{thread.function} (threaded; {len(thread.callers)} callers updated)", thread.param_type)
        for i in group:
            out[i] = replace(out[i], stride=stride)
        plan.steps.append(f"thread `{thread.param_name}` into {thread.function} "
                          f"({len(thread.declarations)} declaration(s), {len(thread.definitions)} definition(s), "
                          f"{len(thread.callers)} caller(s))")
    return out


def stride_in_scope(view: ScopeView, args, index: int) -> CallerValue | None:
    """The convolution stride visible at a call (site.find_stride), spelled for the new parameter."""
    expr = find_stride(view, args[index])
    return CallerValue(expr, expr.as_array_argument()) if expr is not None else None


def caller_stride(project, src, call, args, index: int, padding_index: int | None = None) -> CallerValue | None:
    """What a caller of the threaded function passes as the stride. A transposed conv
    (conv_transpose2d builds its halo config with `is_transpose = true`) passes the zero-inserted
    full input, and the conv that runs on it after the transposed halo is a stride-1 conv without
    padding: so it passes `{1, 1}`, and `{0, 0, 0, 0}` instead of its own padding, which the function
    uses only for this size and a log line. With the conv's own stride and padding the halo would be
    sized as a regular conv's and come out too small for some shapes (upstream #30446 does that)."""
    view = ScopeView(project, src, call)
    if (padding_index is not None and padding_index < len(args) and _builds_transposed_halo(view)
            and not _only_use_of_a_local(view, args[padding_index])):
        callee = cpp.call_name(call)
        calls = [n for n in cpp.walk(view.scope.function) if n.type == "call_expression" and cpp.call_name(n) == callee]
        if len(calls) > 1:
            # Only a call that sizes the zero-inserted input passes {1, 1}; which one does, nothing here says
            # (a second call may size a regular conv: its own stride and padding are right there).
            raise ThreadingBlocked(f"{src.path}:{src.line(call)}: {cpp.function_name(view.scope.function)} builds a "
                                   f"transposed halo and calls {callee} {len(calls)} times: which call sizes the "
                                   "zero-inserted input (stride {1, 1}, no padding) is not known; migrate it by hand")
        return CallerValue(
            Expr("{1, 1}", f"the stride-1 conv that runs on {view.scope.function and cpp.function_name(view.scope.function)}'s "
                 "zero-inserted input after its transposed halo", "std::array<uint32_t, 2>"), "{1, 1}",
            ((padding_index, "{0, 0, 0, 0}"),),
            f"{cpp.text(args[padding_index])} → {{0, 0, 0, 0}} and stride {{1, 1}}: the sizes passed are the transposed "
            "conv's zero-inserted full input, on which a stride-1 conv without padding runs")
    return stride_in_scope(view, args, index)


def _only_use_of_a_local(view, arg) -> bool:
    """Whether replacing `arg` would leave a local unused (an error under tt-metal's -Werror)."""
    fn = view.scope.function
    for ident in (n for n in cpp.walk(arg) if n.type == "identifier"):
        name = view.scope.get(cpp.text(ident))
        if name is not None and name.kind in ("local", "structured-binding") and fn is not None:
            uses = [n for n in cpp.walk(fn) if n.type == "identifier" and cpp.text(n) == name.name
                    and not (arg.start_byte <= n.start_byte < arg.end_byte)]
            if len(uses) <= 1:  # only its own declaration is left
                return True
    return False


def _builds_transposed_halo(view) -> bool:
    """The caller's function sets `is_transpose = true` on a SlidingWindowConfig (designated
    initializer or assignment): the halo it runs is a transposed one."""
    fn = view.scope.function
    if fn is None:
        return False
    for n in cpp.walk(fn):
        if n.type == "initializer_pair" and cpp.text(n.child_by_field_name("designator") or n.children[0]) \
                .strip(". ") == "is_transpose" and cpp.text(n.child_by_field_name("value")) == "true":
            return True
        if (n.type == "assignment_expression" and cpp.text(n.child_by_field_name("left")).endswith(".is_transpose")
                and cpp.text(n.child_by_field_name("right")) == "true"):
            return True
    return False


def _thread_slice_geometry(sites: list[Site], facts: list[SiteFacts], plan: MigrationPlan, add) -> list[SiteFacts]:
    done: dict[int, object] = {}
    out = list(facts)
    for i, (site, f) in enumerate(zip(sites, facts)):
        if f.slice is None:
            continue
        lam = site.scope.lambdas[0]
        if lam.id not in done:
            done[lam.id] = plan_slice_geometry(site)
            geo = done[lam.id]
            if geo is not None:
                for path, edit in geo.edits:
                    add(path, edit)
                plan.steps.append(f"pass the slice's exact input extents and padding into lambda {geo.lambda_name} "
                                  f"({len(geo.passed)} call(s))")
        geo = done[lam.id]
        if geo is None:
            continue
        hw_passed = "; ".join(f"line {ln}: {hw}" for ln, hw, _ in geo.passed)
        pad_passed = "; ".join(f"line {ln}: {pad}" for ln, _, pad in geo.passed)
        out[i] = replace(f, slice=replace(
            f.slice,
            exact_input_hw=Expr(SLICE_INPUT_HW, f"new parameter of lambda {geo.lambda_name}: the slice's clamped "
                                f"input extents ({hw_passed})", SLICE_INPUT_TYPE),
            exact_padding=Expr(SLICE_PADDING, f"new parameter of lambda {geo.lambda_name}: the slice's final "
                               f"padding, including the right padding added for a tile-rounded output width "
                               f"({pad_passed})", SLICE_PADDING_TYPE)))
    return out


def _estimate_param_types(model: CheckoutModel) -> dict[str, str]:
    """The estimate's declared parameter types by meaning (what each argument was converted to)."""
    for occ in model.occurrences:
        if occ.kind in ("declaration", "definition") and occ.owner is not None:
            params = cpp.parameters(occ.owner)
            if len(params) == len(names.ESTIMATE_ROLES):
                return {role: p.type_text for role, p in zip(names.ESTIMATE_ROLES, params)}
    return {}


def _ensure_include(project: Project, site: Site, add, plan: MigrationPlan) -> None:
    src = site.src
    if src.path in (names.SLIDING_WINDOW_CPP, names.SLIDING_WINDOW_HPP):
        return
    if not project.checkout.exists(names.SLIDING_WINDOW_HPP) or project.reaches(src, names.SLIDING_WINDOW_HPP):
        return
    last = None
    for n in cpp.walk(src.root):
        if n.type == "preproc_include":
            last = n
    at = src.line_end(last.end_byte - 1) if last is not None else 0
    add(src.path, Edit(at, at, render("include.cpp.j2", header=names.SLIDING_WINDOW_INCLUDE) + "\n",
                       f"include {names.SLIDING_WINDOW_INCLUDE}"))
    plan.steps.append(f"include {names.SLIDING_WINDOW_INCLUDE} in {src.path}")


def _add_precise_function(model: CheckoutModel, add, plan: MigrationPlan) -> None:
    hpp, cpp_ = model.sliding_window_hpp, model.sliding_window_cpp
    if hpp is None or cpp_ is None:
        raise UnsupportedShape(f"{names.SLIDING_WINDOW_HPP} / .cpp not found; cannot add {names.PRECISE}")
    if not model.precise_declared:
        decls, _ = function_nodes(hpp, names.MAX_NSTICKS)
        if not decls:
            raise UnsupportedShape(f"{hpp.path}: no declaration of {names.MAX_NSTICKS} to place {names.PRECISE} after")
        anchor = decls[0]
        at = hpp.line_end(anchor.end_byte - 1)
        text = indent_lines(render("precise_decl.hpp.j2").rstrip("\n"), hpp.indent_of(anchor), first=True)
        add(hpp.path, Edit(at, at, "\n" + text + "\n", f"declare {names.PRECISE}"))
        plan.steps.append(f"declare {names.PRECISE} in {hpp.path}")
    if not model.precise_defined:
        _, defs = function_nodes(cpp_, names.MAX_NSTICKS)
        if not defs:
            raise UnsupportedShape(f"{cpp_.path}: no definition of {names.MAX_NSTICKS} to place {names.PRECISE} after")
        if model.shard_boundaries_arity not in (1, 2):
            raise UnsupportedShape(f"{names.SHARD_BOUNDARIES} takes {model.shard_boundaries_arity} arguments; "
                                   "expected 1 or 2")
        anchor = defs[0]
        at = cpp_.line_end(anchor.end_byte - 1)
        text = render("precise_def.cpp.j2", shard_boundaries_arity=model.shard_boundaries_arity).rstrip("\n")
        add(cpp_.path, Edit(at, at, "\n" + text + "\n", f"define {names.PRECISE}"))
        plan.steps.append(f"define {names.PRECISE} in {cpp_.path}")


def _check_postconditions(project: Project, plan: MigrationPlan, new_sources: dict[str, SourceFile]) -> None:
    """Beyond the engine's (every touched file re-parses, no mention of the estimate is left): the precise
    function declared and defined exactly once, and every name a bound expression uses visible at the
    rewritten site. Any failure refuses the whole plan."""
    require_gone(names.ESTIMATE, new_sources, plan.model.occurrences, plan)
    for path, kind in ((names.SLIDING_WINDOW_HPP, 0), (names.SLIDING_WINDOW_CPP, 1)):
        src = new_sources.get(path) or project.source(path)
        if src is None:
            continue
        count = len(function_nodes(src, names.PRECISE)[kind])
        if count != 1:
            raise PostconditionFailed(f"{path}: {names.PRECISE} {'declared' if kind == 0 else 'defined'} "
                                      f"{count} times after the rewrite")
    for sp in plan.sites:
        src = new_sources[sp.path]
        # The new call of *this* site: inside the bytes its rewrite produced (another site's config
        # may have the same name in another block).
        lo, hi = map_offset(plan.edits[sp.path], sp.region[0], False), map_offset(plan.edits[sp.path], sp.region[1], True)
        calls = [o for o in find_occurrences(src, names.PRECISE)
                 if o.kind == "call" and lo <= o.owner.start_byte < hi]
        if not calls:
            raise PostconditionFailed(f"{sp.path}:{sp.line}: the rewritten call is not where the rewrite put it")
        for call in calls:
            scope = scope_at(src, call.owner)
            args = cpp.arguments(call.owner)
            if not args or cpp.text(args[0]) != sp.config_name:
                continue
            for b in sp.bindings:
                for ident in dataflow.names_needed(b.expr):
                    if ident not in scope and ident not in _KNOWN_FREE:
                        raise PostconditionFailed(
                            f"{sp.path}: `{ident}` used for {b.field} is not in scope at the rewritten call")
            _no_local_left_unused(project.source(sp.path), sp, src, call.owner)


def _no_local_left_unused(old: SourceFile | None, sp: SitePlan, new: SourceFile, new_call) -> None:
    """A local the old call was the last reader of (`halo_padding`, passed to the estimate but bound
    from another value) would be declared and never used after the rewrite: an error under tt-metal's
    `-Werror` (`unused-variable`).  Refused, naming it, rather than deleting a statement of the branch."""
    if old is None:
        return
    olds = [o for o in find_occurrences(old, names.ESTIMATE)
            if o.kind == "call" and sp.region[0] <= o.owner.start_byte < sp.region[1]]
    fn = cpp.enclosing(new_call, "function_definition")
    if not olds or fn is None:
        return
    scope = scope_at(old, olds[0].owner)
    uses = Counter(cpp.text(n) for n in cpp.walk(fn) if n.type == "identifier")
    for ident in sorted({cpp.text(n) for a in cpp.arguments(olds[0].owner) for n in cpp.walk(a)
                         if n.type == "identifier"}):
        name = scope.get(ident)
        if name is None or name.kind != "local" or name.declaration is None \
                or "maybe_unused" in cpp.text(name.declaration):
            continue
        if uses[ident] <= 1:  # its declaration alone
            raise PostconditionFailed(f"{sp.path}:{name.line}: the local `{ident}` would be left unused by the "
                                      f"rewrite (the old call was its last reader; tt-metal builds with -Werror); "
                                      "remove it or migrate by hand")


_KNOWN_FREE = {"true", "false", names.NUM_CORES_NHW_HELPER}



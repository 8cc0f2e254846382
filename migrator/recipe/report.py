"""What the halo migration's plan shows: one finding per call site (each SlidingWindowConfig field, its
expression and where it comes from) and per threaded parameter (each caller and what it passes), and its
own fields of the JSON document as typed models (``migrator/schema/plan.schema.json`` is generated from them).
Rendering is the reports' job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from migrator import PROG
from migrator.document import CPP_IDENTIFIER, LINE, PATH, doc
from migrator.engine.recipe import Finding, Row
from migrator.recipe import names


def findings(plan) -> list[Finding]:
    out = []
    for s in plan.sites:
        rename = f" (renamed from {s.result_old})" if s.result_old != s.result_new else ""
        out.append(Finding(
            s.path, s.line,
            f"`{s.path}:{s.line}` — `{s.function}`" + (f" → `{s.lambda_name}`" if s.lambda_name else ""),
            notes=(f"result: {s.result_new}{rename}; config: {s.config_name}; shard shape: {s.shard_shape}",),
            columns=("field", "expression", "comes from"),
            rows=tuple(Row(b.field, b.expr, b.provenance) for b in s.bindings),
            annotation=f"{names.ESTIMATE} is pending migration to {names.PRECISE} (run {PROG} apply)"))
    for t in plan.threads:
        notes = [f"after `{t.after}`"]
        notes += [f"declaration {p}:{ln}" for p, ln in t.declarations]
        notes += [f"definition {p}:{ln}" for p, ln in t.definitions]
        first = (t.definitions or t.declarations or [("", 0)])[0]
        out.append(Finding(
            first[0], first[1], f"New parameter `{t.param_type} {t.param_name}` of `{t.function}`", notes=tuple(notes),
            columns=("caller", "passes", "comes from"),
            rows=tuple(Row(f"{c.path}:{c.line} ({c.function})", c.expr.text, c.expr.provenance) for c in t.callers)))
    return out


@dataclass
class BindingDoc:
    """How one field of the new SlidingWindowConfig is set at the call site."""

    __schema_name__ = "binding"
    expr: str = doc('The C++ expression assigned to the field (e.g. "{stride[0], stride[1]}").', minLength=1)
    provenance: str = doc("Human-readable explanation of where the expression's value comes from (parameter, local, "
                          "struct member, lambda capture, threaded parameter, or a fixed rule), with file:line "
                          "references. Wording is not stable; do not parse it.")


@dataclass
class ResultDoc:
    """The variable that receives the halo size."""

    __schema_name__ = "result"
    old: str = doc('Its name now (e.g. "approx_input_size_per_core").')
    new: str = doc("Its name after the migration; equal to `old` when it is not renamed.")


BOUND_FIELDS = {
    "batch_size": "Batch size (N).",
    "input_hw": "Input height and width, as a {h, w} pair.",
    "window_hw": "Kernel height and width.",
    "stride_hw": "Convolution stride (threaded into the function when it is not in scope).",
    "padding": "Padding {top, bottom, left, right}; {0, 0, 0, 0} where the input size already includes it "
               "(DRAM slices).",
    "dilation_hw": "Dilation height and width.",
    "num_cores_nhw": "Cores along the flattened N*H*W dimension, from the parallel config of the halo input.",
    "core_range_set": "Core grid of the halo input's shard spec.",
    "snap_to_tile": "Whether shard boundaries snap to tiles (always \"true\" for conv2d's halo input).",
}


@dataclass
class SiteDoc:
    """One call of estimate_halo_output_elems and the exact replacement planned for it."""

    __schema_name__ = "site"
    file: str = doc(ref=PATH)
    line: int = doc(ref=LINE)
    function: str = doc('Name of the enclosing function (unqualified), e.g. "determine_conv_config_for_auto_shard".',
                        minLength=1)
    lambda_name: str = doc('Name of the variable holding the enclosing lambda (e.g. "get_l1_usage_for_sharding"), or '
                           '"" when the call is directly in `function`.', json_name="lambda")
    config_name: str = doc('Name of the SlidingWindowConfig variable the rewrite declares before the call (e.g. '
                           '"halo_config").', ref=CPP_IDENTIFIER)
    result: ResultDoc = doc("The variable that receives the halo size.")
    shard_shape: str = doc("C++ expression passed as the shard shape (second argument) of "
                           "calculate_precise_halo_output_elems.", minLength=1)
    arguments: dict[str, str] = doc("The estimate call's arguments by meaning (shard_shape, batch_size, input_height, "
                                    "input_width, kernel_size, dilation, padding), as written at the call "
                                    "(whitespace collapsed).")
    bindings: dict[str, BindingDoc] = doc(
        "Every SlidingWindowConfig field the rewrite sets, keyed by field name, in the struct's declaration order. "
        "The nine fields below are always present; keys are the C++ struct's field names.",
        required_keys=BOUND_FIELDS, key_ref=CPP_IDENTIFIER)
    warnings: list[str] = doc("Reviewer notes about this site (also listed in the top-level `warnings`). Wording is "
                              "not stable.")


@dataclass
class LocationDoc:
    """A place in the checkout."""

    __schema_name__ = "location"
    file: str = doc(ref=PATH)
    line: int = doc(ref=LINE)


@dataclass
class CallerDoc:
    """A call of the threaded function that gets the new argument."""

    __schema_name__ = "caller"
    file: str = doc(ref=PATH)
    line: int = doc(ref=LINE)
    function: str = doc("Function containing the call.", minLength=1)
    expr: str = doc('C++ expression passed as the new argument (e.g. "stride" or "params.stride").', minLength=1)
    provenance: str = doc("Where `expr` comes from in that caller (human-readable; wording is not stable).")


@dataclass
class ThreadDoc:
    """A parameter added to a function and passed by all of its callers."""

    __schema_name__ = "thread"
    function: str = doc("Function that gains the parameter.", minLength=1)
    parameter: str = doc('The new parameter as it will be written: type then name, e.g. '
                         '"const std::array<uint32_t, 2>& stride".', minLength=1)
    after: str = doc('Name of the existing parameter the new one is inserted after (e.g. "kernel_size").')
    declarations: list[LocationDoc] = doc("Declarations (prototypes) that change.")
    definitions: list[LocationDoc] = doc("Definitions that change.")
    callers: list[CallerDoc] = doc("Every call of the function; each passes the new argument.")


@dataclass
class HaloPlanFields:
    """The halo recipe's fields of the plan document."""

    estimate_variant: str = doc(
        'Which upstream body of estimate_halo_output_elems the checkout has: "V1" (integer shard height), "V2" '
        '(float division), "V3" (tt::div_up) when the body matches upstream text; "V1 (by structure)" etc. when it '
        'only has the same structure; "unknown" when a definition exists but matches none; "absent" when there is '
        "no definition.", pattern=r"^(V[123]( \(by structure\))?|unknown|absent)$")
    shard_boundaries_arity: Optional[int] = doc(
        "Number of parameters of sliding_window::generate_shard_boundaries in this checkout (1 or 2 in known "
        "revisions); decides how the added calculate_precise_halo_output_elems calls it. null when the function "
        "was not found.", minimum=0)
    sites: list[SiteDoc] = doc("One entry per call of estimate_halo_output_elems that will be rewritten, in file then "
                               "line order. Empty when nothing is pending.")
    threading: list[ThreadDoc] = doc(
        "New function parameters the migration threads through (today at most one: the convolution `stride` into "
        "determine_conv_config_for_auto_shard), with every declaration, definition and caller that changes.")


def report_fields(plan) -> HaloPlanFields:
    return HaloPlanFields(
        plan.model.estimate_variant, plan.model.shard_boundaries_arity,
        [SiteDoc(s.path, s.line, s.function, s.lambda_name, s.config_name, ResultDoc(s.result_old, s.result_new),
                 s.shard_shape, dict(s.arguments), {b.field: BindingDoc(b.expr, b.provenance) for b in s.bindings},
                 list(s.warnings)) for s in plan.sites],
        [ThreadDoc(t.function, f"{t.param_type} {t.param_name}", t.after,
                   [LocationDoc(p, ln) for p, ln in t.declarations], [LocationDoc(p, ln) for p, ln in t.definitions],
                   [CallerDoc(c.path, c.line, c.function, c.expr.text, c.expr.provenance) for c in t.callers])
         for t in plan.threads])


def verify_rows(summaries) -> list[tuple]:
    """The numeric check's table in the PR description: one row per checked call."""
    def ratio(r):
        return "—" if r["min"] is None else f"{r['min']:.2f} · {r['median']:.2f} · {r['max']:.2f}"

    return [(f"`{v['file']}:{v['line']}`", v["evaluated"], v["mismatches"], v["under_allocations"], ratio(v["ratio"]),
             v["l1_saved_bytes"]) for v in summaries]


def regression_rows(test) -> list[tuple]:
    """The regression test's cases in the PR description."""
    if test is None:
        return []
    rows = []
    for c in test.cases:
        k = c.config
        rows.append((f"`{c.name}`",
                     f"{k.batch_size} · {k.input_hw[0]}×{k.input_hw[1]} · {k.window_hw[0]}×{k.window_hw[1]} · "
                     f"{k.stride_hw[0]}×{k.stride_hw[1]} · {','.join(str(x) for x in k.padding)} · "
                     f"{k.dilation_hw[0]}×{k.dilation_hw[1]}",
                     f"{k.num_cores_nhw} · {'on' if k.snap_to_tile else 'off'}",
                     f"{c.shard_shape[0]}×{c.shard_shape[1]}", c.expected, f"{c.why} ({c.source})"))
    return rows

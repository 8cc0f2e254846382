"""Per call path numeric check of every exact halo call, from the entry functions' own arguments.

:mod:`migrator.verify.paths` evaluates the C++; this module enumerates the sites and the call paths
that reach them, derives the config the halo op really receives on each path (the *truth*, from
the spec alone), compares, and reports.  A path is the chain of calls from an entry function (or a
function nobody calls, whose parameters are then taken by their declared types) to the site.

Truth per path kind:

- ``l1``: the conv as its entry describes it, the halo op of ``conv2d_L1`` (regular config);
- ``dram_slice``: the site in the DRAM-slice function; the first slice of one (the whole input,
  with the right padding a tile-rounded output width adds);
- ``nested``: the auto-shard called from inside a DRAM slice; the slice's own input size and
  padding are the caller's (pre-existing) description and are reported, not failed, where they
  differ from what the halo op receives; every other field is compared;
- ``transposed``: ``conv_transpose2d``'s call of the auto-shard.  The halo op that really runs is a
  transposed halo (``is_transpose = true`` on the real input).  The call site is compared field by
  field with the conv that runs after that halo, a stride-1 conv without padding over the
  zero-inserted input (what the caller passes since halo-migrate threads `{1, 1}` and `{0, 0, 0, 0}`
  there), and the difference of its value from the real transposed halo is reported per shape as
  the residual (positive: the call under-allocates on that shape; 0 everywhere for that description).
  A tree whose ``conv_transpose2d`` already passes its own stride and padding (upstream #30446's choice)
  is reported (caller finding, with the residual), not failed: that description is the caller's.
- matmul convs (1x1, stride 1, no padding) still run the auto-shard: their contexts are evaluated
  and compared with the config a halo op would get; no halo op runs for them, and the report says so
  with the old and new L1 accounting.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from migrator.engine import cpp, dataflow
from migrator.engine.scope import scope_at
from migrator.engine.source import SourceFile
from migrator.reference import SlidingWindowConfig, estimate_halo_output_elems, precise_halo_output_elems
from migrator.verify import placement as pm
from migrator.verify.paths import (ENTRIES, MAX_DEPTH, PRECISE, Compiler, Ctx, Frame, Index, PathEvalError,
                                   PathNotReached, _lazy_expr, _slice_type, _unwrap, entry_values, memo,
                                   transposed_output_hw)

BYTES_PER_ELEM = 2
EXAMPLES = 5
PAIR = {"input_hw", "window_hw", "stride_hw", "output_pad_hw", "dilation_hw"}
MATH_FIELDS = ("batch_size", "window_hw", "stride_hw", "output_pad_hw", "dilation_hw", "num_cores_nhw",
               "snap_to_tile", "is_bilinear", "is_transpose", "ceil_mode")


# ---- sites read from the text ----------------------------------------------------------------------


@dataclass
class TextSite:
    src: SourceFile
    call: Any
    config: str
    shard: Any
    bindings: Dict[str, Any]  # field -> expression node

    @property
    def path(self) -> str:
        return self.src.path

    @property
    def line(self) -> int:
        return self.src.line(self.call)


def read_sites(sources: Sequence[SourceFile]) -> List[TextSite]:
    out = []
    for src in sources:
        if PRECISE.encode() not in src.data:
            continue
        for n in cpp.walk(src.root):
            if n.type != "call_expression" or cpp.call_name(n) != PRECISE:
                continue
            fdef = cpp.enclosing(n, "function_definition")
            if fdef is None or cpp.last_name(cpp.function_name(fdef)) == PRECISE:
                continue
            args = cpp.arguments(n)
            if len(args) != 2 or args[0].type != "identifier":
                continue
            config = src.text(args[0])
            b = _bindings(src, n, config)
            if b is not None:
                out.append(TextSite(src, n, config, args[1], b))
    out.sort(key=lambda s: (s.path, s.line))
    return out


def _bindings(src, call, config) -> Optional[Dict[str, Any]]:
    """``config.field = expr;`` statements (and a designated initializer) before ``call``, innermost
    block outwards, up to the declaration ``SlidingWindowConfig config``."""
    found: Dict[str, Any] = {}
    node = call
    while node is not None:
        parent = node.parent
        if parent is None:
            return None
        if parent.type == "compound_statement":
            decl = None
            assigned: Dict[str, Any] = {}
            for s in parent.named_children:
                if s.start_byte >= node.start_byte:
                    break
                if s.type == "declaration" and re.match(
                        rf"^\s*(?:const\s+)?(?:[\w:]*::)?SlidingWindowConfig\s+{config}\b", src.text(s)):
                    decl = {}
                    assigned = {}
                    for d in s.children_by_field_name("declarator"):
                        v = d.child_by_field_name("value") if d.type == "init_declarator" else None
                        if v is not None and v.type == "compound_literal_expression":
                            v = v.child_by_field_name("value")
                        for c in (v.named_children if v is not None else []):
                            if c.type == "initializer_pair":
                                decl[src.text(c.child_by_field_name("designator")).lstrip(".")] = \
                                    c.child_by_field_name("value")
                elif s.type == "expression_statement" and s.named_children:
                    e = s.named_children[0]
                    if e.type == "assignment_expression":
                        left = e.child_by_field_name("left")
                        if left.type == "field_expression" and \
                                src.text(left.child_by_field_name("argument")) == config:
                            assigned[src.text(left.child_by_field_name("field"))] = e.child_by_field_name("right")
            if decl is not None:
                decl.update(assigned)
                decl.update(found)
                return decl
            assigned.update(found)
            found = assigned
        node = parent
    return None


# ---- call paths ----------------------------------------------------------------------------------------


@dataclass
class Step:
    src: SourceFile
    call: Any  # the call expression in the caller (None for the root)
    callee: Any  # function_definition or lambda_expression entered
    callee_src: SourceFile
    name: str


@dataclass
class CallPath:
    steps: List[Step]  # root first

    @property
    def entry(self) -> str:
        return self.steps[0].name

    def label(self) -> str:
        parts = [self.steps[0].name]
        for s in self.steps[1:]:
            parts.append(f"{s.name} (line {s.src.line(s.call)})")
        return " → ".join(parts)


def _innermost_callable(node):
    n = node.parent
    while n is not None and n.type not in ("lambda_expression", "function_definition"):
        n = n.parent
    return n


def _lambda_var(lam, src) -> str:
    p = lam.parent
    if p is not None and p.type == "init_declarator":
        nm = cpp.declarator_name(p.child_by_field_name("declarator"))
        return src.text(nm) if nm is not None else ""
    return ""


def enumerate_paths(index: Index, src: SourceFile, node, depth: int = 0) -> List[List[Step]]:
    """Chains of steps (root first) that reach ``node``; the last step enters its callable."""
    target = _innermost_callable(node)
    if target is None or depth > MAX_DEPTH:
        return []
    if target.type == "lambda_expression":
        parent = target.parent
        if parent is not None and parent.type == "call_expression" and \
                parent.child_by_field_name("function") is not None and \
                parent.child_by_field_name("function").id == target.id:
            # called where it is written: `[&]() { ... }()`
            return [chain + [Step(src, parent, target, src, "lambda")]
                    for chain in enumerate_paths(index, src, parent, depth + 1)]
        var = _lambda_var(target, src)
        outer = _innermost_callable(target)
        if not var or outer is None:
            return []
        out = []
        for n in cpp.walk(outer):
            if n.type == "call_expression" and cpp.call_name(n) == var and n.start_byte > target.end_byte:
                if _innermost_callable(n) is None:
                    continue
                for chain in enumerate_paths(index, src, n, depth + 1):
                    out.append(chain + [Step(src, n, target, src, var)])
        return out
    name = cpp.last_name(cpp.function_name(target))
    if name in ENTRIES:
        return [[Step(src, None, target, src, name)]]
    callers = [(s, c) for s, c in index.calls_of(name)
               if not (s.path == src.path and target.start_byte <= c.start_byte < target.end_byte)]
    if not callers:
        return [[Step(src, None, target, src, name)]]  # a root: parameters by declared type
    out = []
    for s, c in callers:
        for chain in enumerate_paths(index, s, c, depth + 1):
            out.append(chain + [Step(s, c, target, src, name)])
    return out


# ---- truth -----------------------------------------------------------------------------------------------


def path_kind(path: CallPath, site: TextSite) -> str:
    if path.entry == "conv_transpose2d":
        return "transposed"
    if path.entry == "conv2d_DRAM" and len(path.steps) > 1 and cpp.enclosing(
            path.steps[1].call, "while_statement", "for_statement", "for_range_loop") is not None:
        return "nested"  # conv2d_DRAM's own auto-shard call inside its slicing loop: one call per slice
    slice_steps = [s for s in path.steps if _is_slice_step(s)]
    if slice_steps:
        last = slice_steps[-1]
        inside = last.callee_src.path == site.path and \
            last.callee.start_byte <= site.call.start_byte < last.callee.end_byte
        # the site is in the slice code itself, not in a function the slice code calls
        if inside and not any(s.callee.type == "function_definition" and not _is_slice_step(s)
                              for s in path.steps[path.steps.index(last) + 1:]):
            return "dram_slice"
        return "nested"
    return "l1"


def _is_slice_step(step: Step) -> bool:
    """A step into DRAM-slice code: a function taking a slice config, or a function/lambda whose
    name says it works on one slice (``calculate_conv_dram_slice_L1_usage``,
    ``compute_l1_usage_for_slice``)."""
    if step.callee.type == "function_definition" and any(_takes_slice_config(p.type_text)
                                                          for p in cpp.parameters(step.callee)):
        return True
    name = step.name.lower()
    return "slice" in name and ("l1" in name or "usage" in name)


@dataclass
class Truth:
    config: SlidingWindowConfig
    shard: Tuple[int, int]
    matmul: bool
    tile_extra: int = 0
    transposed: Optional[Tuple[SlidingWindowConfig, Tuple[int, int]]] = None


_TRUTH: Dict[tuple, Any] = {}


def truth_for(kind: str, spec: pm.ConvSpec, layout: str, grid: str, slice_type: str = "DRAM_HEIGHT",
              num_slices: int = 1) -> Truth:
    key = (kind if kind in ("transposed", "l1") else "slice", spec, layout, grid, slice_type, num_slices)
    hit = _TRUTH.get(key)
    if hit is None:
        try:
            hit = _truth_for(kind, spec, layout, grid, slice_type, num_slices)
        except pm.NotReached as exc:
            hit = exc
        if len(_TRUTH) > 100000:
            _TRUTH.clear()
        _TRUTH[key] = hit
    if isinstance(hit, pm.NotReached):
        raise hit
    return hit


def _truth_for(kind: str, spec: pm.ConvSpec, layout: str, grid: str, slice_type: str = "DRAM_HEIGHT",
               num_slices: int = 1) -> Truth:
    mm = spec.is_mm_conv()
    if kind == "transposed":
        return _transposed_truth(spec, layout, grid)
    if kind in ("dram_slice", "nested"):
        return _slice_truth(spec, layout, grid, slice_type, num_slices)
    pl = pm.place(spec, layout, grid, "l1", allow_mm=True)
    return Truth(pl.runtime_config, tuple(pl.runtime_shard_shape), mm, 0)


def first_slice(spec: pm.ConvSpec, slice_type: str, num_slices: int = 1, index: int = 0) -> dict:
    """Slice ``index`` of ``conv2d_DRAM`` cut into ``num_slices`` (by default the first; with one
    slice, the only one): the input rows/columns its windows read, the padding left on that side,
    and the output width rounded up to a tile (the right padding grows by the extra columns times
    the stride).  The output is cut in whole tiles, the first slices taking the remainder, as
    conv2d_DRAM's slice loop does."""
    out_h, out_w = spec.output_hw()
    dk_h = spec.dilation_h * (spec.kernel_height - 1) + 1
    dk_w = spec.dilation_w * (spec.kernel_width - 1) + 1
    top, bottom, left, right = spec.padding_n4
    h, w = spec.input_height, spec.input_width
    dim = out_h if slice_type == "DRAM_HEIGHT" else out_w
    units = -(-dim // pm.TILE)
    sizes = [pm.TILE * (units // num_slices + (1 if i < units % num_slices else 0)) for i in range(num_slices)]
    lo = min(dim, sum(sizes[:index]))
    hi = min(dim, lo + sizes[index])
    if hi <= lo:
        raise pm.NotReached("empty slice")
    if slice_type == "DRAM_HEIGHT":
        begin = lo * spec.stride_h - spec.pad_h
        end = (hi - 1) * spec.stride_h - spec.pad_h + dk_h
        top, bottom = max(0, -begin), max(0, end - h)
        h = min(h, end) - max(0, begin)
        out_h = hi - lo
    else:
        begin = lo * spec.stride_w - spec.pad_w
        end = (hi - 1) * spec.stride_w - spec.pad_w + dk_w
        left, right = max(0, -begin), max(0, end - w)
        w = min(w, end) - max(0, begin)
        out_w = hi - lo
    if h <= 0 or w <= 0:
        raise pm.NotReached("slice reads no input")
    extra = (pm.TILE - out_w % pm.TILE) % pm.TILE
    return {"input_hw": (h, w), "padding": (top, bottom, left, right + extra * spec.stride_w),
            "output_hw": (out_h, out_w + extra), "tile_extra": extra * spec.stride_w}


def _slice_truth(spec: pm.ConvSpec, layout: str, grid: str, slice_type: str, num_slices: int = 1) -> Truth:
    if spec.batch_size <= 0 or spec.input_channels <= 0:
        raise pm.NotReached("empty input")
    sl = first_slice(spec, slice_type, num_slices)
    g = pm.GRIDS[grid]
    alignment = pm.input_channels_alignment(layout, "ROW_MAJOR", sliced_op=False)
    pc = pm.determine_parallel_config(layout, spec.batch_size, spec.input_channels, sl["output_hw"][0],
                                      sl["output_hw"][1], alignment, g)
    mem = pm.determine_input_memory_config(pc, spec.batch_size, sl["input_hw"][0], sl["input_hw"][1],
                                           spec.input_channels, alignment, "ROW_MAJOR")
    cfg = SlidingWindowConfig(batch_size=spec.batch_size, channels=spec.input_channels, input_hw=sl["input_hw"],
                              window_hw=(spec.kernel_height, spec.kernel_width),
                              stride_hw=(spec.stride_h, spec.stride_w), padding=sl["padding"],
                              dilation_hw=(spec.dilation_h, spec.dilation_w),
                              num_cores_nhw=pm.get_num_cores_nhw_from_parallel_config(pc),
                              num_cores_c=pm.get_num_cores_channels_from_parallel_config(pc), core_range_set=pc.grid,
                              snap_to_tile=True)
    return Truth(cfg, tuple(mem.spec.shape), spec.is_mm_conv(), sl["tile_extra"])


def _transposed_truth(spec: pm.ConvSpec, layout: str, grid: str) -> Truth:
    out_h, out_w = transposed_output_hw(spec)
    if out_h <= 0 or out_w <= 0:
        raise pm.NotReached("transposed output is empty")
    full_h = out_h + spec.dilation_h * (spec.kernel_height - 1)
    full_w = out_w + spec.dilation_w * (spec.kernel_width - 1)
    g = pm.GRIDS[grid]
    alignment = pm.input_channels_alignment(layout, "ROW_MAJOR", sliced_op=False)
    pc = pm.determine_parallel_config(layout, spec.batch_size, spec.input_channels, out_h, out_w, alignment, g)
    n = pm.get_num_cores_nhw_from_parallel_config(pc)
    mem = pm.determine_input_memory_config(pc, spec.batch_size, full_h, full_w, spec.input_channels, alignment,
                                           "ROW_MAJOR")
    common = dict(batch_size=spec.batch_size, channels=spec.input_channels,
                  window_hw=(spec.kernel_height, spec.kernel_width), stride_hw=(spec.stride_h, spec.stride_w),
                  dilation_hw=(spec.dilation_h, spec.dilation_w), num_cores_nhw=n,
                  num_cores_c=pm.get_num_cores_channels_from_parallel_config(pc), core_range_set=pc.grid,
                  snap_to_tile=True)
    # What the caller describes to the auto-shard: the conv that runs after the transposed halo, a
    # stride-1 conv without padding over the zero-inserted input (its size equals the transposed halo's).
    design = SlidingWindowConfig(input_hw=(full_h, full_w), padding=(0, 0, 0, 0),
                                 **{**common, "stride_hw": (1, 1)})
    real = SlidingWindowConfig(input_hw=(spec.input_height, spec.input_width), padding=spec.padding_n4,
                               is_transpose=True, **common)
    real_mem = pm.determine_input_memory_config(pc, spec.batch_size, spec.input_height, spec.input_width,
                                                spec.input_channels, alignment, "ROW_MAJOR")
    return Truth(design, tuple(mem.spec.shape), False, 0, (real, tuple(real_mem.spec.shape)))


# ---- evaluating one site on one path ---------------------------------------------------------------


@dataclass
class BoundPath:
    path: CallPath
    kind: str
    site_frame: Frame
    fields: Dict[str, Any]
    shard: Any
    conditions: List[Tuple[Any, bool, str]]  # (fn, required truth, text)
    layout_args: List[Any]  # fns that must equal ctx.layout
    error: Optional[str] = None
    variant: Dict[str, Any] = field(default_factory=dict)
    label_suffix: str = ""
    static_layouts: List[str] = field(default_factory=list)
    constant_padding: bool = False  # the site's padding is a literal (no slice padding in scope)
    # a slice site whose function holds no slice padding (older revisions size slices by their own
    # approximation): a description covering the real slice is the caller's bound, reported, not failed
    approximate_slice: bool = False
    # the fields whose bound expression is only what the caller handed in, unchanged: the only ones an older
    # slice site's leniency may report instead of fail (a local the branch computed is the branch's own value)
    caller_described: frozenset = frozenset()
    error_where: Optional[Tuple[str, int, int]] = None
    auto_folding: bool = False  # the tree folds stride == kernel convs by itself (see runtime_conv)


ROOT_BY_TYPE = {"ConvDRAMParamters": "params"}


SLICE_PADDING = re.compile(rb"\b(?:pad_(?:top|bottom|left|right)|slice_padding|slice_pad\w*)\b")


def _slice_padding_in_scope(site: TextSite) -> bool:
    """Does the function around the site hold a slice's own padding (``pad_top``..., or the
    ``slice_padding`` a migration passes in)?  Without one, no config there can be exact."""
    fdef = cpp.enclosing(site.call, "function_definition")
    if fdef is None:
        return True
    return SLICE_PADDING.search(site.src.data[fdef.start_byte:site.call.start_byte]) is not None


def _takes_slice_config(type_text: str) -> bool:
    """A parameter that is a slice config itself (not an optional one, not its SliceType)."""
    return "Conv2dSliceConfig" in type_text and "SliceType" not in type_text and "optional" not in type_text


def _root_param(name: str, type_text: str, variant: Dict[str, Any], root: str = ""):
    if name == "padding" and re.search(r",\s*4\s*>", type_text):
        return lambda ctx: ctx.entry["padding_n4"]
    if "SliceType" in type_text:
        v = variant.get("slice_type", "DRAM_HEIGHT")
        return lambda ctx: v
    if _takes_slice_config(type_text):
        # older conv2d_DRAM (45ecf0a728 ... f843883541) takes the slice config itself; num_slices 0
        # asks it to find the number of slices, the path into its L1 estimate
        v = variant.get("slice_type", "DRAM_HEIGHT")
        return lambda ctx: {"slice_type": v, "num_slices": 0}
    if "ConvDRAMParamters" in type_text:
        def params(ctx):
            e = ctx.entry
            return {"in_channels": e["in_channels"], "out_channels": e["out_channels"], "batch_size": e["batch_size"],
                    "input_height": e["input_height"], "input_width": e["input_width"],
                    "output_height": e["output_height"], "output_width": e["output_width"],
                    "kernel_size": e["kernel_size"], "stride": e["stride"], "padding_n4": e["padding_n4"],
                    "dilation": e["dilation"], "groups": e["groups"], "conv_config": e["conv_config"],
                    "compute_grid": e["compute_grid_size"], "input_layout": "ROW_MAJOR",
                    "input_datatype": "BFLOAT16", "output_datatype": "BFLOAT16", "weights_datatype": "BFLOAT16",
                    "enable_bias": e["enable_bias"], "mm_conv": e["mm_conv"],
                    "compute_kernel_config": e["compute_config"]}
        return params

    unreached = root and root not in ENTRIES

    def by_name(ctx):
        if name not in ctx.entry:
            if unreached:  # a helper no modelled entry calls: no spec says what its parameters hold
                raise PathEvalError(f"`{root}` is called from no modelled entry ({', '.join(ENTRIES[:3])}, ...), so "
                                    f"no conv spec gives its parameter `{name}` a value")
            raise PathEvalError(f"`{name}`: entry parameter with no modelled value")
        return ctx.entry[name]
    return by_name


def bind_path(comp: Compiler, site: TextSite, path: CallPath, variant: Dict[str, Any]) -> BoundPath:
    root = path.steps[0]
    params = {p.name: _root_param(p.name, p.type_text, variant, root.name) for p in cpp.parameters(root.callee)}
    frame = comp.frame(root.callee_src, root.callee, params, label=root.name)
    conditions: List[Tuple[Any, bool, str]] = []
    layout_args: List[Any] = []
    for step in path.steps[1:]:
        conditions += _path_conditions(comp, step.call, frame)
        args = cpp.arguments(step.call)
        pfns = {}
        params = cpp.parameters(step.callee)
        for p, a in zip(params, args):
            fn = _lazy(comp, a, frame)
            pfns[p.name] = fn
            if "TensorMemoryLayout" in p.type_text:
                layout_args.append(fn)
        for p in params[len(args):]:
            default = p.node.child_by_field_name("default_value") if p.has_default else None
            if default is not None:  # `dram_slice_config_ = std::nullopt`, left out by the caller
                pfns[p.name] = _lazy(comp, default, frame)
        if step.callee.type == "lambda_expression":
            frame = comp.frame(step.callee_src, step.callee, pfns, parent=frame, call_point=step.call,
                               label=step.name)
        else:
            frame = comp.frame(step.callee_src, step.callee, pfns, label=step.name)
    conditions += _path_conditions(comp, site.call, frame)
    bp = BoundPath(path, path_kind(path, site), frame, {}, None, conditions, layout_args, variant=dict(variant))
    pad = site.bindings.get("padding")
    bp.constant_padding = pad is not None and re.fullmatch(r"\{[\s0uUlL,]*\}", site.src.text(pad)) is not None
    bp.approximate_slice = bp.kind == "dram_slice" and not _slice_padding_in_scope(site)
    if bp.approximate_slice:  # the one place it is consulted
        bp.caller_described = frozenset(f for f, n in site.bindings.items() if _handed_in(site, f, n))
    try:
        bp.fields = {f: comp.expr(n, frame) for f, n in site.bindings.items()}
        bp.shard = comp.expr(site.shard, frame)
    except PathEvalError as exc:
        bp.error = exc.message
        bp.error_where = exc.where
    return bp


def _handed_in(site: TextSite, fld: str, node) -> bool:
    """The bound expression of ``fld`` is what the caller handed in, unchanged before the call: parameters
    of the enclosing functions or lambdas, none written before the site; for the input extents each
    element a parameter itself or an element of one (a slice lambda's `input_slice_height` or
    `slice_input_hw[0]`, auto-shard's `input_height`; not `params.input_height`, the whole input), for the
    padding members of them too (`params.padding_n4`).
    Only such a value is "the caller's description"."""
    scope = scope_at(site.src, site.call)
    if fld == "input_hw":
        items = cpp.braced_items(node)
        if items is None or not all(
                i.type == "identifier" or (i.type == "subscript_expression"
                                           and i.child_by_field_name("argument").type == "identifier")
                for i in items):
            return False  # `params.input_height` is a member: the whole input, not what this slice was handed
    roots = {cpp.text(n) for n in cpp.walk(node) if n.type == "identifier"}
    if not roots:
        return False
    for r in roots:
        name = scope.get(r)
        if name is None or name.kind not in ("parameter", "lambda-parameter") or name.declaration is None:
            return False
        owner = cpp.enclosing(name.declaration, "lambda_expression", "function_definition")
        body = owner.child_by_field_name("body") if owner is not None else None
        if body is None or dataflow.writers_before(body, r, site.call, lambda callee: []):
            return False
    return True


def _lazy(comp, node, frame):
    """Compile an argument on first use (an argument nobody reads must not stop the path)."""
    return memo(_lazy_expr(comp, node, frame))


def auto_folding(index: Index) -> bool:
    """Does the tree fold stride == kernel convs by itself?  ``auto_enable_kernel_folding`` (tt-metal
    #29993) takes the config's flag as a ``std::optional<bool>``: unset means decide."""
    for src, fdef in index.defs.get("auto_enable_kernel_folding", []):
        ps = cpp.parameters(fdef)
        if ps and "optional" in ps[0].type_text:
            return True
    return False


FOLDING_ENTRIES = ("conv2d", "conv2d_L1", "conv2d_DRAM", "prepare_conv_weights", "prepare_conv_bias",
                   "get_opt_block_config")


FOLDING_CALLS = ("fold_input_tensor_if_required", "compute_kernel_stride_folding_params")


def folds_on_path(path: CallPath) -> bool:
    """Does a function on the path (the root included) fold the input itself?  If none does, the
    root is a helper called after the folding (``get_opt_block_config``): its arguments already
    hold the folded geometry."""
    for step in path.steps:
        body = step.callee.child_by_field_name("body")
        if body is not None and any(n.type == "call_expression" and cpp.call_name(n) in FOLDING_CALLS
                                    for n in cpp.walk(body)):
            return True
    return False


def runtime_conv(bp: "BoundPath", spec: pm.ConvSpec) -> pm.ConvSpec:
    """The conv that really runs for ``spec`` on this path: on a tree that folds by itself, a conv2d
    (and its weight preparation) whose stride equals its kernel runs folded, as a 1x1 matmul conv."""
    if bp.auto_folding and bp.path.entry in FOLDING_ENTRIES and spec.auto_folds():
        return spec.folded()
    return spec


def _path_conditions(comp: Compiler, call, frame: Frame) -> List[Tuple[Any, bool, str]]:
    out = []
    body = frame.func
    n = call
    while n is not None and n.id != body.id:
        parent = n.parent
        if parent is None:
            break
        if parent.type == "if_statement":
            cons = parent.child_by_field_name("consequence")
            cond = parent.child_by_field_name("condition")
            if cond is not None and n.id != cond.id:
                inside_then = cons is not None and cons.start_byte <= call.start_byte < cons.end_byte
                out.append((_safe(comp, cond, frame), inside_then, frame.src.text(cond)))
        if parent.type == "while_statement" and n.type != "condition_clause":
            cond = parent.child_by_field_name("condition")
            out.append((_safe(comp, cond, frame), True, frame.src.text(cond)))
        if parent.type == "compound_statement":
            for s in parent.named_children:
                if s.start_byte >= n.start_byte:
                    break
                if s.type == "if_statement" and _returns(s.child_by_field_name("consequence")):
                    cond = s.child_by_field_name("condition")
                    out.append((_safe(comp, cond, frame), False, frame.src.text(cond)))
        n = parent
    return out


def _returns(node) -> bool:
    if node is None:
        return False
    if node.type == "return_statement":
        return True
    return node.type == "compound_statement" and any(c.type == "return_statement" for c in node.named_children)


def _safe(comp, node, frame):
    try:
        return comp.expr(node, frame)
    except PathEvalError:
        return None


# ---- running -------------------------------------------------------------------------------------------


@dataclass
class PathResult:
    label: str
    kind: str
    entry: str
    variant: str = ""
    evaluated: int = 0
    matmul: int = 0
    not_reached: Counter = field(default_factory=Counter)
    mismatches: int = 0
    mismatch_fields: Counter = field(default_factory=Counter)
    mismatch_examples: List[dict] = field(default_factory=list)
    caller_findings: int = 0
    caller_examples: List[dict] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    unmodelled: Counter = field(default_factory=Counter)  # pre-existing code the evaluator does not model
    under_fixed: int = 0
    bytes_delta: int = 0  # (new - old) * bytes, summed
    matmul_old_bytes: int = 0
    matmul_new_bytes: int = 0
    residuals: List[dict] = field(default_factory=list)
    residual_count: int = 0
    residual_under: int = 0
    max_trace: int = 0
    spec_stride: int = 1
    unreached_specs: int = 0  # specs added to this sampled path because no other path reached them
    ratios: List[float] = field(default_factory=list)
    changes: List[Tuple[int, dict]] = field(default_factory=list)
    under_examples: List[dict] = field(default_factory=list)
    tile_affected: int = 0
    tile_max: int = 0
    tile_invisible: int = 0
    sees_slice_padding: bool = True  # False: the site cannot see the slice's own (tile-rounded) padding

    def summary(self) -> dict:
        return {"path": self.label, "kind": self.kind, "entry": self.entry, "evaluated": self.evaluated,
                "matmul_contexts": self.matmul, "not_reached": sum(self.not_reached.values()),
                "not_reached_reasons": dict(self.not_reached.most_common(8)), "mismatches": self.mismatches,
                "mismatch_fields": dict(self.mismatch_fields), "mismatch_examples": self.mismatch_examples,
                "caller_findings": self.caller_findings, "caller_examples": self.caller_examples,
                "errors": sum(self.errors.values()), "error_reasons": dict(self.errors.most_common(5)),
                "unverified": sum(self.unmodelled.values()),
                "unverified_reasons": dict(self.unmodelled.most_common(3)),
                "under_allocations_fixed": self.under_fixed, "bytes_added": self.bytes_delta,
                "matmul_l1": {"old_bytes": self.matmul_old_bytes, "new_bytes": self.matmul_new_bytes,
                              "note": "no halo op runs for a matmul conv; only the auto-shard's L1 estimate changes"},
                "transposed_residuals": {"count": self.residual_count, "under_allocating": self.residual_under,
                                         "examples": self.residuals,
                                         "reason": ("the halo op conv_transpose2d runs is a transposed halo on the "
                                                    "real input; the auto-shard describes a regular conv over the "
                                                    "zero-inserted input") if self.kind == "transposed" else ""},
                "max_op_trace_length": self.max_trace, "spec_stride": self.spec_stride,
                "unreached_specs": self.unreached_specs}


@dataclass
class SitePathsResult:
    path: str
    line: int
    function: str
    site: Optional[TextSite] = None
    paths: List[PathResult] = field(default_factory=list)
    error: Optional[str] = None
    contexts: int = 0  # distinct (spec, layout, grid) evaluated on some path
    matmul_contexts: int = 0  # of those, 1x1 matmul convs (no halo op runs)
    folded_contexts: int = 0  # of those, convs the tree folds into a 1x1 matmul conv (see runtime_conv)
    values: Dict[tuple, Any] = field(default_factory=dict)  # (path, spec, layout, grid) -> evaluated config (record=True)

    def summary(self) -> dict:
        return {"file": self.path, "line": self.line, "function": self.function, "error": self.error,
                "contexts": self.contexts, "paths": [p.summary() for p in self.paths],
                "mismatches": sum(p.mismatches for p in self.paths),
                "errors": sum(sum(p.errors.values()) for p in self.paths),
                "calls_per_conv": max(Counter((p.entry, p.variant) for p in self.paths if p.evaluated).values(),
                                      default=0)}

    @property
    def failed(self) -> bool:
        return bool(self.error) or self.contexts == 0 or any(p.mismatches or p.errors for p in self.paths)


def _cfg(values: Dict[str, Any]) -> SlidingWindowConfig:
    kw = {}
    for f, v in values.items():
        if f in PAIR or f == "padding":
            if not isinstance(v, tuple) or len(v) != (4 if f == "padding" else 2):
                raise PathEvalError(f"{f}: expected a braced list, got {v!r}")
            v = tuple(int(x) & 0xFFFFFFFF for x in v)
        elif f == "core_range_set":
            v = _unwrap(v)
        elif f in ("snap_to_tile", "is_bilinear", "is_transpose", "ceil_mode", "is_avg_pool"):
            v = bool(v)
        else:
            if isinstance(v, bool) or not isinstance(v, int):
                raise PathEvalError(f"{f}: expected an integer, got {v!r}")
            v = int(v) & 0xFFFFFFFF
        kw[f] = v
    return SlidingWindowConfig(**kw)


def pr_tile_only(hw_diff, bp, truth) -> bool:
    return not hw_diff and bp.kind == "dram_slice" and bool(truth.tile_extra) and bp.constant_padding


def _same(call, shard, rt, rt_shard, bound) -> bool:
    if int(shard[1]) != int(rt_shard[1]) or call.input_hw != rt.input_hw or call.padding != rt.padding:
        return False
    if "core_range_set" in bound and call.core_range_set != rt.core_range_set:
        return False
    return all(getattr(call, f) == getattr(rt, f) for f in MATH_FIELDS)


def _precise_guarded(cfg, shard) -> Optional[int]:
    """The call-site value of a config that differs from the truth (None: the model cannot compute it)."""
    if _trace_len(cfg) > 20_000_000 or cfg.num_cores_nhw == 0 or cfg.num_cores_nhw > 100_000:
        return None
    try:
        return _precise(cfg, shard)
    except (ValueError, OverflowError, MemoryError, ZeroDivisionError, IndexError):
        return None


def _smaller(call, rt, tile_extra) -> bool:
    """The call's padded input is smaller, in some dimension, than what the halo op reads (less the
    tile-rounding right padding, which the auto-shard's caller cannot see)."""
    ch, cw = _padded(call)
    rh, rw = _padded(rt)
    return ch < rh or cw < rw - tile_extra


def _covers_last_slice(call, spec: pm.ConvSpec, bp: BoundPath) -> bool:
    """Older slice code (a slice count on the path) also sizes its smallest slice: a description
    that covers the last slice of the cut is the caller's own bound, not a wrong field; so is one of
    a smallest slice that never runs (fewer output tiles than slices)."""
    n = bp.variant.get("num_slices", 1)
    if n <= 1:
        return False
    try:
        last = first_slice(spec, _slice_type_of(bp, spec), n, index=n - 1)
    except pm.NotReached:
        return True
    return not _smaller(call, SimpleNamespace(input_hw=last["input_hw"], padding=last["padding"]), last["tile_extra"])


def _padded(c):
    p = c.padding
    return (c.input_hw[0] + p[0] + p[1], c.input_hw[1] + p[2] + p[3])


_PRECISE_CACHE: Dict[tuple, int] = {}


def _precise(cfg: SlidingWindowConfig, shard) -> int:
    key = (cfg, tuple(shard))
    v = _PRECISE_CACHE.get(key)
    if v is None:
        v = precise_halo_output_elems(cfg, tuple(shard))
        if len(_PRECISE_CACHE) > 200000:
            _PRECISE_CACHE.clear()
        _PRECISE_CACHE[key] = v
    return v


def plan_site(comp: Compiler, index: Index, site: TextSite, specs: Sequence[pm.ConvSpec], grids: Sequence[str],
               layouts: Sequence[str] = pm.LAYOUTS, variant_code: Optional[str] = None,
               record: bool = False, ranges: Optional[Dict[str, List[Tuple[int, int]]]] = None,
               budget: Optional[int] = None) -> Tuple[SitePathsResult, List["PathJob"]]:
    fdef = cpp.enclosing(site.call, "function_definition")
    res = SitePathsResult(site.path, site.line, cpp.last_name(cpp.function_name(fdef)), site)
    chains = enumerate_paths(index, site.src, site.call)
    if not chains:
        res.error = "no call path reaches this site"
        return res, []
    bound: List[BoundPath] = []
    folding = auto_folding(index)
    for chain in chains:
        path = CallPath(chain)
        variants = [{}]
        root_types = [p.type_text for p in cpp.parameters(chain[0].callee)] if chain[0].call is None else []
        if any("SliceType" in t for t in root_types):
            variants = [{"slice_type": "DRAM_HEIGHT"}, {"slice_type": "DRAM_WIDTH"}]
        elif any(_takes_slice_config(t) for t in root_types):
            # older conv2d_DRAM: the caller's slice config with num_slices 0; its search for a slice
            # count starts at 2, and the first slice of that cut is the halo op that runs first
            variants = [{"slice_type": "DRAM_HEIGHT", "num_slices": 2}, {"slice_type": "DRAM_WIDTH", "num_slices": 2}]
        for v in variants:
            bp = bind_path(comp, site, path, v)
            bp.auto_folding = folding
            if v:
                bp.label_suffix = f" [{v['slice_type']}]"
            bound.append(bp)
    probe = Ctx(specs[0], "HEIGHT", grids[0], entry_values(specs[0], grids[0], auto_folding=folding),
                auto_folding=folding) if specs else None
    for bp in bound:
        bp.static_layouts = list(layouts)
        if bp.layout_args and probe is not None:
            try:  # a layout passed as a constant (`get_l1_usage_for_sharding(HEIGHT_SHARDED, ...)`) fixes the path's layout
                fixed = {fn(probe) for fn in bp.layout_args}
                if len(fixed) == 1 and next(iter(fixed)) in layouts:
                    bp.static_layouts = [next(iter(fixed))]
                    bp.label_suffix += f" [{bp.static_layouts[0]}]"
            except PathEvalError:
                pass
    # With a budget, the first direct path (kind l1 / dram_slice) of each layout takes every spec;
    # the other paths share the rest of the budget: path j of them takes every k-th spec from
    # offset j % k, so together they cover the specs again.  They run after the direct paths and
    # also share out the specs those could not reach (conv2d_DRAM hands a matmul conv to the
    # matmul before slicing; the weight preparation still sizes its slices): see share_unreached.
    primary = set()
    for bp in bound:
        key = tuple(bp.static_layouts)
        if bp.kind in ("l1", "dram_slice") and not bp.error and key not in {k for k, _ in primary}:
            primary.add((key, id(bp)))
    primary_ids = {i for _, i in primary}
    full = sum(len(specs) * len(grids) * len(bp.static_layouts) for bp in bound if id(bp) in primary_ids)
    rest = sum(len(specs) * len(grids) * len(bp.static_layouts) for bp in bound if id(bp) not in primary_ids)
    room = max((budget or 0) - full, 1)
    stride = 1 if not budget or rest <= room else -(-rest // room)
    seen_groups: Counter = Counter()
    jobs: List[PathJob] = []
    for bp in bound:
        key = tuple(bp.static_layouts)
        if id(bp) in primary_ids or stride == 1:
            path_specs, this_stride = specs, 1
        else:
            offset = seen_groups[key] % stride
            seen_groups[key] += 1
            path_specs, this_stride = specs[offset::stride], stride
        pr = PathResult(bp.path.label() + bp.label_suffix, bp.kind, bp.path.entry, bp.variant.get("slice_type", ""))
        pr.sees_slice_padding = not (bp.approximate_slice or bp.constant_padding)
        res.paths.append(pr)
        if bp.error:
            if _in(bp.error_where, ranges or {}):
                pr.errors[bp.error] += 1
            else:
                pr.unmodelled[bp.error] += 1
            continue
        pr.spec_stride = this_stride
        jobs.append(PathJob(res, len(res.paths) - 1, bp, path_specs, grids, variant_code, record, ranges or {},
                            primary=id(bp) in primary_ids or this_stride == 1))
    return res, jobs


def share_unreached(jobs: Sequence["PathJob"], specs: Sequence[pm.ConvSpec], grids: Sequence[str],
                    seen: Dict[int, set]) -> None:
    """Give the not-yet-run (sampled) paths of each site the specs no path of it has reached so
    far: the j-th of k such paths takes every k-th of them, before its own sample.  Every context
    the code can execute at a site is then evaluated on some path."""
    by_site: Dict[int, List[PathJob]] = {}
    for j in jobs:
        by_site.setdefault(id(j.site), []).append(j)
    for site_id, site_jobs in by_site.items():
        reached = seen.get(site_id, set())
        layouts = sorted({lay for j in site_jobs for lay in j.bp.static_layouts})
        missing = [sp for sp in specs if any((sp, lay, g) not in reached for lay in layouts for g in grids)]
        if not missing:
            continue
        k = len(site_jobs)
        for i, job in enumerate(site_jobs):
            extra = missing[i::k]
            taken = set(extra)
            job.site.paths[job.slot].unreached_specs = len(taken - set(job.specs))
            job.specs = extra + [sp for sp in job.specs if sp not in taken]


@dataclass
class PathJob:
    """One call path of one site with the specs it evaluates: the unit of work, run in this process
    or in a forked worker (it returns its PathResult and the contexts it evaluated)."""

    site: SitePathsResult
    slot: int
    bp: BoundPath
    specs: Sequence[pm.ConvSpec]
    grids: Sequence[str]
    variant_code: Optional[str]
    record: bool
    ranges: Dict[str, List[Tuple[int, int]]]
    primary: bool = True  # takes every spec (runs first); otherwise a sample, run after the primaries

    def run(self):
        """(its PathResult, the contexts it evaluated by kind, the recorded values)."""
        bp, pr = self.bp, self.site.paths[self.slot]
        reached: Dict[str, set] = {k: set() for k in REACHED}
        values: Dict[tuple, Any] = {}
        transposed = bp.kind == "transposed"
        folded_before_root = bp.auto_folding and not folds_on_path(bp.path)
        for spec in self.specs:
            runs = runtime_conv(bp, spec)
            for grid in self.grids:
                entry = entry_values(runs if folded_before_root else spec, grid, transposed=transposed,
                                     auto_folding=bp.auto_folding, entry=bp.path.entry)
                if bp.kind in ("dram_slice", "nested"):
                    try:
                        entry = {**entry, "pc_output_hw": first_slice(runs, _slice_type_of(bp, runs),
                                                                      bp.variant.get("num_slices", 1))["output_hw"]}
                    except pm.NotReached:
                        pass
                for layout in bp.static_layouts:
                    ctx = Ctx(spec, layout, grid, entry, auto_folding=bp.auto_folding,
                              runs=runs if runs is not spec else None)
                    try:
                        if _evaluate_one(bp, ctx, pr, self.variant_code, values if self.record else None,
                                         self.ranges):
                            reached["all"].add((spec, layout, grid))
                            if runs.is_mm_conv():
                                reached["matmul"].add((spec, layout, grid))
                            if runs is not spec:
                                reached["folded"].add((spec, layout, grid))
                    except PathNotReached as exc:
                        pr.not_reached[str(exc)] += 1
        return pr, reached, values

    @property
    def size(self) -> int:
        return len(self.specs) * len(self.grids) * len(self.bp.static_layouts)


# the contexts a site reached, by kind: every one, matmul convs, convs the tree folds
REACHED = ("all", "matmul", "folded")

_FORKED_JOBS: List[PathJob] = []


def _run_forked(i: int):
    return i, _FORKED_JOBS[i].run()


def run_jobs(jobs: Sequence[PathJob], workers: int, reached: Optional[Dict[int, Dict[str, set]]] = None) -> None:
    """Run every path job and fold its results into its site (``reached``: the contexts each site
    reached in earlier runs, by kind, added to).  With ``workers`` > 1 (and fork available) the
    jobs are spread over forked processes, largest first: each child inherits the parsed sources
    and compiled closures, and only the results travel back."""
    global _FORKED_JOBS
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].size)
    outputs = {}
    pool = None
    if workers > 1 and len(jobs) > 1 and "fork" in multiprocessing.get_all_start_methods():
        try:
            _FORKED_JOBS = list(jobs)
            pool = multiprocessing.get_context("fork").Pool(min(workers, len(jobs)))
        except OSError:
            pool = None
    try:
        if pool is not None:
            for i, out in pool.imap_unordered(_run_forked, order):
                outputs[i] = out
        else:
            for i in order:
                outputs[i] = jobs[i].run()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        _FORKED_JOBS = []
    reached = {} if reached is None else reached
    for i, job in enumerate(jobs):
        pr, got, values = outputs[i]
        job.site.paths[job.slot] = pr
        site = reached.setdefault(id(job.site), {k: set() for k in REACHED})
        for k in REACHED:
            site[k].update(got[k])
        job.site.values.update(values)
    for job in jobs:
        site = reached[id(job.site)]
        job.site.contexts = len(site["all"])
        job.site.matmul_contexts = len(site["matmul"])
        job.site.folded_contexts = len(site["folded"])


def _slice_type_of(bp: BoundPath, spec: pm.ConvSpec) -> str:
    """The slice direction: the path's own (a root taking it as a parameter), else what
    ``conv2d_DRAM`` picks for the entry's input (``determine_conv_slice_type``, tiled output)."""
    return bp.variant.get("slice_type") or _slice_type(spec.input_height, spec.input_width, "TILE")


def _evaluate_one(bp: BoundPath, ctx: Ctx, pr: PathResult, variant_code, record=None, ranges=None) -> bool:
    spec = ctx.runs or ctx.spec  # the conv that runs: its halo is the truth
    for fn, want, text in bp.conditions:
        if fn is None:
            continue
        try:
            v = fn(ctx)
        except PathEvalError:
            continue  # a path condition we cannot evaluate lets the path through
        if isinstance(v, (bool, int)) and bool(v) != want:
            raise PathNotReached(f"`{' '.join(text.split())[:70]}` is {'false' if want else 'true'}")
    try:
        for fn in bp.layout_args:
            if fn(ctx) != ctx.layout:
                raise PathNotReached("another shard layout")
        if spec.is_1d_depthwise() and ctx.layout != "HEIGHT" and bp.kind != "transposed":
            pass  # decided by the code's own early return when it has one
        try:
            truth = truth_for(bp.kind, spec, ctx.layout, ctx.grid_name, _slice_type_of(bp, spec),
                              bp.variant.get("num_slices", 1))
        except pm.NotReached as exc:
            raise PathNotReached(str(exc)) from None
        values = {f: fn(ctx) for f, fn in bp.fields.items()}
        call = _cfg(values)
        shard = bp.shard(ctx)
        if not (isinstance(shard, tuple) and len(shard) == 2):
            raise PathEvalError(f"shard shape: expected two values, got {shard!r}")
        runtime_cfg = truth.config
        runtime = _precise(runtime_cfg, truth.shard)
        precise = runtime if _same(call, shard, runtime_cfg, truth.shard, bp.fields) else _precise_guarded(call, shard)
    except PathEvalError as exc:
        if _in(exc.where, ranges or {}):
            pr.errors[exc.message] += 1
        else:
            pr.unmodelled[exc.message] += 1
        return False
    except ValueError as exc:
        pr.not_reached[f"reference model raised: {str(exc).split(':')[0]}"] += 1
        return False
    pr.evaluated += 1
    if record is not None:
        record[(pr.label, ctx.spec, ctx.layout, ctx.grid_name)] = (call, tuple(shard))
    where = {"spec": ctx.spec.as_list(), "layout": ctx.layout, "grid": ctx.grid_name}
    if ctx.runs is not None:
        where["runs_folded"] = spec.as_list()
    diff = [f for f in MATH_FIELDS if f in bp.fields and getattr(call, f) != getattr(runtime_cfg, f)]
    hw_diff = _padded(call) != _padded(runtime_cfg)
    if hw_diff and bp.kind == "dram_slice" and truth.tile_extra and bp.constant_padding:
        # a slice site with no slice padding in scope (older revisions) cannot see the right padding a
        # tile-rounded output width adds; it is judged on what it can know and the gap is reported
        p4 = runtime_cfg.padding
        narrower = SlidingWindowConfig(**{**runtime_cfg.__dict__, "padding": (p4[0], p4[1], p4[2], p4[3] - truth.tile_extra)})
        if _padded(call) == _padded(narrower):
            hw_diff = False
            pr.tile_invisible += 1
    caller_fields = []
    if bp.kind == "nested":
        # the slice's own geometry is what the (pre-existing) caller describes: reported, not failed
        caller_fields = [f for f in ("num_cores_nhw",) if f in diff]
        diff = [f for f in diff if f not in caller_fields]
        if "core_range_set" in bp.fields and call.core_range_set != runtime_cfg.core_range_set:
            caller_fields.append("core_range_set")
    if bp.kind == "transposed" and tuple(call.stride_hw) == (spec.stride_h, spec.stride_w) \
            and tuple(call.padding) == tuple(spec.padding_n4) and set(diff) <= {"stride_hw"}:
        # conv_transpose2d describing itself with its own stride and padding (upstream #30446's choice,
        # already in the tree): the caller's description, reported with its residual, not failed
        caller_fields += diff + (["padding"] if hw_diff else [])
        diff, hw_diff = [], False
    if hw_diff:
        named = [f for f in ("input_hw", "padding") if getattr(call, f) != getattr(runtime_cfg, f)] or ["input_hw"]
        # a nested path's inputs are the slice caller's own description, whatever the site makes of them (its
        # binding is checked on the direct paths); an older slice site's only where it binds what it was handed
        if (bp.kind == "nested" or (bp.approximate_slice and set(named) <= bp.caller_described)) \
                and (not _smaller(call, runtime_cfg, truth.tile_extra) or _covers_last_slice(call, spec, bp)):
            caller_fields += named  # the caller describes more input than the slice has: pre-existing, reported
        else:
            diff += named
    if caller_fields:
        pr.caller_findings += 1
        if len(pr.caller_examples) < EXAMPLES:
            pr.caller_examples.append({**where, "fields": caller_fields, "call_site": precise, "runtime": runtime,
                                       "values": {f: [_show(getattr(call, f)), _show(getattr(runtime_cfg, f))]
                                                  for f in caller_fields}})
    if "core_range_set" in bp.fields and bp.kind != "nested" and call.core_range_set != runtime_cfg.core_range_set:
        diff.append("core_range_set")
    if int(shard[1]) != int(truth.shard[1]):
        diff.append("shard_shape")
    if precise != runtime and not diff and not caller_fields and not pr_tile_only(hw_diff, bp, truth):
        diff = ["value"]
    if diff:
        pr.mismatches += 1
        pr.mismatch_fields.update(diff)
        if len(pr.mismatch_examples) < EXAMPLES:
            pr.mismatch_examples.append({**where, "fields": diff, "call_site": precise, "runtime": runtime,
                                         "values": {f: [_show(getattr(call, f, shard)), _show(getattr(runtime_cfg, f, truth.shard))]
                                                    if f not in ("value", "shard_shape") else
                                                    ([list(shard), list(truth.shard)] if f == "shard_shape" else [precise, runtime])
                                                    for f in diff}})
    if truth.matmul:
        pr.matmul += 1
    if precise is None:
        return True
    if truth.transposed is not None:
        real_cfg, real_shard = truth.transposed
        try:
            real = _precise(real_cfg, real_shard)
        except ValueError:
            real = None
        if real is not None and real != precise:
            pr.residual_count += 1
            if real > precise:
                pr.residual_under += 1
            if len(pr.residuals) < EXAMPLES or (real > precise and len(pr.residuals) < 2 * EXAMPLES):
                pr.residuals.append({**where, "call_site": precise, "transposed_halo": real,
                                     "residual_elems": real - precise})
    pr.max_trace = max(pr.max_trace, _trace_len(call))
    if variant_code:
        # the old estimate with what the old call passed: the conv's input extents and its own padding
        r = spec
        hw = runtime_cfg.input_hw
        try:
            est = estimate_halo_output_elems(tuple(truth.shard), spec.batch_size, hw[0], hw[1],
                                             (r.kernel_height, r.kernel_width), (r.dilation_h, r.dilation_w),
                                             spec.padding_n4, variant=variant_code)
        except (ValueError, ZeroDivisionError, OverflowError):
            est = None
        if est is not None:
            if truth.matmul:
                pr.matmul_old_bytes += est * BYTES_PER_ELEM
                pr.matmul_new_bytes += precise * BYTES_PER_ELEM
            elif runtime > est:
                pr.under_fixed += 1
                if len(pr.under_examples) < EXAMPLES:
                    pr.under_examples.append({**where, "estimate": est, "runtime": runtime})
            pr.bytes_delta += (precise - est) * BYTES_PER_ELEM
            if est:
                pr.ratios.append(precise / est)
            delta = abs(est - precise)
            if delta and (len(pr.changes) < EXAMPLES or delta > pr.changes[-1][0]):
                pr.changes.append((delta, {**where, "estimate": est, "precise": precise,
                                           "delta_bytes": (precise - est) * BYTES_PER_ELEM}))
                pr.changes.sort(key=lambda x: -x[0])
                del pr.changes[EXAMPLES:]
    if truth.tile_extra and bp.kind == "dram_slice":
        p4 = runtime_cfg.padding
        narrower = SlidingWindowConfig(**{**runtime_cfg.__dict__, "padding": (p4[0], p4[1], p4[2], p4[3] - truth.tile_extra)})
        try:
            gap = runtime - _precise(narrower, truth.shard)
        except (ValueError, OverflowError):
            gap = 0
        if gap > 0:
            pr.tile_affected += 1
            pr.tile_max = max(pr.tile_max, gap)
    return True


def _show(v):
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, pm.CoreGrid):
        return f"{v.num_cores} cores ({v.size_x}x{v.size_y})"
    return v


def _trace_len(cfg: SlidingWindowConfig) -> int:
    """Length of the op trace the exact call builds: one entry per output stick (batch x out_h x out_w)."""
    try:
        h = (cfg.input_hw[0] + cfg.padding[0] + cfg.padding[1] - cfg.dilation_hw[0] * (cfg.window_hw[0] - 1) - 1) \
            // max(cfg.stride_hw[0], 1) + 1
        w = (cfg.input_hw[1] + cfg.padding[2] + cfg.padding[3] - cfg.dilation_hw[1] * (cfg.window_hw[1] - 1) - 1) \
            // max(cfg.stride_hw[1], 1) + 1
        return max(0, cfg.batch_size * h * w)
    except (TypeError, ZeroDivisionError):
        return 0


def check_sources(sources: Sequence[SourceFile], specs, grids, layouts=pm.LAYOUTS,
                  variant_code: Optional[str] = None, record: bool = False,
                  edited: Optional[Dict[str, List[Tuple[int, int]]]] = None,
                  budget: Optional[int] = None) -> List[SitePathsResult]:
    """``edited``: byte ranges of the migrated text the migration wrote, per file.  An expression
    that cannot be evaluated inside them (or inside a site's own bindings) is an error; one in
    pre-existing code leaves that path unverified (reported, never counted as evaluated)."""
    index = Index(sources)
    comp = Compiler(index)
    sites = read_sites(index.sources)
    ranges: Dict[str, List[Tuple[int, int]]] = {k: list(v) for k, v in (edited or {}).items()}
    for s in sites:
        decl_start = min([n.start_byte for n in s.bindings.values()] + [s.call.start_byte])
        ranges.setdefault(s.path, []).append((cpp.statement_of(_first_stmt(s, decl_start)).start_byte
                                              if _first_stmt(s, decl_start) is not None else decl_start,
                                              s.call.end_byte))
    planned = [plan_site(comp, index, s, specs, grids, layouts, variant_code, record, ranges, budget) for s in sites]
    jobs = [j for _, site_jobs in planned for j in site_jobs]
    n = 1 if record else workers()
    reached: Dict[int, Dict[str, set]] = {}
    run_jobs([j for j in jobs if j.primary], n, reached)
    sampled = [j for j in jobs if not j.primary]
    share_unreached(sampled, specs, grids, {site: r["all"] for site, r in reached.items()})
    run_jobs(sampled, n, reached)
    return [res for res, _ in planned]


def workers() -> int:
    """Processes for the path check: the CPUs this process may use (HALO_MIGRATE_JOBS overrides;
    1 runs everything here)."""
    env = os.environ.get("HALO_MIGRATE_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _first_stmt(site: TextSite, start: int):
    n = site.src.root.descendant_for_byte_range(start, start)
    return n


def edited_ranges(originals: Dict[str, bytes], edits: Dict[str, list]) -> Dict[str, List[Tuple[int, int]]]:
    """Where the plan's edits land in the new text: (start, end) per edit, per file."""
    out: Dict[str, List[Tuple[int, int]]] = {}
    for path, es in (edits or {}).items():
        shift = 0
        spans = []
        for start, end, data in sorted(es, key=lambda e: e[0]):
            n0 = start + shift
            spans.append((n0, n0 + len(data)))
            shift += len(data) - (end - start)
        out[path] = spans
    return out


def _in(where, ranges) -> bool:
    if where is None:
        return True
    path, a, b = where
    return any(s <= a and b <= e or (a <= s < b) for s, e in ranges.get(path, []))


def site_summary(res: SitePathsResult, total_contexts: int) -> dict:
    """One site, in verify's per-site JSON shape (the fields it always had, plus the per-path ones)."""
    import statistics

    site = res.site
    paths = res.paths
    primary = max(paths, key=lambda p: (p.kind in ("l1", "dram_slice"), p.evaluated), default=None)
    kinds = {p.kind for p in paths}
    skipped = Counter()
    for p in paths:
        skipped.update(p.not_reached)
    mism_fields = Counter()
    examples = []
    for p in paths:
        mism_fields.update(p.mismatch_fields)
        for m in p.mismatch_examples:
            if len(examples) < EXAMPLES:
                examples.append({**m, "path": p.label})
    ratios = primary.ratios if primary else []
    summary = {
        "file": res.path, "line": res.line, "function": res.function,
        "lambda": _lambda_name(site) if site else "",
        "kind": "dram_slice" if "dram_slice" in kinds else "l1",
        "config_name": site.config if site else "", "shard_shape": site.src.text(site.shard) if site else "",
        "slice_dims_include_padding": False,
        "bindings": {f: {"expr": " ".join(site.src.text(n).split()),
                         "provenance": f"read from the migrated code ({res.path})"} for f, n in site.bindings.items()}
        if site else {},
        "evaluated": res.contexts,
        "skipped": max(0, total_contexts - res.contexts),
        "skipped_reasons": dict(skipped.most_common(6)),
        "mismatches": sum(p.mismatches for p in paths),
        "mismatch_fields": dict(mism_fields),
        "mismatch_examples": examples,
        "under_allocations": primary.under_fixed if primary else 0,
        "under_allocation_examples": primary.under_examples if primary else [],
        "ratio": ({"min": round(min(ratios), 4), "median": round(statistics.median(ratios), 4),
                   "max": round(max(ratios), 4)} if ratios else {"min": None, "median": None, "max": None}),
        "l1_saved_bytes": -primary.bytes_delta if primary else 0,
        "biggest_changes": [d for _, d in primary.changes] if primary else [],
        "tile_rounding": {"affected": sum(p.tile_affected for p in paths if p.kind == "dram_slice"),
                          "max_extra_elems": max([p.tile_max for p in paths if p.kind == "dram_slice"], default=0),
                          "visible_to_site": any(p.kind == "dram_slice" and p.sees_slice_padding for p in paths)},
        "error": res.error or _first_error(paths),
    }
    rs = res.summary()
    summary.update({
        "contexts": res.contexts,
        "path_errors": rs["errors"],
        "unverified_paths": sum(1 for p in paths if p.unmodelled and not p.evaluated),
        "unverified_contexts": sum(sum(p.unmodelled.values()) for p in paths),
        "matmul_contexts": res.matmul_contexts,
        "folded_contexts": res.folded_contexts,
        "calls_per_conv": rs["calls_per_conv"],
        "max_op_trace_length": max((p.max_trace for p in paths), default=0),
        "under_allocations_fixed": sum(p.under_fixed for p in paths),
        "transposed_residuals": sum(p.residual_count for p in paths),
        "transposed_under_allocating": sum(p.residual_under for p in paths),
        "layout_choice": "not modelled: the auto-shard's pick also depends on the conv's circular-buffer sizes",
        "paths": [p.summary() for p in paths],
        "failed": res.failed,
    })
    return summary


def _first_error(paths) -> Optional[str]:
    for p in paths:
        if p.errors:
            return f"{p.label}: {next(iter(p.errors))}"
    return None


def _lambda_name(site: TextSite) -> str:
    lam = cpp.enclosing(site.call, "lambda_expression")
    return _lambda_var(lam, site.src) if lam is not None else ""


__all__ = ["site_summary","read_sites", "enumerate_paths", "check_sources", "SitePathsResult", "PathResult",
           "truth_for"]

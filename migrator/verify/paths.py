"""Independent truth along every call path: evaluate the migrated C++ from the public entry points.

For every call ``calculate_precise_halo_output_elems(X, shape)`` in the (migrated) text, the
``X.field = expr;`` statements before it are read back from the C++ (as a reviewer reads a hand
migration; nothing from the plan's role table is used).  Each expression is compiled, with the
engine's tree-sitter layer, into a Python closure whose names resolve by *data flow*:

- a local resolves to its initializer, then every assignment between its declaration and the use,
  in order (an ``if`` that assigns it is decided by evaluating its condition; a loop that contains
  the use is taken in its first iteration);
- a parameter of a lambda resolves to the argument of each call of that lambda in the enclosing
  function, evaluated there; captures resolve at the lambda's call;
- a parameter of a named function resolves to the argument each *caller* passes, evaluated in the
  caller's scope, through every hop, up to an entry function (``conv2d_L1``, ``conv2d_DRAM``,
  ``conv_transpose2d``, ``get_opt_block_config``, pool entries);
- an entry function's parameters take the values of the conv spec by their public API names.

So a call path is one chain of call expressions from an entry to the site; for each path and each
spec x layout x grid the bindings are evaluated with the values the callers really pass, and
compared with the config the halo op receives on that path, derived in Python from the entry's own
arguments (:mod:`migrator.verify.placement`, :mod:`migrator.reference`).

Deliberate limits (each one makes evaluation fail loudly, never pass silently): an expression form
or function the evaluator does not know raises :class:`PathEvalError`; a condition that decides an
assignment and cannot be evaluated raises too.  A call changes a variable only through a non-const
reference: a function of the tree with one definition is followed into its body (what it leaves
there on return), and so is a local lambda called as a statement of its own for what it assigns
through by-reference captures; a lambda, an overload set or a function defined elsewhere that takes
the variable that way, or a lambda assigning it through a by-reference capture anywhere else, makes
the read fail.  So does every other way a statement may change it (``Compiler._escapes``): its
address taken, a non-const reference bound to it, a method that changes it, a standard algorithm or a
macro that assigns its argument, an assignment inside another declaration; and a name declared under
``#if``/``#ifdef``.  A call of any other function the sources do not declare is assumed not to
change its arguments.  A condition on the
*path* (an early ``return`` before the call, or an ``if`` around it) that cannot be evaluated is
assumed to let the path through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from migrator.engine import cpp, dataflow
from migrator.engine.scope import scope_at
from migrator.engine.source import SourceFile
from migrator.errors import UnresolvedBinding
from migrator.verify import exits
from migrator.verify import placement as pm

U32 = 0xFFFFFFFF
PRECISE = "calculate_precise_halo_output_elems"
AUTO_SHARD = "determine_conv_config_for_auto_shard"

ENTRIES = ("conv2d_L1", "conv2d_DRAM", "conv_transpose2d", "get_opt_block_config", "prepare_conv_weights",
           "prepare_conv_bias", "pool2d", "pool2d_invoke")
MAX_DEPTH = 8

Fn = Callable[["Ctx"], Any]
UNSET = object()


class PathEvalError(UnresolvedBinding):
    """An expression on a path that cannot be evaluated (never counts as 'no mismatch').
    ``where`` is (file, start byte, end byte) of the innermost expression that failed."""

    where: Optional[Tuple[str, int, int]] = None


class PathNotReached(Exception):
    """This context does not reach the site along this path (a condition on the path is false)."""


# ---- model values ---------------------------------------------------------------------------------


class Opt:
    """std::optional."""

    def __init__(self, v=None):
        self.v = v

    def has_value(self):
        return self.v is not None

    def value(self):
        if self.v is None:
            raise PathEvalError("value() of an empty optional")
        return self.v

    def value_or(self, d):
        return self.v if self.v is not None else d

    def __eq__(self, other):
        return isinstance(other, Opt) and other.v == self.v

    __hash__ = None


class Obj:
    """A modelled object: attributes, plus methods given as callables."""

    def __init__(self, kind: str, **attrs):
        self.kind = kind
        self.__dict__.update(attrs)

    def __repr__(self):
        return f"{self.kind}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items() if k != 'kind')})"


def conv2d_config(auto_folding: bool = False) -> Obj:
    """A default-constructed Conv2dConfig.  Where the tree decides folding itself
    (``auto_enable_kernel_folding``), ``enable_kernel_stride_folding`` is a ``std::optional<bool>``
    left unset; before that it is a plain ``false``."""
    return Obj("Conv2dConfig", shard_layout=Opt(), transpose_shards=False, act_block_h_override=0,
               output_layout="TILE", in_place=False,
               enable_kernel_stride_folding=Opt() if auto_folding else False, weights_dtype=Opt(),
               enable_act_double_buffer=False, enable_weights_double_buffer=False, reshard_if_not_optimal=False,
               override_sharding_config=False, core_grid=Opt(), deallocate_activation=False)


def _memory_config_methods(mc: pm.MemoryConfig) -> Obj:
    return Obj("MemoryConfig", shard_spec=lambda: Opt(_shard_spec(mc.spec)),
               memory_layout=lambda: mc.memory_layout, is_sharded=lambda: True, buffer_type=lambda: "L1",
               is_l1=lambda: True, is_dram=lambda: False, model=mc)


def _interleaved(buffer_type: str) -> Obj:
    return Obj("MemoryConfig", is_sharded=lambda: False, memory_layout=lambda: "INTERLEAVED",
               shard_spec=lambda: Opt(), buffer_type=lambda: buffer_type, is_l1=lambda: buffer_type == "L1",
               is_dram=lambda: buffer_type == "DRAM")


def _shard_spec(s: pm.ShardSpec) -> Obj:
    return Obj("ShardSpec", grid=_grid(s.grid), shape=tuple(s.shape), orientation=s.orientation)


def _grid(g: pm.CoreGrid) -> Obj:
    return Obj("CoreRangeSet", num_cores=lambda: g.num_cores, model=g,
               bounding_box=lambda: Obj("CoreRange", grid_size=lambda: Obj("CoreCoord", x=g.size_x, y=g.size_y)))


def _unwrap(v):
    """Model object (pm.*) behind an evaluator value."""
    if isinstance(v, Obj) and hasattr(v, "model"):
        return v.model
    if isinstance(v, Obj) and v.kind == "ParallelConfig":
        return pm.ParallelConfig(_unwrap(v.grid), v.shard_scheme, v.shard_orientation)
    if isinstance(v, dict) and {"grid", "shard_scheme"} <= set(v):
        return pm.ParallelConfig(_unwrap(v["grid"]), v["shard_scheme"], v.get("shard_orientation", "ROW_MAJOR"))
    return v


def _pc(v) -> pm.ParallelConfig:
    v = _unwrap(v)
    if not isinstance(v, pm.ParallelConfig):
        raise PathEvalError(f"expected a ParallelConfig, got {v!r}")
    return v


def _wrap_pc(pc: pm.ParallelConfig) -> Obj:
    return Obj("ParallelConfig", grid=_grid(pc.grid), shard_scheme=pc.shard_scheme,
               shard_orientation=pc.shard_orientation, model=pc)


CONSTANTS = {
    "HEIGHT_SHARDED": "HEIGHT", "BLOCK_SHARDED": "BLOCK", "WIDTH_SHARDED": "WIDTH", "INTERLEAVED": "INTERLEAVED",
    "ROW_MAJOR": "ROW_MAJOR", "COL_MAJOR": "COL_MAJOR", "TILE": "TILE", "TILE_HEIGHT": 32, "TILE_WIDTH": 32,
    "TILE_HW": 1024, "DRAM_HEIGHT": "DRAM_HEIGHT", "DRAM_WIDTH": "DRAM_WIDTH", "L1_SMALL": "L1_SMALL",
    "BFLOAT16": "BFLOAT16", "BFLOAT8_B": "BFLOAT8_B", "FLOAT32": "FLOAT32", "nullopt": Opt(), "L1": "L1",
    "DRAM": "DRAM", "ROW_MAJOR_LAYOUT": "ROW_MAJOR", "TILE_LAYOUT": "TILE",
    "DRAM_MEMORY_CONFIG": _interleaved("DRAM"),
    "L1_MEMORY_CONFIG": _interleaved("L1"),
}


# ---- the context of one evaluation ---------------------------------------------------------------------


@dataclass
class Ctx:
    spec: pm.ConvSpec
    layout: str
    grid_name: str
    entry: Dict[str, Any] = field(default_factory=dict)  # entry parameter name -> value
    cache: Dict[int, Any] = field(default_factory=dict)  # memo: values
    failed: Dict[int, "PathEvalError"] = field(default_factory=dict)  # memo: failures
    auto_folding: bool = False  # the tree folds stride == kernel convs itself (auto_enable_kernel_folding)
    runs: Optional[pm.ConvSpec] = None  # the conv that really runs (``spec`` folded), if not ``spec``

    @property
    def grid(self) -> Tuple[int, int]:
        return pm.GRIDS[self.grid_name]


def entry_values(spec: pm.ConvSpec, grid_name: str, transposed: bool = False,
                 auto_folding: bool = False, entry: str = "") -> Dict[str, Any]:
    """What an entry function's parameters hold for one conv spec, by their public API names.  The
    input is a host or DRAM-interleaved tensor, as the sweeps pass it."""
    gx, gy = pm.GRIDS[grid_name]
    dram = _interleaved("DRAM")
    tensor = Obj("Tensor", is_sharded=lambda: False, layout=lambda: "ROW_MAJOR", dtype=lambda: "BFLOAT16",
                 memory_config=lambda: dram,
                 logical_shape=lambda: (spec.output_channels, spec.input_channels // max(spec.groups, 1),
                                        spec.kernel_height, spec.kernel_width))
    device = Obj("MeshDevice", compute_with_storage_grid_size=lambda: Obj("CoreCoord", x=gx, y=gy),
                 l1_size_per_core=lambda: 1464 * 1024)
    pad2 = (spec.pad_h, spec.pad_w)
    vals = {
        "batch_size": spec.batch_size, "in_channels": spec.input_channels, "out_channels": spec.output_channels,
        "input_height": spec.input_height, "input_width": spec.input_width,
        "kernel_size": (spec.kernel_height, spec.kernel_width), "stride": (spec.stride_h, spec.stride_w),
        "padding": pad2, "padding_n4": spec.padding_n4, "dilation": (spec.dilation_h, spec.dilation_w),
        "groups": spec.groups, "output_padding": (0, 0),
        "bias_tensor": Opt(Obj("Tensor") if spec.bias else None), "has_bias": bool(spec.bias),
        "enable_bias": bool(spec.bias), "device": device, "input_tensor": tensor, "input_tensor_": tensor,
        "weight_tensor": tensor, "weight_tensor_": tensor, "conv_config_": Opt(), "conv_config": conv2d_config(auto_folding), "compute_config_": Opt(),
        "compute_config": Obj("DeviceComputeKernelConfig"), "memory_config": Opt(), "memory_config_": Opt(),
        "dram_slice_config_": Opt(), "dtype": Opt(), "output_dtype": Opt(), "slice_config_": Opt(), "input_layout": "ROW_MAJOR", "input_datatype": "BFLOAT16", "input_dtype": "BFLOAT16",
        "output_datatype": "BFLOAT16", "input_memory_config": tensor.memory_config(),
        "mm_conv": spec.is_mm_conv(), "is_mm_conv": spec.is_mm_conv(), "compute_grid_size": Obj("CoreCoord", x=gx, y=gy),
        "queue_id": 0,  # older revisions (45ecf0a728 ... f843883541) take the command queue first
    }
    out_h, out_w = _regular_output_hw(spec)
    if transposed:
        out_h, out_w = transposed_output_hw(spec)
    vals.update(output_height=out_h, output_width=out_w)
    if entry == "prepare_conv_bias":
        # its contract: the caller's conv config names the weights dtype (a TT_ASSERT)
        cfg = conv2d_config(auto_folding)
        cfg.weights_dtype = Opt("BFLOAT16")
        vals["conv_config_"] = Opt(cfg)
    return vals


def _regular_output_hw(spec: pm.ConvSpec) -> Tuple[int, int]:
    try:
        return spec.output_hw()
    except pm.NotReached:
        return (0, 0)


def transposed_output_hw(spec: pm.ConvSpec) -> Tuple[int, int]:
    h = (spec.input_height - 1) * spec.stride_h - 2 * spec.pad_h + spec.dilation_h * (spec.kernel_height - 1) + 1
    w = (spec.input_width - 1) * spec.stride_w - 2 * spec.pad_w + spec.dilation_w * (spec.kernel_width - 1) + 1
    return h, w


# ---- builtins: modelled tt-metal helpers, arguments taken by the callee's declared parameter names ----


def _arg(named: Dict[str, Any], *names, default=KeyError):
    for n in names:
        if n in named:
            return named[n]
    if default is KeyError:
        raise PathEvalError(f"missing argument {names[0]}")
    return default


_PC_CACHE: Dict[tuple, Any] = {}


def _b_determine_parallel_config(ctx, named, pos):
    key = (named.get("shard_layout"), named.get("batch_size"), named.get("input_channels", named.get("in_channels")),
           named.get("output_height"), named.get("output_width"), ctx.grid)
    hit = _PC_CACHE.get(key)
    if hit is None:
        hit = _PC_CACHE[key] = _determine_parallel_config(ctx, named, pos)
    return hit


def _determine_parallel_config(ctx, named, pos):
    layout = _arg(named, "shard_layout")
    batch = _arg(named, "batch_size")
    in_ch = _arg(named, "input_channels", "in_channels")
    out_h = _arg(named, "output_height")
    out_w = _arg(named, "output_width")
    alignment = pm.input_channels_alignment(layout, "ROW_MAJOR", sliced_op=False)
    return _wrap_pc(pm.determine_parallel_config(layout, batch, in_ch, out_h, out_w, alignment, ctx.grid))


def _b_determine_output_parallel_config(ctx, named, pos):
    pc = _pc(pos[0])
    is_mm = bool(_arg(named, "is_mm_conv", default=False))
    if pc.shard_scheme != "WIDTH" or is_mm:
        return _wrap_pc(pc)
    out_ch = _arg(named, "out_channels", "output_channels")
    gx, gy = ctx.grid
    n = pm._largest_divisor_with_padding(pm._div_up(out_ch, pm.TILE), gx * gy)
    return _wrap_pc(pm.ParallelConfig(pm.CoreGrid.row_wise(n, ctx.grid), "WIDTH", pc.shard_orientation))


def _b_determine_input_memory_config(ctx, named, pos):
    if "shard_layout" not in named and isinstance(named.get("conv_config"), Obj):
        # older revisions (45ecf0a728 ... f843883541) pass the conv config and read its shard layout
        layout = _member(named["conv_config"], "shard_layout", "conv_config.shard_layout").value()
    else:
        layout = _arg(named, "shard_layout")
    batch = _arg(named, "batch_size")
    if "input_height" in named:
        h, w, ch = named["input_height"], named["input_width"], _arg(named, "input_channels", "in_channels")
    else:
        shape = _arg(named, "input_tensor_shape")
        h, w, ch = shape[1], shape[2], shape[3]
    pc_opt = named.get("input_tensor_parallel_config")
    pc_v = pc_opt.v if isinstance(pc_opt, Opt) else pc_opt
    if pc_v is not None:
        pc = _pc(pc_v)
    else:
        pc = ctx_parallel_config(ctx, layout)
    alignment = pm.input_channels_alignment(layout, "ROW_MAJOR", sliced_op=False)
    mc = pm.determine_input_memory_config(pc, batch, h, w, ch, alignment, "ROW_MAJOR")
    return (None, _memory_config_methods(mc))


def ctx_parallel_config(ctx: Ctx, layout: str) -> pm.ParallelConfig:
    """The input parallel config the conv of this context uses for ``layout`` (the placement model)."""
    key = ("pc", layout)
    if key not in ctx.cache:
        out_h, out_w = ctx.entry.get("pc_output_hw") or (ctx.entry["output_height"], ctx.entry["output_width"])
        s = ctx.runs or ctx.spec
        alignment = pm.input_channels_alignment(layout, "ROW_MAJOR", sliced_op=False)
        ctx.cache[key] = pm.determine_parallel_config(layout, s.batch_size, s.input_channels, out_h, out_w,
                                                      alignment, ctx.grid)
    return ctx.cache[key]


def _slice_type(h, w, output_layout):
    """``determine_conv_slice_type`` (7136cb56bb): rows for tall inputs, columns for wide ones."""
    if output_layout == "ROW_MAJOR":
        return "DRAM_HEIGHT" if h > w * 3.0 else "DRAM_WIDTH"
    if w < 200:
        return "DRAM_HEIGHT"
    return "DRAM_HEIGHT" if h > w else "DRAM_WIDTH"


def _b_slice_config(ctx, pos):
    """``determine_conv2d_slice_config`` (7136cb56bb): the slice config of the context (its first
    candidate: one slice), and the conv config the auto-shard picks for it."""
    given = next((p for p in pos if isinstance(p, Opt)), Opt())
    params = next((p for p in pos if isinstance(p, dict)), None)
    if given.has_value():
        cfg = given.value()
        slice_type = cfg.get("slice_type") if isinstance(cfg, dict) else getattr(cfg, "slice_type", None)
    elif params is not None:
        slice_type = _slice_type(params["input_height"], params["input_width"], "TILE")
    else:
        raise PathEvalError("determine_conv2d_slice_config: no parameters")
    return ({"slice_type": slice_type, "num_slices": 1}, _b_auto_shard(ctx, {}, []))


def _b_auto_shard(ctx, named, pos):
    cfg = conv2d_config(ctx.auto_folding)
    cfg.shard_layout = Opt(ctx.layout)
    return cfg


def _b_pair_n4(ctx, named, pos):
    p = pos[0]
    if isinstance(p, tuple) and len(p) == 2:
        return (p[0], p[0], p[1], p[1])
    if isinstance(p, tuple) and len(p) == 4:
        return p
    raise PathEvalError(f"get_pair_n4_padding of {p!r}")


def _b_output_image_size(ctx, named, pos):
    (h, w), k, s, p, d = pos[0], pos[1], pos[2], pos[3], pos[4]
    if len(p) == 2:
        p = (p[0], p[0], p[1], p[1])
    oh = (h + p[0] + p[1] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + p[2] + p[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    return (oh, ow)


def _b_alignment(ctx, named, pos):
    return pm.input_channels_alignment(pos[0], "ROW_MAJOR", sliced_op=False)


def _num(v):
    if type(v) is int:  # the common case first (a bool is not an integer here)
        return v
    if isinstance(v, bool) or not isinstance(v, int):
        raise PathEvalError(f"expected an integer, got {v!r}")
    return v


def _with(obj, fld: str, value):
    """A copy of a modelled struct with one member set (C++ value semantics: the original is kept)."""
    if isinstance(obj, dict):
        out = dict(obj.items())
        out[fld] = value
        return out
    if isinstance(obj, Obj):
        new = Obj.__new__(Obj)
        new.__dict__.update(obj.__dict__)
        setattr(new, fld, _as_opt_if(getattr(obj, fld, None), value))
        return new
    raise PathEvalError(f"cannot set `{fld}` of {obj!r}")


BUILTINS: Dict[str, Callable] = {
    "determine_parallel_config": _b_determine_parallel_config,
    "determine_output_parallel_config": _b_determine_output_parallel_config,
    "determine_input_memory_config": _b_determine_input_memory_config,
    AUTO_SHARD: _b_auto_shard,
    "get_pair_n4_padding": _b_pair_n4,
    # older revisions move a host tensor to the device before sizing it: the geometry is unchanged
    "to_device": lambda c, n, p: p[0],
    "calculate_output_image_size": _b_output_image_size,
    "get_input_channels_alignment": _b_alignment,
    "get_num_cores_nhw_from_parallel_config": lambda c, n, p: pm.get_num_cores_nhw_from_parallel_config(_pc(p[0])),
    "get_num_cores_channels_from_parallel_config":
        lambda c, n, p: pm.get_num_cores_channels_from_parallel_config(_pc(p[0])),
    "max": lambda c, n, p: max(p[0]) if len(p) == 1 else max(_num(x) for x in p),
    "min": lambda c, n, p: min(p[0]) if len(p) == 1 else min(_num(x) for x in p),
    "clamp": lambda c, n, p: min(max(_num(p[0]), _num(p[1])), _num(p[2])),
    "div_up": lambda c, n, p: -(-_num(p[0]) // _num(p[1])),
    "round_up": lambda c, n, p: -(-_num(p[0]) // _num(p[1])) * _num(p[1]),
    "Conv2dConfig": lambda c, n, p: conv2d_config(c.auto_folding),
    "make_optional": lambda c, n, p: Opt(p[0]),
    "init_device_compute_kernel_config": lambda c, n, p: Obj("DeviceComputeKernelConfig"),
    # the folded tensor is never read for geometry; what folding does to the caller's geometry is
    # the function's by-reference writes, evaluated from its own body (Compiler._byref_write)
    "fold_input_tensor_if_required": lambda c, n, p: p[0],
    "determine_conv_slice_type": lambda c, n, p: _slice_type(*p[:3]),
    "is_device_tensor": lambda c, n, p: True,
    "determine_conv2d_slice_config": lambda c, n, p: _b_slice_config(c, p),
    "get_conv_default_compute_kernel_config": lambda c, n, p: Obj("DeviceComputeKernelConfig"),
    "Shape": lambda c, n, p: tuple(p[0]) if len(p) == 1 and isinstance(p[0], tuple) else tuple(p),
    "array": lambda c, n, p: tuple(p),
}

# builtins whose C++ parameter names are needed (taken from the tree's declaration of that name)
NAMED_BUILTINS = {"determine_parallel_config", "determine_output_parallel_config", "determine_input_memory_config",
                  AUTO_SHARD}


# ---- code index -----------------------------------------------------------------------------------


class Index:
    """Parsed (migrated) sources and the function definitions in them."""

    def __init__(self, sources: Sequence[SourceFile]):
        self.sources = list(sources)
        self.defs: Dict[str, List[Tuple[SourceFile, Any]]] = {}
        self.decl_params: Dict[str, List[str]] = {}
        # argument positions some declaration of the name takes by non-const reference
        self.declared_outs: Dict[str, set] = {}
        # function-like macros of the files read: name -> whether the body assigns a parameter
        self.macros: Dict[str, bool] = {}
        for src in self.sources:
            for n in cpp.walk(src.root):
                if n.type == "preproc_function_def":
                    params, value = n.child_by_field_name("parameters"), n.child_by_field_name("value")
                    names = [src.text(c) for c in params.named_children] if params is not None else []
                    body = src.text(value) if value is not None else ""
                    self.macros[src.text(n.child_by_field_name("name"))] = any(_macro_assigns(body, p) for p in names)
                elif n.type == "function_definition":
                    name = cpp.last_name(cpp.function_name(n))
                    if name:
                        self.defs.setdefault(name, []).append((src, n))
                        self.decl_params.setdefault(name, [p.name for p in cpp.parameters(n)])
                elif n.type == "declaration" and n.child_by_field_name("declarator") is not None \
                        and n.child_by_field_name("declarator").type == "function_declarator":
                    name = cpp.last_name(cpp.function_name(n))
                    if name and name not in self.decl_params:
                        self.decl_params[name] = [p.name for p in cpp.parameters(n)]
                    if name:
                        self.declared_outs.setdefault(name, set()).update(
                            i for i, p in enumerate(cpp.parameters(n)) if _out_param(p.type_text))
        self._calls: Dict[str, List[Tuple[SourceFile, Any]]] = {}

    def calls_of(self, name: str) -> List[Tuple[SourceFile, Any]]:
        if name not in self._calls:
            out = []
            for src in self.sources:
                if name.encode() not in src.data:
                    continue
                for n in cpp.walk(src.root):
                    if n.type == "call_expression" and cpp.call_name(n) == name:
                        out.append((src, n))
            self._calls[name] = out
        return self._calls[name]


def _macro_assigns(body: str, param: str) -> bool:
    """A macro body assigns its parameter: `(v) = ...`, `v += ...`, `++v`, `(v)--` (not `v == ...`)."""
    p = re.escape(param)
    assignment = r"(?<![\w.])\(?\s*" + p + r"\s*\)?\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)"
    increment = r"(\+\+|--)\s*\(?\s*" + p + r"\b|\b" + p + r"\s*\)?\s*(\+\+|--)"
    return bool(re.search(assignment, body) or re.search(increment, body))


# ---- frames and compilation ------------------------------------------------------------------------


@dataclass
class Frame:
    src: SourceFile
    func: Any  # function_definition or lambda_expression
    params: Dict[str, Fn]
    parent: Optional["Frame"] = None  # lambda: the enclosing function's frame
    call_point: Any = None  # lambda: the call of it in the parent
    label: str = ""
    index: Optional[Index] = None


def _text(src: SourceFile, node) -> str:
    return src.text(node)


def _stmt_in(block, node):
    """The direct child statement of ``block`` that contains ``node``."""
    n = node
    while n is not None and n.parent is not None and n.parent.id != block.id:
        n = n.parent
    return n if n is not None and n.parent is not None and n.parent.id == block.id else None


def _declares(stmt, name: str, src: SourceFile):
    """(declarator node, value node or None, type text) if ``stmt`` declares ``name``."""
    if stmt.type not in ("declaration", "condition_clause"):
        return None
    type_node = stmt.child_by_field_name("type")
    type_text = _text(src, type_node) if type_node is not None else ""
    for d in stmt.children_by_field_name("declarator"):
        if d.type == "init_declarator" and d.child_by_field_name("declarator") is not None and \
                d.child_by_field_name("declarator").type == "structured_binding_declarator":
            d = d.child_by_field_name("declarator")
        if d.type == "init_declarator":
            nm = cpp.declarator_name(d.child_by_field_name("declarator"))
            if nm is not None and _text(src, nm) == name:
                return d, d.child_by_field_name("value"), type_text
        elif d.type == "structured_binding_declarator":
            for c in d.named_children:
                if c.type == "identifier" and _text(src, c) == name:
                    return d, None, "structured binding"
        else:
            nm = cpp.declarator_name(d)
            if nm is not None and _text(src, nm) == name:
                return d, None, type_text
    return None


def _is_unsigned(type_text: str) -> bool:
    return bool(re.search(r"\b(uint32_t|uint16_t|unsigned|size_t|uint8_t)\b", type_text)) and "array" not in type_text


_ASSIGN_OPS = {"=": None, "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
               "/=": lambda a, b: a // b, "%=": lambda a, b: a % b}


class Compiler:
    def __init__(self, index: Index):
        self.index = index
        self._compiled: Dict[tuple, Fn] = {}
        self._frames: List[Frame] = []  # kept alive: compiled closures are keyed by frame identity
        self._written: Dict[tuple, set] = {}
        self._byref: Dict[tuple, list] = {}
        self._unfollowed: Dict[tuple, Dict[str, str]] = {}
        self._captures: Dict[tuple, list] = {}
        self._direct: Dict[tuple, set] = {}
        self._inlining: set = set()  # functions being inlined (a recursive call is not)
        self._param_cache: Dict[tuple, list] = {}
        self._decl_cache: Dict[tuple, dict] = {}
        self._chains: Dict[tuple, Dict[tuple, Fn]] = {}  # a variable's value after each prefix of its writes
        self._stmt_cache: Dict[tuple, Optional[Callable]] = {}

    def frame(self, *args, **kw) -> Frame:
        f = Frame(*args, index=self.index, **kw)
        self._frames.append(f)
        return f

    # -- names --
    def _params(self, src: SourceFile, func):
        key = (src.path, func.id)
        ps = self._param_cache.get(key)
        if ps is None:
            ps = self._param_cache[key] = cpp.parameters(func)
        return ps

    def _decls(self, src: SourceFile, block):
        """name -> [(statement, declaration info)] for the direct statements of ``block``, in order."""
        key = (src.path, block.id)
        d = self._decl_cache.get(key)
        if d is None:
            d = {}
            stmts = []
            for s in block.named_children:  # a declaration under a `case` label is in the switch body's scope
                stmts.extend(s.named_children if s.type == "case_statement" and block.type != "case_statement" else [s])
            for s in stmts:
                if s.type not in ("declaration", "condition_clause"):
                    continue
                for dn in s.children_by_field_name("declarator"):
                    names = []
                    if dn.type == "init_declarator" and dn.child_by_field_name("declarator") is not None and \
                            dn.child_by_field_name("declarator").type == "structured_binding_declarator":
                        dn = dn.child_by_field_name("declarator")
                    if dn.type == "structured_binding_declarator":
                        names = [src.text(c) for c in dn.named_children if c.type == "identifier"]
                    else:
                        inner = dn.child_by_field_name("declarator") if dn.type == "init_declarator" else dn
                        nm = cpp.declarator_name(inner)
                        if nm is not None:
                            names = [src.text(nm)]
                    for n in names:
                        d.setdefault(n, []).append(s)
            self._decl_cache[key] = d
        return d

    def _conditionally_declared(self, src: SourceFile, block, name: str, at) -> Optional[str]:
        """The directive line of an ``#if``/``#ifdef`` group among ``block``'s statements before ``at``
        that declares ``name`` (the tree-sitter layer reads every branch; the compiler keeps one)."""
        for s in block.named_children:
            if s.start_byte >= at.start_byte:
                break
            if not s.type.startswith("preproc_if"):
                continue
            for n in cpp.walk(s):
                if n.type == "declaration" and _declares(n, name, src) is not None:
                    return src.text(s).splitlines()[0].strip()
        return None

    # -- names --
    def ident(self, name: str, at, frame: Frame) -> Fn:
        src = frame.src
        node = at
        body = frame.func
        while node is not None and node.id != body.id:
            parent = node.parent
            if parent is None:
                break
            if parent.type in ("compound_statement", "case_statement", "for_statement", "for_range_loop",
                               "if_statement", "while_statement", "translation_unit"):
                conditional = self._conditionally_declared(src, parent, name, node)
                if conditional is not None:
                    raise PathEvalError(f"`{name}`: declared under `{conditional}`, so which `{name}` is read here "
                                        "depends on the build")
                stmts = self._decls(src, parent).get(name)
                if stmts:
                    here = _stmt_in(parent, node)
                    before = [s for s in stmts if here is None or s.start_byte < here.start_byte]
                    if before:
                        s = before[-1]
                        if s.parent.id != parent.id:
                            # declared under an earlier `case` label of this switch: which of its
                            # writes ran depends on the label jumped to
                            raise PathEvalError(f"`{name}`: declared under an earlier case label, not modelled")
                        found = _declares(s, name, src)
                        if found is not None:
                            return self._local(name, s, found, at, frame)
            node = parent
        # parameters of this function / lambda
        for p in self._params(frame.src, frame.func):
            if p.name == name:
                if name not in frame.params:
                    raise PathEvalError(f"`{name}`: parameter of {frame.label} with no value on this path")
                # a by-value parameter assigned in the body before the use (older conv2d_DRAM sets
                # `dram_slice_config.num_slices` in its slice-count loop)
                return self._after_writes(name, frame.params[name], at, frame)
        if frame.parent is not None and frame.func.type == "lambda_expression":
            # a capture: its value at the lambda's call, then what the lambda's body assigns before the use
            return self._after_writes(name, self.ident(name, frame.call_point, frame.parent), at, frame)
        last = name.split("::")[-1]
        if last in CONSTANTS:
            v = CONSTANTS[last]
            return lambda ctx: v
        raise PathEvalError(f"`{name}`: not declared on the path ({frame.label})")

    def _after_writes(self, name: str, value: Fn, at, frame: Frame) -> Fn:
        """``value`` (on entry to ``frame``'s function) as the body's assignments before ``at`` leave it."""
        body_node = frame.func.child_by_field_name("body")
        writes = self._writes_in(name, body_node, None, at, frame) if body_node is not None else []
        if not writes:
            return value
        return self._written_value((id(frame), name, "on entry"), value, writes)

    def _written_value(self, key, start: Fn, writes: List[Tuple[int, Callable]]) -> Fn:
        """``start`` with ``writes`` (statement id, transformer) applied in order.  Two reads of one
        variable see the same writes up to the earlier read, so the value after that common prefix
        is one node, computed once per context: a struct written a dozen times and read at every
        step (``conv_config``) costs each write once, not once per read."""
        known = self._chains.setdefault(key, {(): start})
        ids = tuple(i for i, _ in writes)
        node = known.get(ids)
        if node is not None:
            return node
        j = len(ids) - 1
        while ids[:j] not in known:
            j -= 1
        prev, rest = known[ids[:j]], [w for _, w in writes[j:]]

        def assigned(ctx):
            v = prev(ctx)
            for w in rest:
                v = w(ctx, v)
            return v
        node = known[ids] = memo(assigned)
        return node

    def _local(self, name, decl_stmt, found, at, frame: Frame) -> Fn:
        key = (id(frame), name, decl_stmt.id)
        start = self._chains[key][()] if key in self._chains else memo(self._initial(name, decl_stmt, found, frame))
        written = self._written_value(key, start, self._writes_between(name, decl_stmt, at, frame))
        unsigned = _is_unsigned(found[2])

        def value_fn(ctx):
            v = written(ctx)
            if v is UNSET:
                raise PathEvalError(f"`{name}` has no value here")
            return _wrap(v) if unsigned else v
        return value_fn

    def _initial(self, name, decl_stmt, found, frame: Frame) -> Fn:
        """A local's value as its declaration leaves it."""
        decl, value, type_text = found
        if value is not None:
            return self._init(value, type_text, decl_stmt, frame)
        if decl.type == "structured_binding_declarator":
            return self._structured(name, decl, decl_stmt, frame)
        if "SlidingWindowConfig" in type_text or type_text.split("::")[-1] in STRUCT_DEFAULTS:
            d = dict(STRUCT_DEFAULTS.get(type_text.split("::")[-1], {}))
            return lambda ctx: dict(d)
        return lambda ctx: UNSET

    def _structured(self, name, decl, stmt, frame) -> Fn:
        names = [self._t(frame, c) for c in decl.named_children if c.type == "identifier"]
        i = names.index(name)
        value = None
        for c in stmt.named_children:
            if c.type == "init_declarator":
                value = c.child_by_field_name("value")
        if value is None:
            # `auto [a, b] = expr;` parses as declarator + value siblings
            kids = stmt.named_children
            value = kids[-1] if kids and kids[-1].id != decl.id else None
        if value is None:
            raise PathEvalError(f"`{name}`: structured binding without a value")
        whole = self.expr(value, frame)

        def part(ctx):
            v = whole(ctx)
            if isinstance(v, tuple) and i < len(v):
                return v[i]
            raise PathEvalError(f"`{name}`: cannot unpack {v!r}")
        return part

    def _init(self, value, type_text, stmt, frame) -> Fn:
        if value.type == "initializer_list":
            base = type_text.split("::")[-1].split("<")[0].strip()
            if any(c.type == "initializer_pair" for c in value.named_children):
                return self._designated(value, base, frame)
            return self.expr(value, frame)
        if value.type == "argument_list":  # T x(a, b)
            raise PathEvalError(f"`{self._t(frame, stmt)}`: constructor call not modelled")
        return self.expr(value, frame)

    def _designated(self, lst, type_name, frame) -> Fn:
        parts = []
        for c in lst.named_children:
            if c.type == "comment":
                continue
            if c.type != "initializer_pair":
                raise PathEvalError(f"`{self._t(frame, lst)}`: mixed initializer")
            fld = self._t(frame, c.child_by_field_name("designator")).lstrip(".")
            parts.append((fld, self.expr(c.child_by_field_name("value"), frame)))
        defaults = STRUCT_DEFAULTS.get(type_name, {})

        def build(ctx):
            if type_name == "ParallelConfig":
                d = dict(defaults)
                for f, fn in parts:
                    d[f] = fn(ctx)
                return _wrap_pc(_unwrap(d))
            return LazyStruct(defaults, parts, ctx)
        return build

    def _writes_between(self, name, decl_stmt, at, frame) -> List[Tuple[int, Callable]]:
        """Transformers for every statement between the declaration and ``at`` that assigns ``name``."""
        return self._writes_in(name, decl_stmt.parent, decl_stmt, at, frame)

    def _writes_in(self, name, block, after, at, frame) -> List[Tuple[int, Callable]]:
        """Writes to ``name`` in ``block`` (after statement ``after``, if given) that run before ``at``."""
        out = []
        chain = []
        n = at
        while n is not None and n.id != block.id:
            if n.parent is not None and n.parent.type in ("compound_statement", "case_statement"):
                chain.append((n.parent, n))
            n = n.parent
        chain.reverse()
        if not chain or chain[0][0].id != block.id:
            chain = [(block, _stmt_in(block, at) or at)]
        first = True
        for blk, here in chain:
            for s in blk.named_children:
                if first and after is not None and s.end_byte <= after.end_byte:
                    continue
                if s.start_byte >= here.start_byte:
                    break
                w = self._stmt_write(name, s, frame)
                if w is not None:
                    out.append((s.id, w))
            first = False
        return out

    def _stmt_write(self, name, s, frame) -> Optional[Callable]:
        """``_stmt_writes``, compiled once per frame, name and statement (every read after it shares it)."""
        key = (id(frame), name, s.id)
        if key not in self._stmt_cache:
            self._stmt_cache[key] = self._stmt_writes(name, s, frame)
        return self._stmt_cache[key]

    def _stmt_writes(self, name, s, frame) -> Optional[Callable]:
        if not self._mentions_write(name, s, frame):
            return None
        t = s.type
        why = self._unfollowed_writes(s, frame).get(name)
        if why is not None:
            def unfollowed(ctx, v):
                raise PathEvalError(f"`{name}` may be changed by {why}, which is not modelled")
            return unfollowed
        if t in ("expression_statement", "declaration"):
            captured = self._capture_write(name, s, frame)
            if captured is not None:
                return captured
            byref = self._byref_write(name, s, frame)
            if byref is not None:
                return byref
        if t == "expression_statement":
            e = s.named_children[0] if s.named_children else None
            return self._assign(name, e, frame)
        if t == "compound_statement":
            ws = []
            for c in s.named_children:
                if _declares(c, name, frame.src) is not None:
                    break  # the rest of this block writes its own `name`, which hides ours
                w = self._stmt_writes(name, c, frame)
                if w is not None:
                    ws.append(w)
            return _seq(ws)
        if t == "if_statement":
            cond = self.expr(exits.condition(s), frame)
            then = self._stmt_writes(name, s.child_by_field_name("consequence"), frame) or (lambda ctx, v: v)
            alt_node = s.child_by_field_name("alternative")
            if alt_node is not None and alt_node.type == "else_clause":
                alt_node = alt_node.named_children[0] if alt_node.named_children else None
            alt = (self._stmt_writes(name, alt_node, frame) if alt_node is not None else None) or (lambda ctx, v: v)
            return _branch(cond, then, alt, self._t(frame, exits.condition(s)), name)
        if t == "declaration" and _declares(s, name, frame.src) is not None:
            return None  # a nested declaration of the same name shadows; ignored
        text = self._t(frame, s)[:60]

        def unknown(ctx, v):
            raise PathEvalError(f"`{name}` is assigned inside `{text}...`, which is not modelled")
        return unknown

    def _byref_calls(self, s, frame):
        """(call node, its argument nodes, the callee's out-parameters by argument position, the
        callee's source and definition) of every call in ``s`` to a function of the tree that takes
        a non-const reference to a value (not a tensor): ``fold_input_tensor_if_required(...,
        input_height, ..., stride, ...)`` rewrites the caller's geometry in place."""
        key = (frame.src.path, s.id)
        out = self._byref.get(key)
        if out is None:
            out = []
            for n in cpp.walk(s):
                if n.type != "call_expression":
                    continue
                defs = self.index.defs.get(cpp.call_name(n) or "") or []
                if len(defs) != 1:
                    continue
                csrc, cdef = defs[0]
                outs = {i: p for i, p in enumerate(self._params(csrc, cdef)) if _out_param(p.type_text)}
                if outs:
                    out.append((n, cpp.arguments(n), outs, csrc, cdef))
            self._byref[key] = out
        return out

    def _unfollowed_writes(self, s, frame) -> Dict[str, str]:
        """name -> why, for every variable a call in ``s`` may change in a way the evaluator does not
        follow: passed to a non-const reference parameter of a local lambda, of an overloaded
        function, or of a function declared here but defined elsewhere; or assigned in the body of a
        lambda that captures it by reference.  Such a write fails the evaluation (never "unchanged")."""
        key = (frame.src.path, s.id)
        out = self._unfollowed.get(key)
        if out is not None:
            return out
        out = {}
        for n in cpp.walk(s):
            if n.type != "call_expression":
                continue
            callee = cpp.call_name(n) or ""
            args = cpp.arguments(n)
            fn_node = n.child_by_field_name("function")
            lam = self._lambda_named(callee, n, frame) if fn_node is not None and fn_node.type == "identifier" else None
            positions: set = set()
            if lam is not None:
                positions = {i for i, p in enumerate(cpp.parameters(lam)) if _out_param(p.type_text)}
                if not _whole_statement_call(n, lam, args):
                    for written in _assigned_by_reference(lam, frame.src):
                        out.setdefault(written, f"the lambda `{callee}` (it captures it by reference)")
                what = f"the lambda `{callee}`"
            else:
                defs = self.index.defs.get(callee) or []
                if len(defs) > 1:
                    positions = {i for csrc, cdef in defs for i, p in enumerate(self._params(csrc, cdef))
                                 if _out_param(p.type_text)}
                    what = f"an overload of `{callee}`"
                elif not defs:
                    positions = self.index.declared_outs.get(callee, set())
                    what = f"`{callee}` (declared here, defined elsewhere)"
            for i in positions:
                if i < len(args) and args[i].type == "identifier":
                    out.setdefault(frame.src.text(args[i]), f"{what}, which takes it by non-const reference")
        for name, why in self._escapes(s, frame):
            if name:
                out.setdefault(name, why)
        self._unfollowed[key] = out
        return out

    def _escapes(self, s, frame):
        """(name, why) for every other way ``s`` may change a variable that no statement of the
        evaluator follows: its address taken (``&x``), a non-const reference bound to it (``auto& r =
        x;``, ``auto& [a, b] = x;``, ``for (auto& e : x)``), a method of it that is not a known accessor
        (``x.fill(0)``, ``x.begin()``), an argument to a function or macro the files read neither define
        nor declare (``std::swap(h, w)``, ``ROUND(x)``), or a lambda that assigns it through a by-reference
        capture and is called where it is written (``[&] { x = 1; }()``) or handed to another function."""
        src = frame.src
        for n in cpp.walk(s):
            t = n.type
            if t == "pointer_expression" and n.children and n.children[0].type == "&":
                arg = n.child_by_field_name("argument")
                if arg is not None:
                    yield dataflow.leading_name(src.text(arg)), f"`{src.text(n)}` (its address is taken)"
            elif t in ("init_declarator", "for_range_loop"):
                ref = n.child_by_field_name("declarator")
                value = n.child_by_field_name("value") if t == "init_declarator" else n.child_by_field_name("right")
                holder = n.parent if t == "init_declarator" else n
                if ref is not None and ref.type == "reference_declarator" and value is not None \
                        and not _const_type(holder, src):
                    yield dataflow.leading_name(src.text(value)), \
                        f"`{src.text(ref)}`, a non-const reference bound to it"
            elif t == "call_expression":
                fn_node = n.child_by_field_name("function")
                if fn_node is None:
                    continue
                if fn_node.type == "lambda_expression":
                    for written in _assigned_by_reference(fn_node, src):
                        yield written, "a lambda called where it is written (it captures it by reference)"
                    continue
                if fn_node.type == "field_expression":
                    meth = src.text(fn_node.child_by_field_name("field"))
                    if meth in MUTATORS:
                        obj = fn_node.child_by_field_name("argument")
                        yield dataflow.leading_name(src.text(obj)), f"its method `{meth}()`"
                    continue
                callee = cpp.call_name(n) or ""
                spelled = src.text(fn_node).split("<")[0].replace(" ", "")  # std::min<int> -> std::min
                last = spelled.split("::")[-1]
                if callee in self.index.defs or callee in self.index.decl_params or last in BUILTINS \
                        or last in PURE_CALLS or (fn_node.type == "identifier" and self._lambda_named(callee, n, frame)):
                    continue
                qualifier = spelled.rsplit("::", 1)[0].lstrip(":") if "::" in spelled else ""
                if qualifier.split("::")[0] == "std" or (not qualifier and last in STD_MUTATORS):  # `using std::swap;`
                    qualifier = qualifier or "std"
                    if last not in STD_MUTATORS:
                        continue  # the standard library's other functions take what they read by value or const&
                    shapes = ("identifier", "subscript_expression", "field_expression")  # and `x.at(0)`, `x.begin()`
                elif last.isupper() and (last not in self.index.macros or self.index.macros[last]):
                    # a macro: one defined in the files read that assigns a parameter, or one of elsewhere
                    qualifier = ""
                    shapes = ("identifier", "subscript_expression", "field_expression")
                else:
                    # a function of elsewhere (`ttnn::linear(...)`), or a constructor: assumed to take what it
                    # reads by value or const reference, as the module docstring says
                    continue
                for a in cpp.arguments(n):
                    inner = a.child_by_field_name("function") if a.type == "call_expression" else None
                    if a.type in shapes or (qualifier and inner is not None and inner.type == "field_expression"
                                            and src.text(inner.child_by_field_name("field")) in REFERENCE_ACCESSORS):
                        yield dataflow.leading_name(src.text(a)), \
                            f"`{spelled}`, which the files read neither define nor declare (it may change its arguments)"
            elif t == "lambda_expression":
                parent = n.parent
                if parent is not None and parent.type == "init_declarator":
                    continue  # a named lambda: its calls are followed (or fail) where they happen
                if parent is not None and parent.type == "call_expression":
                    continue  # called right here: the call's own rule above
                for written in _assigned_by_reference(n, src):
                    yield written, "a lambda handed to another function (it captures it by reference)"

    def _capture_calls(self, s, frame) -> List[Tuple[Any, Any, set]]:
        """(call, lambda, names it assigns through by-reference captures) of every call in ``s`` of a
        local lambda that is the statement's own expression (``f(...);``, ``auto x = f(...);``): its
        writes land when the statement runs, in the order of the statements around it."""
        key = (frame.src.path, s.id)
        out = self._captures.get(key)
        if out is None:
            out = []
            for n in cpp.walk(s):
                fn_node = n.child_by_field_name("function") if n.type == "call_expression" else None
                if fn_node is None or fn_node.type != "identifier":
                    continue
                lam = self._lambda_named(frame.src.text(fn_node), n, frame)
                if lam is not None and _whole_statement_call(n, lam, cpp.arguments(n)):
                    written = _assigned_by_reference(lam, frame.src)
                    if written:
                        out.append((n, lam, written))
            self._captures[key] = out
        return out

    def _capture_write(self, name, s, frame) -> Optional[Callable]:
        """What a call in ``s`` of a local lambda leaves in ``name`` when the lambda assigns it through
        a by-reference capture: the lambda's body is evaluated for that call (its parameters bound to
        the call's arguments, its other captures read at the call) and the capture's value when it
        returns is the new value.  A statement that also writes ``name`` another way fails."""
        calls = [(c, lam) for c, lam, written in self._capture_calls(s, frame) if name in written]
        if not calls:
            return None
        call, lam = calls[0]
        if len(calls) > 1 or name in self._direct_writes(s, frame):
            text = self._t(frame, s)[:60]

            def unordered(ctx, v):
                raise PathEvalError(f"`{name}` is written more than once in `{text}...`, in an order not modelled")
            return unordered
        key = (id(frame), call.id, name, "capture")
        t = self._compiled.get(key)
        if t is None:
            body = lam.child_by_field_name("body")
            pfns = {p.name: memo(_lazy_expr(self, a, frame)) for p, a in zip(cpp.parameters(lam), cpp.arguments(call))}
            callee = self.frame(frame.src, lam, pfns, parent=frame, call_point=call,
                                label=frame.src.text(call.child_by_field_name("function")))
            # the capture's value on entry is the caller's at the call, which ``v`` is
            exit_t = self._exit_writes(name, exits.statements(body), callee)
            t = self._compiled[key] = exit_t
        return t

    def _byref_write(self, name, s, frame) -> Optional[Callable]:
        """What a call in statement ``s`` leaves in ``name`` when ``name`` is its argument for a
        non-const reference parameter: the callee's body is evaluated with the caller's arguments,
        and the parameter's value when the callee returns is the new value."""
        for call, args, outs, csrc, cdef in self._byref_calls(s, frame):
            for i, p in outs.items():
                if i < len(args) and args[i].type == "identifier" and frame.src.text(args[i]) == name:
                    key = (id(frame), call.id, p.name, "byref")
                    t = self._compiled.get(key)
                    if t is None and ("byref", cdef.id) in self._inlining:
                        callee_name = cpp.call_name(call)

                        def recursive(ctx, v, callee_name=callee_name):
                            raise PathEvalError(f"`{name}`: written by a recursive call of `{callee_name}`, "
                                                "which is not modelled")
                        return recursive
                    if t is None:
                        # one callee frame per call: its compiled body (and so each context's memo of
                        # its locals and conditions) is shared by all the parameters it writes
                        callee = self._compiled.get((id(frame), call.id, "byref frame"))
                        if callee is None:
                            params = self._params(csrc, cdef)
                            pfns = {q.name: memo(_lazy_expr(self, a, frame)) for q, a in zip(params, args)}
                            callee = self.frame(csrc, cdef, pfns, label=cpp.call_name(call))
                            self._compiled[(id(frame), call.id, "byref frame")] = callee
                        body = cdef.child_by_field_name("body")
                        self._inlining.add(("byref", cdef.id))
                        try:
                            exit_t = self._exit_writes(p.name, exits.statements(body), callee) if body is not None else None
                        finally:
                            self._inlining.discard(("byref", cdef.id))
                        if exit_t is None:
                            t = None
                        else:
                            # the value on return depends only on the context (the callee's parameter
                            # holds the caller's value before the call): once per context
                            start = callee.params[p.name]
                            after = memo(lambda ctx, exit_t=exit_t, start=start: exit_t(ctx, start(ctx)))
                            t = lambda ctx, v, after=after: after(ctx)  # noqa: E731
                        self._compiled[key] = t
                    return t
        return None

    def _exit_writes(self, name, stmts, frame) -> Callable:
        """What ``stmts`` (a function body) leave in ``name`` when the function returns: the writes
        that run before each exit (:mod:`migrator.verify.exits`)."""
        return self._written_on_exit(name, exits.exits(stmts), frame)

    def _written_on_exit(self, name, tree: exits.Exits, frame) -> Callable:
        if isinstance(tree, exits.Unfollowed):
            text = self._t(frame, tree.stmt)[:60]

            def unknown(ctx, v):
                raise PathEvalError(f"`{name}`: written by a function that returns from inside `{text}...`, "
                                    "which is not modelled")
            return unknown
        done = [w for w in (self._stmt_write(name, s, frame) for s in tree.run) if w is not None]
        if isinstance(tree, exits.Split):
            cond = exits.condition(tree.stmt)
            done.append(_branch(memo(self.expr(cond, frame)), self._written_on_exit(name, tree.then, frame),
                                self._written_on_exit(name, tree.orelse, frame), self._t(frame, cond), name))
        return _seq(done)

    def _returned(self, stmts, frame) -> Optional[Fn]:
        """The value ``stmts`` (a function body) return: ``return x;``, or an ``if`` whose branches
        return, as a conditional; None when a return sits where this cannot follow it (a loop)."""
        return self._value_on_exit(exits.exits(stmts), frame)

    def _value_on_exit(self, tree: exits.Exits, frame) -> Optional[Fn]:
        if isinstance(tree, exits.Unfollowed):
            return None
        if isinstance(tree, exits.End):
            s = tree.last
            if s is None:
                return None  # falls off the end
            if s.type == "return_statement":
                kids = [c for c in s.named_children if c.type != "comment"]
                return self.expr(kids[0], frame) if kids else None
            text = self._t(frame, s)[:60]
            return _failing(f"`{text}`: the function throws here", (frame.src.path, s.start_byte, s.end_byte))
        then_v = self._value_on_exit(tree.then, frame)
        else_v = self._value_on_exit(tree.orelse, frame)
        if then_v is None or else_v is None:
            return None
        cond_node = exits.condition(tree.stmt)
        cond, text = self.expr(cond_node, frame), self._t(frame, cond_node)
        return _choose(cond, then_v, else_v, text, (frame.src.path, tree.stmt.start_byte, tree.stmt.end_byte))

    def _mentions_write(self, name, s, frame) -> bool:
        key = (frame.src.path, s.id)
        names = self._written.get(key)
        if names is None:
            names = set(self._direct_writes(s, frame))
            names.update(self._unfollowed_writes(s, frame))
            for _, _, written in self._capture_calls(s, frame):
                names.update(written)
            self._written[key] = names
        return name in names

    def _direct_writes(self, s, frame) -> set:
        """Names ``s`` itself writes: the target of an assignment or increment (`std::tie(a, b) = ...`
        writes both), or an argument for a non-const reference parameter of a function of the tree.
        An assignment in a lambda's body is not one: it runs where the lambda is called."""
        key = (frame.src.path, s.id)
        names = self._direct.get(key)
        if names is None:
            names = set()
            for _, args, outs, _, _ in self._byref_calls(s, frame):
                names.update(frame.src.text(args[i]) for i in outs if i < len(args) and args[i].type == "identifier")
            for n in cpp.walk(s):
                if n.type in ("assignment_expression", "update_expression") and not _inside_lambda(n, s):
                    target = n.child_by_field_name("left") or n.child_by_field_name("argument")
                    if target is not None and target.type == "call_expression" and cpp.call_name(target) == "tie":
                        names.update(frame.src.text(a) for a in cpp.arguments(target))
                    elif target is not None:
                        names.add(dataflow.leading_name(frame.src.text(target)))
            self._direct[key] = names
        return names

    def _assign(self, name, e, frame) -> Callable:
        if e is None:
            return lambda ctx, v: v
        if e.type == "update_expression":
            op = "+=" if "++" in self._t(frame, e) else "-="
            return lambda ctx, v: _ASSIGN_OPS[op](v, 1)
        if e.type == "comma_expression":
            parts = [self._assign(name, c, frame) for c in e.named_children]
            return _seq(parts)
        if e.type != "assignment_expression":
            text = self._t(frame, e)

            def unknown(ctx, v):
                raise PathEvalError(f"`{name}` is written by `{text}`, which is not modelled")
            return unknown
        left = e.child_by_field_name("left")
        op = self._t(frame, e.child_by_field_name("operator"))
        if left.type == "call_expression" and cpp.call_name(left) == "tie":
            names = [frame.src.text(a) for a in cpp.arguments(left)]
            k = names.index(name)
            right = e.child_by_field_name("right")

            def tie(ctx, v):
                whole = self.expr(right, frame)(ctx)
                if isinstance(whole, tuple) and k < len(whole):
                    return whole[k]
                raise PathEvalError(f"`{name}` is unpacked from {whole!r}")
            return tie
        rhs = self.expr(e.child_by_field_name("right"), frame)
        ltext = self._t(frame, left)
        if left.type == "identifier" and ltext == name:
            if op == "=":
                return lambda ctx, v: rhs(ctx)
            f = _ASSIGN_OPS.get(op)
            if f is None:
                raise PathEvalError(f"`{self._t(frame, e)}`: operator {op} not modelled")
            return lambda ctx, v: f(v, rhs(ctx))
        if left.type == "field_expression" and op == "=":
            fld = self._t(frame, left.child_by_field_name("field"))
            if self._t(frame, left.child_by_field_name("argument")) == name:
                def set_field(ctx, v):
                    if not isinstance(v, (dict, Obj)):
                        raise PathEvalError(f"`{ltext}`: cannot set a field of {v!r}")
                    return _with(v, fld, rhs(ctx))
                return set_field
        text = self._t(frame, e)

        def unknown(ctx, v):
            raise PathEvalError(f"`{text}`: assignment form not modelled")
        return unknown

    def _t(self, frame, node) -> str:
        return " ".join(frame.src.text(node).split())

    # -- expressions --
    def expr(self, node, frame: Frame) -> Fn:
        key = (id(frame), node.id)
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        where = (frame.src.path, node.start_byte, node.end_byte)
        try:
            # A failure is attributed to the innermost expression that is not a name or a literal:
            # every closure _expr returns for such an expression sets ``where`` on a failure that has
            # none (a try costs nothing until something raises, a wrapper call would on every read).
            inner = self._expr(node, frame, where)
        except PathEvalError as exc:
            # An expression the evaluator cannot compile fails when it is *evaluated*, not here: an
            # assignment in a branch no context takes (older revisions' `ttnn::fold` under
            # `enable_kernel_stride_folding`) must not stop every path through the function.
            inner = _failing(exc.message, exc.where or where)
        self._compiled[key] = inner
        return inner

    def _expr(self, node, frame: Frame, where) -> Fn:
        t = node.type
        text = self._t(frame, node)
        if len(text) > 120:
            text = text[:117] + "..."
        named = [c for c in node.named_children if c.type != "comment"]
        if t == "number_literal":
            lit = text.rstrip("uUlL")
            try:
                v = int(lit, 0)
            except ValueError:
                raise PathEvalError(f"`{text}`: not an integer literal") from None
            return lambda ctx: v
        if t in ("true", "false"):
            v = t == "true"
            return lambda ctx: v
        if t in ("parenthesized_expression", "condition_clause") and len(named) == 1:
            return self.expr(named[0], frame)
        if t == "identifier":
            return self.ident(text, node, frame)
        if t in ("qualified_identifier", "scoped_identifier"):
            last = text.split("::")[-1]
            if text.split("::")[-2:-1] == ["SliceType"] and last in ("HEIGHT", "WIDTH"):
                v = "DRAM_" + last  # older revisions spell Conv2dSliceConfig::SliceType::DRAM_HEIGHT as HEIGHT
                return lambda ctx: v
            if last in CONSTANTS:
                v = CONSTANTS[last]
                return lambda ctx: v
            return self.ident(last, node, frame)
        if t == "initializer_list":
            if any(c.type == "initializer_pair" for c in named):
                return _at(self._designated(node, "", frame), where)
            parts = [self.expr(c, frame) for c in named]

            def braced(ctx):
                try:
                    return tuple(p(ctx) for p in parts)
                except PathEvalError as exc:
                    raise _located(exc, where)
            return braced
        if t == "unary_expression":
            op = node.child_by_field_name("operator").type
            arg = self.expr(node.child_by_field_name("argument"), frame)
            if op == "-":
                def negate(ctx):
                    try:
                        return -_num(arg(ctx))
                    except PathEvalError as exc:
                        raise _located(exc, where)
                return negate
            if op == "+":
                return _at(arg, where)
            if op in ("!", "not"):
                def logical_not(ctx):
                    try:
                        return not _truth(arg(ctx), text)
                    except PathEvalError as exc:
                        raise _located(exc, where)
                return logical_not
            raise PathEvalError(f"`{text}`: unsupported operator `{op}`")
        if t == "binary_expression":
            op = node.child_by_field_name("operator").type
            left = self.expr(node.child_by_field_name("left"), frame)
            right = self.expr(node.child_by_field_name("right"), frame)
            if op in ("&&", "||"):
                want = op == "||"  # the value of the left side that decides the result alone

                def logical(ctx):
                    try:
                        if _truth(left(ctx), text) is want:
                            return want
                        return _truth(right(ctx), text)
                    except PathEvalError as exc:
                        raise _located(exc, where)
                return logical
            f = BINOPS.get(op)
            if f is None:
                raise PathEvalError(f"`{text}`: unsupported operator `{op}`")

            def binary(ctx):
                try:
                    a, b = left(ctx), right(ctx)
                    try:
                        return f(a, b)
                    except (TypeError, ZeroDivisionError):
                        raise PathEvalError(f"`{text}`: cannot apply {op} to {a!r} and {b!r}") from None
                except PathEvalError as exc:
                    raise _located(exc, where)
            return binary
        if t == "conditional_expression":
            c = self.expr(node.child_by_field_name("condition"), frame)
            a = self.expr(node.child_by_field_name("consequence"), frame)
            b = self.expr(node.child_by_field_name("alternative"), frame)
            return _choose(c, a, b, text, where)
        if t == "subscript_expression":
            base = self.expr(node.child_by_field_name("argument"), frame)
            idx = node.child_by_field_name("indices") or node.child_by_field_name("index")
            kids = [c for c in idx.named_children] if idx is not None else []
            if len(kids) != 1:
                raise PathEvalError(f"`{text}`: unsupported subscript")
            i = self.expr(kids[0], frame)

            def sub(ctx):
                try:
                    s, k = base(ctx), i(ctx)
                    try:
                        return s[k]
                    except (TypeError, IndexError, KeyError):
                        raise PathEvalError(f"`{text}`: cannot index {s!r} with {k!r}") from None
                except PathEvalError as exc:
                    raise _located(exc, where)
            return sub
        if t == "field_expression":
            base = self.expr(node.child_by_field_name("argument"), frame)
            fld = self._t(frame, node.child_by_field_name("field"))

            def member(ctx):
                try:
                    o = base(ctx)
                    if type(o) is Obj:  # the common case first: a modelled object's attribute
                        d = o.__dict__
                        if fld in d:
                            return d[fld]
                    return _member(o, fld, text)
                except PathEvalError as exc:
                    raise _located(exc, where)
            return member
        if t == "call_expression":
            return self._call(node, frame, text, where)
        if t == "compound_literal_expression":
            tname = self._t(frame, node.child_by_field_name("type")).split("::")[-1]
            value = node.child_by_field_name("value")
            if any(c.type == "initializer_pair" for c in value.named_children):
                return _at(self._designated(value, tname, frame), where)
            if tname == "Shape":
                return _at(self.expr(value.named_children[0], frame), where) if value.named_children else (lambda ctx: ())
            return _at(self.expr(value, frame), where)
        if t == "this":
            raise PathEvalError("`this` not modelled")
        raise PathEvalError(f"`{text}`: unsupported expression form ({t})")

    def _call(self, node, frame: Frame, text: str, where) -> Fn:
        fn_node = node.child_by_field_name("function")
        arg_nodes = [c for c in node.child_by_field_name("arguments").named_children if c.type != "comment"]
        if fn_node.type == "field_expression":
            obj = self.expr(fn_node.child_by_field_name("argument"), frame)
            meth = self._t(frame, fn_node.child_by_field_name("field"))
            args = [self.expr(a, frame) for a in arg_nodes]

            def method(ctx):
                try:
                    o = obj(ctx)
                    return _method(o, meth, [a(ctx) for a in args], text)
                except PathEvalError as exc:
                    raise _located(exc, where)
            return method
        if fn_node.type == "qualified_identifier":
            inner = fn_node
            while inner is not None and inner.type == "qualified_identifier":
                inner = inner.child_by_field_name("name")
            if inner is not None and inner.type == "template_function":
                fn_node = inner
        if fn_node.type == "template_function":
            name = self._t(frame, fn_node.child_by_field_name("name")).split("::")[-1]
            targs = self._t(frame, fn_node.child_by_field_name("arguments")).strip("<>").strip()
            args = [self.expr(a, frame) for a in arg_nodes]
            if name == "static_cast" and len(args) == 1:
                if _is_unsigned(targs):
                    return _at(lambda ctx: _wrap(_num(args[0](ctx))), where)
                if re.fullmatch(r"(int|int32_t|std::int32_t)", targs):
                    return _at(lambda ctx: _i32(_num(args[0](ctx))), where)
                return _at(lambda ctx: _num(args[0](ctx)), where)
            if name == "get" and len(args) == 1 and targs.isdigit():
                k = int(targs)
                return _at(lambda ctx: args[0](ctx)[k], where)
            if name in ("max", "min"):
                f = max if name == "max" else min
                if re.fullmatch(r"(int|int32_t|std::int32_t)", targs):  # std::max<int>: both converted to int
                    return _at(lambda ctx: f(_i32(_num(a(ctx))) for a in args), where)
                return _at(lambda ctx: f(_num(a(ctx)) for a in args), where)
            raise PathEvalError(f"`{text}`: unknown template function `{name}`")
        name = self._t(frame, fn_node).split("::")[-1].strip()
        # a lambda variable in scope?
        lam = self._lambda_named(name, node, frame)
        if lam is not None:
            raise PathEvalError(f"`{text}`: value of a lambda call not modelled")
        if name in BUILTINS:
            b = BUILTINS[name]
            args = [self.expr(a, frame) for a in arg_nodes]
            pnames = self.index.decl_params.get(name, []) if name in NAMED_BUILTINS else []

            if not pnames:
                def builtin(ctx):
                    try:
                        return b(ctx, {}, [a(ctx) for a in args])
                    except PathEvalError as exc:
                        raise _located(exc, where)
                return builtin

            def named_builtin(ctx):
                try:
                    pos = [a(ctx) for a in args]
                    return b(ctx, dict(zip(pnames, pos)), pos)
                except PathEvalError as exc:
                    raise _located(exc, where)
            return named_builtin
        inline = self._inline(name, arg_nodes, frame, text)
        if inline is not None:
            # once per context: a helper's value at one call is read by every write and condition
            # that mentions it (auto_enable_kernel_folding's conjunction, for each folded parameter)
            return _at(memo(inline), where)
        raise PathEvalError(f"`{text}`: unknown function `{name}`")

    def _inline(self, name, arg_nodes, frame, text) -> Optional[Fn]:
        """A function of the tree whose value its returns give (``return x;``, or returns in the
        branches of ``if``s): evaluated with the caller's arguments."""
        defs = self.index.defs.get(name) or []
        if len(defs) != 1:
            return None
        src, fdef = defs[0]
        body = fdef.child_by_field_name("body")
        if body is None:
            return None
        params = cpp.parameters(fdef)
        if len(params) != len(arg_nodes):
            return None
        if name in self._inlining:
            return None  # recursion: its depth depends on values, which compiling cannot follow
        pfns = {p.name: _sized(self.expr(a, frame), p.type_text) for p, a in zip(params, arg_nodes)}
        callee = self.frame(src, fdef, pfns, label=name)
        self._inlining.add(name)
        try:
            return self._returned(exits.statements(body), callee)
        finally:
            self._inlining.discard(name)

    def _lambda_named(self, name, at, frame):
        try:
            fn = None
            n = at
            while n is not None:
                if n.type == "compound_statement":
                    for s in n.named_children:
                        if s.start_byte >= at.start_byte:
                            break
                        found = _declares(s, name, frame.src)
                        if found is not None and found[1] is not None and found[1].type == "lambda_expression":
                            return found[1]
                n = n.parent
            return fn
        except Exception:  # pragma: no cover - defensive
            return None


UNLOCATED = frozenset({"identifier", "qualified_identifier", "scoped_identifier", "number_literal", "true", "false",
                       "parenthesized_expression", "condition_clause"})

STRUCT_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "SlidingWindowConfig": {},
    "Conv2dSliceConfig": {"slice_type": "DRAM_HEIGHT", "num_slices": 1},
}


def _lazy_expr(comp: "Compiler", node, frame: Frame) -> Fn:
    """``comp.expr(node, frame)``, compiled on first use."""
    box: List[Fn] = []

    def fn(ctx):
        if not box:
            box.append(comp.expr(node, frame))
        return box[0](ctx)
    return fn


def _located(exc: "PathEvalError", where) -> "PathEvalError":
    """``exc``, attributed to ``where`` unless an inner expression already claimed it."""
    if exc.where is None:
        exc.where = where
    return exc


def _at(fn: Fn, where) -> Fn:
    """``fn`` with its unattributed failures attributed to ``where`` (for the few expression forms
    whose closure comes from elsewhere: a passed-through operand, an inlined body, a struct)."""
    def located(ctx):
        try:
            return fn(ctx)
        except PathEvalError as exc:
            raise _located(exc, where)
    return located


def _choose(cond: Fn, then_v: Fn, else_v: Fn, text: str, where) -> Fn:
    """``cond ? then_v : else_v`` (a conditional expression, or a function returning from both branches
    of an ``if``): only the branch the condition picks is evaluated."""
    def conditional(ctx):
        try:
            return then_v(ctx) if _truth(cond(ctx), text) else else_v(ctx)
        except PathEvalError as exc:
            raise _located(exc, where)
    return conditional


def _failing(message: str, where) -> Fn:
    def fail(ctx):
        exc = PathEvalError(message)
        exc.where = where
        raise exc
    return fail


def _sized(fn: Fn, type_text: str) -> Fn:
    """A braced list passed to a ``std::array<T, N>`` parameter: missing elements are zero."""
    m = re.search(r"array\s*<[^,>]+,\s*(\d+)\s*>", type_text)
    if not m:
        return fn
    n = int(m.group(1))

    def sized(ctx):
        v = fn(ctx)
        if isinstance(v, tuple) and len(v) < n:
            return v + (0,) * (n - len(v))
        return v
    return sized


def memo(fn: Fn) -> Fn:
    """Evaluate ``fn`` once per context (a local is read many times on one path).  A failure is
    kept apart from the values, so a hit (the common case) is one dict lookup."""
    key = id(fn)

    def cached(ctx):
        c = ctx.cache
        if key in c:
            return c[key]
        failed = ctx.failed
        if key in failed:
            raise failed[key]
        try:
            v = fn(ctx)
        except PathEvalError as exc:
            failed[key] = exc
            raise
        c[key] = v
        return v
    cached._inner = fn  # keeps id(fn) unique while the closure lives
    return cached


class LazyStruct(dict):
    """A designated-initializer struct whose members are evaluated when read (a member nobody reads
    must not stop the path)."""

    def __init__(self, defaults, parts, ctx):
        super().__init__(defaults)
        self._fns = dict(parts)
        self._ctx = ctx
        for f in self._fns:
            dict.__setitem__(self, f, None)

    def __getitem__(self, k):
        fn = self._fns.get(k)
        if fn is not None:
            # a member that fails keeps failing: its placeholder must never be read as its value
            dict.__setitem__(self, k, fn(self._ctx))
            del self._fns[k]
        return dict.__getitem__(self, k)

    def get(self, k, d=None):
        return self[k] if k in self else d

    def items(self):
        return [(k, self[k]) for k in list(self.keys())]

    def values(self):
        return [self[k] for k in list(self.keys())]

    def __eq__(self, other):
        return dict(self.items()) == (dict(other.items()) if isinstance(other, dict) else other)

    __hash__ = None


def _assigned_by_reference(lam, src: SourceFile) -> set:
    """Names a lambda's body assigns that it captures by reference (``[&]``, or ``[&name]``)."""
    cap = cpp.lambda_capture(lam)
    by_ref_all, by_ref = cap.default == "&", set(cap.by_reference)
    if not by_ref_all and not by_ref:
        return set()
    body = lam.child_by_field_name("body")
    out = set()
    for n in cpp.walk(body) if body is not None else []:
        if n.type in ("assignment_expression", "update_expression"):
            target = n.child_by_field_name("left") or n.child_by_field_name("argument")
            root = dataflow.leading_name(src.text(target)) if target is not None else ""
            if not root or not (by_ref_all or root in by_ref):
                continue
            # the lambda's own parameter or local (`Conv2dConfig conv_config = conv_config_in;`) is not the capture
            seen = scope_at(src, n).get(root)
            decl = seen.declaration if seen is not None else None
            if decl is not None and lam.start_byte <= decl.start_byte < lam.end_byte:
                continue
            out.add(root)
    return out


# Methods that change their object, or hand out a way to (an iterator, a pointer): a variable that
# calls one may change where no statement the evaluator follows says so.
MUTATORS = frozenset({
    "fill", "swap", "assign", "push_back", "emplace_back", "pop_back", "push_front", "emplace_front", "pop_front",
    "resize", "clear", "insert", "erase", "reset", "emplace", "data", "begin", "end", "rbegin", "rend", "sort",
    "reverse", "set", "update", "merge", "extract", "append",
})
# Standard algorithms that write through what they are given.
STD_MUTATORS = frozenset({
    "swap", "iter_swap", "exchange", "fill", "fill_n", "iota", "transform", "sort", "stable_sort", "partial_sort",
    "nth_element", "reverse", "copy", "copy_n", "copy_backward", "move_backward", "generate", "generate_n", "replace",
    "replace_if", "rotate", "shuffle", "for_each", "remove", "remove_if", "unique", "partition",
})
# Methods returning a reference into their object: passed on, the object may change through it.
REFERENCE_ACCESSORS = frozenset({"at", "front", "back", "value", "data", "begin", "end"})


# Functions and macros the files read do not define that take their arguments by value or const
# reference (logging, checks, arithmetic helpers): an argument to anything else may be changed.
PURE_CALLS = frozenset({
    "min", "max", "clamp", "round_up", "div_up", "abs", "ceil", "floor", "sqrt", "log2", "pow", "log_debug",
    "log_trace", "log_info", "log_warning", "log_error", "log_fatal", "TT_FATAL", "TT_ASSERT", "TT_THROW",
    "make_tuple", "make_pair", "get", "to_string", "format", "holds_alternative", "move", "size", "data_type_to_string",
    "static_cast", "make_optional", "prod", "accumulate", "tie",
})


def _const_type(decl, src: SourceFile) -> bool:
    """``decl`` (a declaration or range-for) declares a const type (``const auto& r = x``)."""
    return any(c.type == "type_qualifier" and src.text(c) == "const" for c in decl.children) or \
        "const" in src.text(decl.child_by_field_name("type") or decl).split()


def _inside_lambda(node, stmt) -> bool:
    """``node`` sits in a lambda expression inside ``stmt`` (its assignments are the lambda's, not the statement's)."""
    n = node.parent
    while n is not None and n.id != stmt.id:
        if n.type == "lambda_expression":
            return True
        n = n.parent
    return False


def _whole_statement_call(call, lam, args) -> bool:
    """``call`` (of the lambda ``lam``, with ``args``) is the expression of its statement, or the
    initializer of a declaration, with every parameter given: the one shape whose by-reference
    capture writes the evaluator follows (a call in a condition, an argument or another lambda is not)."""
    if len(args) != len(cpp.parameters(lam)):
        return False
    parent = call.parent
    if parent is not None and parent.type == "init_declarator":
        parent = parent.parent
    return parent is not None and parent.type in ("expression_statement", "declaration")


def _out_param(type_text: str) -> bool:
    """A non-const lvalue reference to a value the geometry is made of (a tensor is not followed)."""
    return dataflow.nonconst_reference(type_text) and "Tensor" not in type_text and "Device" not in type_text







def _branch(cond: Fn, then_t: Callable, else_t: Callable, text: str, name: str) -> Callable:
    def branch(ctx, v):
        c = cond(ctx)
        if not isinstance(c, (bool, int)):
            raise PathEvalError(f"condition `{text}` (assigns `{name}`) cannot be evaluated")
        return then_t(ctx, v) if c else else_t(ctx, v)
    return branch


def _seq(ws):
    def run(ctx, v):
        for w in ws:
            v = w(ctx, v)
        return v
    return run



def _i32(v: int) -> int:
    """Conversion to a 32-bit int (two's complement), as C++ converts an unsigned value."""
    v &= U32
    return v - (1 << 32) if v & 0x80000000 else v


def _wrap(v):
    return v & U32 if isinstance(v, int) and not isinstance(v, bool) else v


def _truth(v, text):
    if v is True or v is False:
        return v
    if isinstance(v, int):
        return bool(v)
    raise PathEvalError(f"`{text}`: not a boolean ({v!r})")


def _as_opt_if(old, new):
    return Opt(new) if isinstance(old, Opt) and not isinstance(new, Opt) else new


def _equal(a, b) -> bool:
    """C++ ``==``.  A modelled object has no ``==`` of its own (Python would compare identity): one
    backed by a model value (a parallel config, a core grid) compares that value, as its C++
    ``operator==`` compares members; any other pair of objects is not modelled, so the comparison
    fails instead of answering "different"."""
    if isinstance(a, Obj) or isinstance(b, Obj):
        if a is b:
            return True
        ma, mb = getattr(a, "model", None), getattr(b, "model", None)
        if ma is not None and mb is not None and type(ma) is type(mb):
            return ma == mb
        raise PathEvalError(f"comparison of {getattr(a, 'kind', type(a).__name__)} with "
                            f"{getattr(b, 'kind', type(b).__name__)} is not modelled")
    return a == b


BINOPS = {
    "+": lambda a, b: _num(a) + _num(b), "-": lambda a, b: _num(a) - _num(b), "*": lambda a, b: _num(a) * _num(b),
    "/": lambda a, b: int(_num(a) / _num(b)), "%": lambda a, b: _num(a) % _num(b),
    "==": lambda a, b: _equal(a, b), "!=": lambda a, b: not _equal(a, b), "<": lambda a, b: _num(a) < _num(b),
    ">": lambda a, b: _num(a) > _num(b), "<=": lambda a, b: _num(a) <= _num(b), ">=": lambda a, b: _num(a) >= _num(b),
}


def _member(obj, name, text):
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        raise PathEvalError(f"`{text}`: no field `{name}`")
    if isinstance(obj, Obj) and name in obj.__dict__:
        return obj.__dict__[name]
    if isinstance(obj, Obj) and obj.kind == "Conv2dConfig":
        return False  # the remaining Conv2dConfig members are flags that default to false
    if isinstance(obj, (tuple, list)) and len(obj) == 2 and name in ("first", "second"):
        return obj[0 if name == "first" else 1]  # a std::pair (uint32_pair_t) held as a 2-tuple
    if isinstance(obj, Opt):
        raise PathEvalError(f"`{text}`: member of an optional")
    raise PathEvalError(f"`{text}`: no member `{name}` on {type(obj).__name__}")


def _method(obj, meth, args, text):
    if isinstance(obj, Opt) and meth in ("has_value", "value", "value_or"):
        return getattr(obj, meth)(*args)
    if isinstance(obj, Obj):
        m = obj.__dict__.get(meth)
        if callable(m):
            return m(*args)
    raise PathEvalError(f"`{text}`: method `{meth}` not modelled on {getattr(obj, 'kind', type(obj).__name__)}")


__all__ = ["PathEvalError", "PathNotReached", "Index", "Compiler", "Frame", "Ctx", "entry_values", "ENTRIES"]

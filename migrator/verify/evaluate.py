"""A small, safe evaluator for the C++ expressions a rewrite assigns to ``SlidingWindowConfig`` fields.

Expressions are parsed with tree-sitter-cpp and compiled once into Python closures; nothing is
ever ``eval``-ed.  Supported forms: identifiers, ``a.b`` / ``a->b`` member access, ``a[i]``,
``{a, b, ...}`` braced lists, integer and bool literals, ``+ - * / %`` (uint32 wrap-around),
unary ``-``/``+``, parentheses, ``static_cast<T>(x)``, calls of a few known free functions
(``get_num_cores_nhw_from_parallel_config``, ``get_num_cores_channels_from_parallel_config``,
``get_pair_n4_padding``, ``std::max``/``std::min``) and a white-list of member calls and fields of
the modelled tt-metal objects (``.shard_spec().value().grid``, ``.shape``, ...).

Names resolve through the call site's *roles*: a mapping from C++ expression text (``padding``,
``params.stride``, ``halo_input_memory_config``...) to a meaning (``padding``, ``stride``,
``memory_config``...).  Any sub-expression whose text is a role key evaluates to the model value of
that role; anything else must be built from the forms above, or evaluation fails with
:class:`EvalError` naming what could not be resolved.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Dict, Mapping, Tuple

from migrator.errors import UnresolvedBinding
from migrator.reference import SlidingWindowConfig
from migrator.verify import placement as pm

U32 = 0xFFFFFFFF

Compiled = Callable[[Mapping[str, Any]], Any]


class EvalError(UnresolvedBinding):
    """An expression the verifier cannot evaluate."""


FUNCTIONS: Dict[str, Callable[..., Any]] = {
    "get_num_cores_nhw_from_parallel_config": pm.get_num_cores_nhw_from_parallel_config,
    "get_num_cores_channels_from_parallel_config": pm.get_num_cores_channels_from_parallel_config,
    "get_pair_n4_padding": lambda p: tuple(p) if len(p) == 4 else (p[0], p[0], p[1], p[1]),
    "max": max,
    "min": min,
}

# members of the modelled objects that an expression may read (fields or zero-argument methods)
MEMBERS = {
    pm.MemoryConfig: {"shard_spec", "memory_layout"},
    pm._Optional: {"value", "has_value"},
    pm.ShardSpec: {"grid", "shape", "orientation"},
    pm.ParallelConfig: {"grid", "shard_scheme", "shard_orientation"},
    pm.CoreGrid: {"num_cores"},
}


def normalize(text: str) -> str:
    """Expression text without whitespace, the form role keys are matched in."""
    return re.sub(r"\s+", "", text)


def _u32(v: Any) -> Any:
    return v & U32 if isinstance(v, int) and not isinstance(v, bool) else v


def _member(obj: Any, name: str, expr: str) -> Any:
    allowed = MEMBERS.get(type(obj))
    if allowed is None or name not in allowed:
        raise EvalError(f"`{expr}`: no member `{name}` on {type(obj).__name__}")
    return getattr(obj, name)


def _compile(node, src: bytes, roles: Mapping[str, str]) -> Compiled:
    text = src[node.start_byte:node.end_byte].decode()
    key = normalize(text)
    if key in roles:
        role = roles[key]

        def role_value(env, role=role, text=text):
            if role not in env:
                raise EvalError(f"`{text}`: no model value for role `{role}`")
            return env[role]
        return role_value

    t = node.type
    named = [c for c in node.named_children if c.type != "comment"]
    if t == "number_literal":
        lit = text.rstrip("uUlL")
        try:
            value = int(lit, 0)
        except ValueError:
            raise EvalError(f"`{text}`: not an integer literal") from None
        return lambda env: value
    if t in ("true", "false"):
        value = t == "true"
        return lambda env: value
    if t == "parenthesized_expression" and len(named) == 1:
        return _compile(named[0], src, roles)
    if t == "initializer_list":
        parts = [_compile(c, src, roles) for c in named]
        return lambda env: tuple(p(env) for p in parts)
    if t == "unary_expression":
        op = node.child_by_field_name("operator").type
        arg = _compile(node.child_by_field_name("argument"), src, roles)
        if op == "-":
            return lambda env: _u32(-arg(env))
        if op == "+":
            return arg
        raise EvalError(f"`{text}`: unsupported operator `{op}`")
    if t == "binary_expression":
        op = node.child_by_field_name("operator").type
        left = _compile(node.child_by_field_name("left"), src, roles)
        right = _compile(node.child_by_field_name("right"), src, roles)
        ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a // b, "%": lambda a, b: a % b}
        if op not in ops:
            raise EvalError(f"`{text}`: unsupported operator `{op}`")
        fn = ops[op]

        def binary(env, fn=fn, text=text):
            a, b = left(env), right(env)
            if not all(isinstance(v, int) for v in (a, b)):
                raise EvalError(f"`{text}`: arithmetic on non-integers")
            try:
                return _u32(fn(int(a), int(b)))
            except ZeroDivisionError:
                raise EvalError(f"`{text}`: division by zero") from None
        return binary
    if t == "subscript_expression":
        base = _compile(node.child_by_field_name("argument"), src, roles)
        idx_node = node.child_by_field_name("indices") or node.child_by_field_name("index")
        idx_children = [c for c in idx_node.named_children] if idx_node is not None else []
        if len(idx_children) != 1:
            raise EvalError(f"`{text}`: unsupported subscript")
        index = _compile(idx_children[0], src, roles)

        def subscript(env, text=text):
            seq, i = base(env), index(env)
            try:
                return seq[i]
            except (TypeError, IndexError, KeyError):
                raise EvalError(f"`{text}`: cannot index {type(seq).__name__} with {i!r}") from None
        return subscript
    if t == "field_expression":
        base = _compile(node.child_by_field_name("argument"), src, roles)
        name = src[node.child_by_field_name("field").start_byte:node.child_by_field_name("field").end_byte].decode()
        return lambda env: _member(base(env), name, text)
    if t == "call_expression":
        fn_node = node.child_by_field_name("function")
        args = [_compile(c, src, roles) for c in node.child_by_field_name("arguments").named_children
                if c.type != "comment"]
        if fn_node.type == "field_expression":  # method call: obj.method()
            getter = _compile(fn_node, src, roles)

            def method(env, text=text):
                m = getter(env)
                if not callable(m):
                    raise EvalError(f"`{text}`: not a method")
                return m(*[a(env) for a in args])
            return method
        if fn_node.type == "template_function":
            fname = src[fn_node.child_by_field_name("name").start_byte:fn_node.child_by_field_name("name").end_byte]
            if fname.decode() == "static_cast" and len(args) == 1:
                return lambda env: _u32(args[0](env))
            raise EvalError(f"`{text}`: unknown function")
        fname = src[fn_node.start_byte:fn_node.end_byte].decode().split("::")[-1].strip()
        if fname not in FUNCTIONS:
            raise EvalError(f"`{text}`: unknown function `{fname}`")
        f = FUNCTIONS[fname]
        return lambda env: f(*[a(env) for a in args])
    if t in ("identifier", "qualified_identifier", "field_identifier"):
        raise EvalError(f"`{text}`: unknown name (no role for it at this call site)")
    raise EvalError(f"`{text}`: unsupported expression form ({t})")


@lru_cache(maxsize=4096)
def _compile_cached(expr: str, roles_items: Tuple[Tuple[str, str], ...]) -> Compiled:
    from migrator.engine.source import parse_bytes

    prefix = b"auto __verify_value = "
    src = prefix + expr.encode() + b";"
    tree = parse_bytes(src)
    if tree.root_node.has_error:
        raise EvalError(f"`{expr}`: does not parse as a C++ expression")
    decl = tree.root_node.named_children[0]
    init = decl.child_by_field_name("declarator")
    value = init.child_by_field_name("value") if init is not None else None
    if value is None:
        raise EvalError(f"`{expr}`: does not parse as a C++ expression")
    return _compile(value, src, dict(roles_items))


def compile_expr(expr: str, roles: Mapping[str, str]) -> Compiled:
    """Compile ``expr``; role keys are matched whitespace-insensitively."""
    items = tuple(sorted((normalize(k), v) for k, v in roles.items()))
    return _compile_cached(expr, items)


def evaluate(expr: str, roles: Mapping[str, str], values: Mapping[str, Any]) -> Any:
    return compile_expr(expr, roles)(values)


PAIR_FIELDS = {"input_hw", "window_hw", "stride_hw", "output_pad_hw", "dilation_hw"}
CONFIG_FIELDS = set(SlidingWindowConfig.__dataclass_fields__)


class ConfigBuilder:
    """The compiled bindings of one site: ``build(values)`` -> (SlidingWindowConfig, shard shape)."""

    def __init__(self, bindings: Mapping[str, str], shard_shape_expr: str, roles: Mapping[str, str]):
        unknown = set(bindings) - CONFIG_FIELDS
        if unknown:
            raise EvalError(f"unknown SlidingWindowConfig field(s): {', '.join(sorted(unknown))}")
        self.fields = {f: compile_expr(e, roles) for f, e in bindings.items()}
        self.exprs = dict(bindings)
        self.shard = compile_expr(shard_shape_expr, roles)

    def build(self, values: Mapping[str, Any]) -> Tuple[SlidingWindowConfig, Tuple[int, int]]:
        kwargs = {}
        for f, fn in self.fields.items():
            v = fn(values)
            if f in PAIR_FIELDS or f == "padding":
                if not isinstance(v, tuple):
                    raise EvalError(f"{f} = `{self.exprs[f]}`: expected a braced list, got {v!r}")
                want = 4 if f == "padding" else 2
                if len(v) != want:
                    raise EvalError(f"{f} = `{self.exprs[f]}`: expected {want} values, got {len(v)}")
                v = tuple(int(x) & U32 for x in v)
            elif f in ("snap_to_tile", "is_bilinear", "is_transpose", "ceil_mode", "is_avg_pool"):
                v = bool(v)
            elif f != "core_range_set":
                if not isinstance(v, int):
                    raise EvalError(f"{f} = `{self.exprs[f]}`: expected an integer, got {v!r}")
                v = int(v) & U32
            kwargs[f] = v
        shard = self.shard(values)
        if not (isinstance(shard, tuple) and len(shard) == 2):
            raise EvalError(f"shard shape: expected two values, got {shard!r}")
        return SlidingWindowConfig(**kwargs), shard

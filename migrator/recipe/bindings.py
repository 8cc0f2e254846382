"""Where every SlidingWindowConfig field of a rewritten call site gets its value.

One function per field (BINDERS, applied in the struct's declaration order). Each returns the C++
expression to assign and its provenance (the declaration it comes from), or raises
UnresolvedBinding. Fields the halo op also leaves at their default (channels, num_cores_c,
output_pad_hw, the flags) are not bound, so the config built here is the one the halo op is given
at run time."""

from __future__ import annotations

from dataclasses import dataclass

from migrator.engine import cpp, dataflow
from migrator.errors import UnresolvedBinding
from migrator.recipe import names, slice_geometry
from migrator.recipe.site import Expr, Site


@dataclass(frozen=True)
class Binding:
    field: str
    expr: str
    provenance: str


def bind_batch_size(site: Site) -> Expr:
    return site.arg("batch_size")


def bind_input_hw(site: Site) -> Expr:
    """The estimate's input height and width, or a DRAM slice's clamped extents (slice_geometry.py)."""
    exact = site.threaded.get(slice_geometry.INPUT_HW)
    if exact is not None:
        return Expr(f"{{{exact.text}[0], {exact.text}[1]}}", exact.provenance)
    h, w = site.arg("input_height"), site.arg("input_width")
    return Expr(f"{{{h.text}, {w.text}}}", h.provenance if h.provenance == w.provenance else f"{h.provenance}; {w.provenance}")


def bind_window_hw(site: Site) -> Expr:
    return _pair(site, "kernel_size")


def bind_stride_hw(site: Site) -> Expr:
    """The convolution's real stride: beside kernel_size, a visible `stride`, or the threaded one
    (site.find_stride); never {1, 1}."""
    stride = site.stride()
    if stride is None:
        raise UnresolvedBinding(f"{site.path}:{site.line}: no stride in scope (threading should have supplied one)")
    return Expr(f"{{{stride.text}[0], {stride.text}[1]}}", stride.provenance)


def bind_padding(site: Site) -> Expr:
    """The estimate's padding, unless the slice sizes this site receives already contain the
    slice's padding (DRAM slicing since 5702b2dcea): then the slice's own padding, passed into the
    lambda (slice_geometry.py). If that cannot be done safely, the padded sizes with zero padding
    (right except for the tile-rounding right padding, which is warned about)."""
    exact = site.threaded.get(slice_geometry.PADDING)
    if exact is not None:
        return exact
    padded = slice_dims_include_padding(site)
    if padded is None:
        return site.arg("padding")
    evidence, late = padded
    if late:
        site.warnings.append(
            f"{site.path}:{site.line}: {late} is added to the slice's padding after the slice width is computed; "
            "the rewritten size does not include it (verify quantifies the difference)")
    return Expr("{0, 0, 0, 0}", f"slice sizes already include the slice padding: {evidence}")


def bind_dilation_hw(site: Site) -> Expr:
    return _pair(site, "dilation")


def bind_num_cores_nhw(site: Site) -> Expr:
    """ParallelConfig has no core count; tt-metal's helper derives it from the grid and layout."""
    pc = _parallel_config(site)
    helper = site.helper(names.NUM_CORES_NHW_HELPER)
    if helper is None:
        raise UnresolvedBinding(f"{site.path}:{site.line}: {names.NUM_CORES_NHW_HELPER} does not exist in this "
                                "checkout and ParallelConfig has no core count")
    return Expr(f"{helper}({pc.text})", pc.provenance)


def bind_core_range_set(site: Site) -> Expr:
    mem = site.memory_config_of_shard_shape()
    if mem is not None:
        return Expr(f"{mem[0]}.shard_spec().value().grid", mem[1])
    pc = _parallel_config(site)
    return Expr(f"{pc.text}.grid", pc.provenance)


def bind_snap_to_tile(site: Site) -> Expr:
    return Expr("true", "the halo input of conv2d is always tile-snapped")


BINDERS = {
    "batch_size": bind_batch_size,
    "input_hw": bind_input_hw,
    "window_hw": bind_window_hw,
    "stride_hw": bind_stride_hw,
    "padding": bind_padding,
    "dilation_hw": bind_dilation_hw,
    "num_cores_nhw": bind_num_cores_nhw,
    "core_range_set": bind_core_range_set,
    "snap_to_tile": bind_snap_to_tile,
}


def bind(site: Site, struct_fields: list[str]) -> list[Binding]:
    missing = [f for f in BINDERS if f not in struct_fields]
    if missing:
        raise UnresolvedBinding(f"{names.CONFIG_TYPE} in this checkout has no field(s) {', '.join(missing)}")
    order = [f for f in struct_fields if f in BINDERS]
    return [Binding(f, e.text, e.provenance) for f in order for e in [BINDERS[f](site)]]


# ---- helpers -----------------------------------------------------------------------------------
def _pair(site: Site, role: str) -> Expr:
    node = site.arg_node(role)
    e = site.arg(role)
    if node.type == "initializer_list" and len(cpp.named_children(node)) == 2:
        a, b = (cpp.text(x) for x in cpp.named_children(node))
        return Expr(f"{{{a}, {b}}}", "literal in the estimate call")
    return Expr(f"{{{e.text}[0], {e.text}[1]}}", e.provenance)


def _parallel_config(site: Site) -> Expr:
    mem = site.memory_config_of_shard_shape()
    pc = site.parallel_config_for(mem[0] if mem else None)
    if pc is None:
        seen = ", ".join(n.name for n in site.scope.of_type(names.PARALLEL_CONFIG_TYPE)) or "none"
        raise UnresolvedBinding(
            f"{site.path}:{site.line}: cannot tell which ParallelConfig produced the halo input shard shape "
            f"(ParallelConfig variables in scope: {seen})")
    return pc


def slice_dims_include_padding(site: Site) -> tuple[str, str] | None:
    """If the height passed to this site is a lambda parameter whose value, at the lambda's call,
    was computed with padding terms: (evidence, late padding adjustment or ''). Asked by threading,
    binding and the plan; worked out once per site."""
    if "padded_slice" not in site.cached:
        site.cached["padded_slice"] = _slice_dims_include_padding(site)
    return site.cached["padded_slice"]


def _slice_dims_include_padding(site: Site) -> tuple[str, str] | None:
    h = site.arg_node("input_height")
    if h.type != "identifier" or not site.scope.lambdas:
        return None
    lam = site.scope.lambdas[0]
    params = [p.name for p in cpp.parameters(lam)]
    if cpp.text(h) not in params:
        return None
    index = params.index(cpp.text(h))
    var = dataflow.lambda_variable(lam)
    fn = site.scope.function
    if not var or fn is None:
        return None
    for call in dataflow.calls_named(fn, var):
        args = cpp.arguments(call)
        if index >= len(args) or args[index].type != "identifier":
            continue
        passed = cpp.text(args[index])
        for stmt, _op, rhs in dataflow.assignments_to(fn, passed):
            pads = [i for i in dataflow.identifiers_in(rhs) if "pad" in i]
            if pads:
                evidence = f"{site.path}:{site.src.line(stmt)} `{_squash(site.src.text(stmt))}`"
                late = _late_padding(site, fn, stmt, site.arg_node("input_width"), call)
                return evidence, late
    return None


def _late_padding(site: Site, fn, dims_stmt, width_node, call) -> str:
    """A `pad_x += ...` between the slice-size computation and the lambda call."""
    for n in cpp.walk(fn):
        if (n.type == "assignment_expression" and dims_stmt.end_byte <= n.start_byte < call.start_byte
                and cpp.text(n.child_by_field_name("operator")) == "+="):
            left = n.child_by_field_name("left")
            if left is not None and "pad" in cpp.text(left):
                return f"`{_squash(site.src.text(n))}` ({site.path}:{site.src.line(n)})"
    return ""


def _squash(s: str) -> str:
    return " ".join(s.split())

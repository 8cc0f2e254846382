"""Where every SlidingWindowConfig field of a rewritten call site gets its value, and why.

One pure function per field (BINDERS, applied in the struct's declaration order) from the site's
facts (facts.py) to a `Bound` expression with its provenance and warnings, or a `Refusal` saying
why no expression can be trusted. Fields the halo op also leaves at their default (channels,
num_cores_c, output_pad_hw, the flags) are not bound, so the config built here is the one the
halo op is given at run time. Element access is spelled from each value's declared type
(`[0]` for std::array, `.first` for std::pair); a value whose type is unknown is never taken apart."""

from __future__ import annotations

from dataclasses import dataclass

from migrator.engine.cpptypes import element
from migrator.errors import UnresolvedBinding
from migrator.recipe import names
from migrator.recipe.facts import Arg, SiteFacts
from migrator.recipe.site import Expr


@dataclass(frozen=True)
class Binding:
    field: str
    expr: str
    provenance: str


@dataclass(frozen=True)
class Bound:
    expr: str
    provenance: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    reason: str


def bind_batch_size(f: SiteFacts) -> Bound:
    return _as_is(f.arg("batch_size"))


def bind_input_hw(f: SiteFacts) -> Bound:
    """The estimate's input height and width, or a DRAM slice's clamped extents (slice_geometry.py)."""
    if f.slice is not None and f.slice.exact_input_hw is not None:
        return _pair_of(f.slice.exact_input_hw)
    h, w = f.arg("input_height").value, f.arg("input_width").value
    return Bound(f"{{{h.text}, {w.text}}}",
                 h.provenance if h.provenance == w.provenance else f"{h.provenance}; {w.provenance}")


def bind_window_hw(f: SiteFacts) -> Bound | Refusal:
    return _pair(f.arg("kernel_size"))


def bind_stride_hw(f: SiteFacts) -> Bound | Refusal:
    """The convolution's real stride, chosen by where it comes from (site.stride_candidates) or
    threaded in; never {1, 1}."""
    if f.stride is None:
        return Refusal(f"{f.path}:{f.line}: no convolution stride in scope (threading should have supplied one)")
    return _pair_of(f.stride)


def bind_padding(f: SiteFacts) -> Bound:
    """The estimate's padding, unless the slice sizes this site receives already contain the
    slice's padding (DRAM slicing since 5702b2dcea): then the slice's own padding, passed into the
    lambda (slice_geometry.py). If that could not be done, the padded sizes with zero padding
    (right except for the tile-rounding right padding, which is warned about)."""
    if f.slice is None:
        return _as_is(f.arg("padding"))
    if f.slice.exact_padding is not None:
        return Bound(f.slice.exact_padding.text, f.slice.exact_padding.provenance)
    warnings = ()
    if f.slice.late_padding:
        warnings = (f"{f.path}:{f.line}: {f.slice.late_padding} is added to the slice's padding after the slice "
                    "width is computed; the rewritten size does not include it (verify quantifies the difference)",)
    return Bound("{0, 0, 0, 0}", f"slice sizes already include the slice padding: {f.slice.evidence}", warnings)


def bind_dilation_hw(f: SiteFacts) -> Bound | Refusal:
    return _pair(f.arg("dilation"))


def bind_num_cores_nhw(f: SiteFacts) -> Bound | Refusal:
    """ParallelConfig has no core count; tt-metal's helper derives it from the grid and layout."""
    if f.parallel_config is None:
        return _no_parallel_config(f)
    if f.num_cores_helper is None:
        return Refusal(f"{f.path}:{f.line}: {names.NUM_CORES_NHW_HELPER} does not exist in this checkout and "
                       "ParallelConfig has no core count")
    return Bound(f"{f.num_cores_helper}({f.parallel_config.text})", f.parallel_config.provenance)


def bind_core_range_set(f: SiteFacts) -> Bound | Refusal:
    if f.memory_config is not None:
        return Bound(f"{f.memory_config.text}.shard_spec().value().grid", f.memory_config.provenance)
    if f.parallel_config is None:
        return _no_parallel_config(f)
    return Bound(f"{f.parallel_config.text}.grid", f.parallel_config.provenance)


def bind_snap_to_tile(f: SiteFacts) -> Bound:
    return Bound("true", "the halo input of conv2d is always tile-snapped")


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


def bind(f: SiteFacts, struct_fields: list[str]) -> tuple[list[Binding], list[str]]:
    """Every field's binding in declaration order, and the warnings they carry; the first refusal
    stops the run (UnresolvedBinding)."""
    missing = [name for name in BINDERS if name not in struct_fields]
    if missing:
        raise UnresolvedBinding(f"{names.CONFIG_TYPE} in this checkout has no field(s) {', '.join(missing)}")
    bindings, warnings = [], []
    for name in (n for n in struct_fields if n in BINDERS):
        result = BINDERS[name](f)
        if isinstance(result, Refusal):
            raise UnresolvedBinding(result.reason)
        bindings.append(Binding(name, result.expr, result.provenance))
        warnings.extend(result.warnings)
    return bindings, warnings


# ---- spelling ------------------------------------------------------------------------------------
def _as_is(a: Arg) -> Bound:
    """A value assigned whole: the assignment converts it exactly as the call's parameter did."""
    return Bound(a.value.text, a.value.provenance)


def _pair(a: Arg) -> Bound | Refusal:
    if len(a.elements) == 2:
        return Bound("{" + ", ".join(a.elements) + "}", "literal in the estimate call")
    return _pair_of(a.value)


def _pair_of(e: Expr) -> Bound | Refusal:
    if not e.shape.is_vector(2):
        return Refusal(f"`{e.text}` ({e.provenance}): its type `{e.type_text or 'unknown'}` is not known to hold "
                       "two integers, so the tool will not guess how to read it")
    return Bound("{" + ", ".join(element(e.text, e.shape, i) for i in range(2)) + "}", e.provenance)


def _no_parallel_config(f: SiteFacts) -> Refusal:
    return Refusal(f"{f.path}:{f.line}: cannot tell which ParallelConfig produced the halo input shard shape "
                   f"(ParallelConfig variables in scope: {', '.join(f.parallel_configs_seen) or 'none'}), so the "
                   "halo's core count is unknown here; migrate this call by hand")

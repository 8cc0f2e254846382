"""What the halo op really sees for one DRAM slice, where the slice sizes a lambda receives already
contain the slice's padding (tt-metal 5702b2dcea … 7136cb56bb).

At the lambda's call the loop still holds the pieces: the clamped input extents (`end - start`) and
the slice padding variables, whose final values include the right padding added when the output
width is rounded up to a tile (added after the padded sizes were computed, so the sizes miss it).
Passing those two to the lambda makes the halo config exact, without changing any value the
existing code computes."""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter as ts

from migrator.engine import cpp, dataflow
from migrator.engine.edits import Edit
from migrator.engine.refactor import add_argument, add_parameter
from migrator.engine.scope import scope_at

INPUT_HW = "slice_input_hw"
PADDING = "slice_padding"
INPUT_HW_TYPE = "std::array<uint32_t, 2>"
PADDING_TYPE = "std::array<uint32_t, 4>"
SIDES = ("top", "bottom", "left", "right")


@dataclass
class SliceGeometry:
    lambda_name: str
    edits: list[tuple[str, Edit]] = field(default_factory=list)
    passed: list[tuple[int, str, str]] = field(default_factory=list)  # (line, input_hw text, padding text)


def _terms(node: ts.Node) -> list[ts.Node]:
    if node.type == "binary_expression" and cpp.text(node.child_by_field_name("operator")) == "+":
        return _terms(node.child_by_field_name("left")) + _terms(node.child_by_field_name("right"))
    return [node]


def _split_padded(rhs: ts.Node) -> tuple[str, list[str]] | None:
    """`(end - start) + pad_a + pad_b` -> ('end - start', ['pad_a', 'pad_b'])."""
    terms = _terms(rhs)
    pads = [cpp.text(t) for t in terms if t.type == "identifier" and "pad" in cpp.text(t)]
    rest = [t for t in terms if not (t.type == "identifier" and "pad" in cpp.text(t))]
    if len(pads) != 2 or len(rest) != 1:
        return None
    core = rest[0]
    if core.type == "parenthesized_expression" and cpp.named_children(core):
        core = cpp.named_children(core)[0]
    return " ".join(cpp.text(core).split()), pads


def plan_slice_geometry(site) -> SliceGeometry | None:
    """Edits that pass the exact slice extents and padding into the site's lambda, or None when the
    code does not have the expected shape (the caller then falls back and warns)."""
    if not site.scope.lambdas or site.scope.function is None:
        return None
    lam, fn = site.scope.lambdas[0], site.scope.function
    h, w = site.arg_node("input_height"), site.arg_node("input_width")
    params = [p.name for p in cpp.parameters(lam)]
    if h.type != "identifier" or w.type != "identifier" or cpp.text(h) not in params or cpp.text(w) not in params:
        return None
    if INPUT_HW in params or PADDING in params or INPUT_HW in site.scope or PADDING in site.scope:
        return None
    var = dataflow.lambda_variable(lam)
    calls = dataflow.calls_named(fn, var) if var else []
    if not calls:
        return None
    geo = SliceGeometry(var)
    hi, wi = params.index(cpp.text(h)), params.index(cpp.text(w))
    for call in calls:
        args = cpp.arguments(call)
        if len(args) != len(params) or args[hi].type != "identifier" or args[wi].type != "identifier":
            return None
        found = {}
        for axis, arg in (("h", args[hi]), ("w", args[wi])):
            stmts = [(s, rhs) for s, op, rhs in dataflow.assignments_to(fn, cpp.text(arg))
                     if op == "=" and rhs is not None and s.end_byte <= call.start_byte]
            if not stmts:
                return None
            stmt, rhs = stmts[-1]
            split = _split_padded(rhs)
            if split is None:
                return None
            found[axis] = (stmt, split)
        pads = {}
        for name in found["h"][1][1] + found["w"][1][1]:
            side = next((s for s in SIDES if s in name), None)
            if side is None or side in pads:
                return None
            pads[side] = name
        if set(pads) != set(SIDES):
            return None
        scope = scope_at(site.src, call)
        extents = [found["h"][1][0], found["w"][1][0]]
        needed = set(pads.values()) | {i for e in extents for i in dataflow.names_needed(e)}
        if any(n not in scope for n in needed):
            return None
        # The extents must still hold at the call what they held when the sizes were computed.
        last_dims = max(found["h"][0].end_byte, found["w"][0].end_byte)
        for ident in {i for e in extents for i in dataflow.names_needed(e)}:
            if any(last_dims <= s.start_byte < call.start_byte for s, _, _ in dataflow.assignments_to(fn, ident)):
                return None
        def as_u32(name: str) -> str:
            n = scope.get(name)
            return name if n is not None and "uint32_t" in n.type_text else f"static_cast<uint32_t>({name})"
        hw_text = "{" + ", ".join(extents) + "}"
        pad_text = "{" + ", ".join(as_u32(pads[s]) for s in SIDES) + "}"
        geo.edits.append((site.path, add_argument(site.src, call, len(args) - 1, hw_text, f"pass {INPUT_HW}")))
        geo.edits.append((site.path, add_argument(site.src, call, len(args) - 1 + 0, pad_text, f"pass {PADDING}")))
        geo.passed.append((site.src.line(call), hw_text, pad_text))
    # Beside the padded sizes the lambda already takes, each new parameter says what it holds.
    hw_note = f"without padding ({cpp.text(h)}/{cpp.text(w)} include it)"
    pad_note = "{top, bottom, left, right}, incl. a tile-rounded width's right padding"
    new_params = f"const {INPUT_HW_TYPE}& {INPUT_HW}"
    geo.edits.append((site.path, add_parameter(site.src, lam, len(params) - 1, new_params, f"add {INPUT_HW}",
                                               comment=hw_note)))
    geo.edits.append((site.path, add_parameter(site.src, lam, len(params) - 1,
                                               f"const {PADDING_TYPE}& {PADDING}", f"add {PADDING}",
                                               comment=pad_note)))
    return geo

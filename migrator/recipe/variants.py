"""Which formula a checkout's estimate_halo_output_elems body implements (V1, V2, V3 of the facts
document), so `verify` compares against the estimate the checkout really had.

Two ways, in order: a SHA-256 of the whitespace-normalized body of each upstream revision (only
hashes are kept here, never code), then the body's structure. An unrecognised body is "unknown";
it is never guessed."""

from __future__ import annotations

import hashlib
import re

import tree_sitter as ts

from migrator.engine import cpp
from migrator.engine.source import SourceFile

# sha256(normalized body) -> variant. Filled from the upstream revisions named in the facts doc.
# Computed from every revision of conv2d_utils.cpp that defines the estimate (45ecf0a728..e3f5442565).
KNOWN_BODIES: dict[str, str] = {
    "c8cd0692e66d8ca864925f512b4a13c1bb7fccca9fef5dea0185356907e58f34": "V3",  # dbbc742d10 … e3f5442565 (4 revisions)
    "f473ac840372d5eb860bca316f83269738c22b6b0ceae24c51b7eb93b2649eeb": "V2",  # 8e2c9f3c43 … f843883541 (15 revisions)
    "daaa5ac8a12f4c83c5bca3291a3cea49d965def7b216575568d1bef273163d66": "V2",  # 5702b2dcea … 1d0ca63400 (3 revisions)
    "34d9455bb5eca661cffc8a075876d193fbf7582ed20bd3ab9d6fce2e3b4cb82c": "V1",  # 45ecf0a728 (1 revisions)
}


def normalized_body(src: SourceFile, definition: ts.Node) -> str:
    body = definition.child_by_field_name("body")
    text = src.text(body)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"\s+", "", text)


def body_hash(src: SourceFile, definition: ts.Node) -> str:
    return hashlib.sha256(normalized_body(src, definition).encode()).hexdigest()


def identify_variant(src: SourceFile, definition: ts.Node) -> str:
    """'V1'/'V2'/'V3' for an upstream body; 'V3 (by structure)' etc. for a body that only has the
    shape of one; 'unknown' otherwise."""
    known = KNOWN_BODIES.get(body_hash(src, definition))
    if known:
        return known
    shaped = _by_structure(definition)
    return shaped if shaped == "unknown" else f"{shaped} (by structure)"


def _by_structure(definition: ts.Node) -> str:
    """V1: integer shard height; V2: float division for the shard height; V3: tt::div_up with a
    float divisor and a batch-size branch."""
    body = definition.child_by_field_name("body")
    if body is None:
        return "unknown"
    calls = {cpp.call_name(n) for n in cpp.walk(body) if n.type == "call_expression"}
    floats = any(
        (n.type == "primitive_type" and cpp.text(n) == "float") for n in cpp.walk(body)
    )
    uses_batch_branch = any(n.type == "conditional_expression" for n in cpp.walk(body)) or any(
        n.type == "if_statement" for n in cpp.walk(body))
    divides = any(n.type == "binary_expression" and cpp.text(n.child_by_field_name("operator")) == "/"
                  for n in cpp.walk(body))
    if "div_up" in calls and floats and uses_batch_branch:
        return "V3"
    if not divides or "div_up" in calls:
        return "unknown"  # every known formula divides the shard height by the width
    return "V2" if floats else "V1"

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
KNOWN_BODIES: dict[str, str] = {}


def normalized_body(src: SourceFile, definition: ts.Node) -> str:
    body = definition.child_by_field_name("body")
    text = src.text(body)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"\s+", "", text)


def body_hash(src: SourceFile, definition: ts.Node) -> str:
    return hashlib.sha256(normalized_body(src, definition).encode()).hexdigest()


def identify_variant(src: SourceFile, definition: ts.Node) -> str:
    known = KNOWN_BODIES.get(body_hash(src, definition))
    if known:
        return known
    return _by_structure(definition)


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
    if "div_up" in calls and floats and uses_batch_branch:
        return "V3"
    if floats and "div_up" not in calls:
        return "V2"
    if not floats and "div_up" not in calls:
        return "V1"
    return "unknown"

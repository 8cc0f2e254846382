"""What a declared C++ type lets an emitted expression do with a value: index it (`std::array`),
take `.first`/`.second` (`std::pair`), or nothing the recipe can rely on. The spelling of every
element access the tool writes is decided here, from the declared type, never from a name."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCALARS = {"uint32_t", "int", "int32_t", "uint64_t", "int64_t", "size_t", "std::size_t", "unsigned", "uint16_t",
           "unsigned int", "uint8_t", "bool", "float", "double"}


@dataclass(frozen=True)
class TypeShape:
    kind: str  # "array" | "pair" | "scalar" | "struct" | "unknown"
    size: int = 0  # elements of an array / pair
    element: str = ""  # element type text
    name: str = ""  # struct name (kind "struct")

    def is_vector(self, n: int = 2) -> bool:
        """An aggregate of n integers the tool knows how to take apart."""
        return self.kind in ("array", "pair") and self.size == n


UNKNOWN = TypeShape("unknown")


def strip_cv_ref(type_text: str) -> str:
    t = re.sub(r"\b(const|volatile|static|constexpr|inline|mutable|typename)\b", " ", type_text)
    t = t.replace("&", " ").strip()
    return re.sub(r"\s+", " ", t).replace("< ", "<").replace(" >", ">").strip()


def shape_of(type_text: str, aliases: dict[str, str] | None = None) -> TypeShape:
    """The shape of a declared type. `aliases` maps type aliases (`uint32_pair_t`) to what they name."""
    t = strip_cv_ref(type_text)
    if "*" in t:
        return UNKNOWN
    for _ in range(4):  # follow aliases of aliases, a few levels
        target = (aliases or {}).get(t) or (aliases or {}).get(t.rsplit("::", 1)[-1])
        if not target:
            break
        t = strip_cv_ref(target)
    m = re.fullmatch(r"(?:std::)?array<\s*([\w:]+)\s*,\s*(\d+)\s*>", t)
    if m:
        return TypeShape("array", int(m.group(2)), m.group(1))
    m = re.fullmatch(r"(?:std::)?pair<\s*([\w:]+)\s*,\s*([\w:]+)\s*>", t)
    if m and m.group(1) == m.group(2):
        return TypeShape("pair", 2, m.group(1))
    if t in SCALARS:
        return TypeShape("scalar", 1, t)
    if re.fullmatch(r"[A-Za-z_][\w:]*", t) and t != "auto":
        return TypeShape("struct", name=t.rsplit("::", 1)[-1])
    return UNKNOWN


def element(expr: str, shape: TypeShape, i: int) -> str:
    """`expr`'s i-th element, spelled as the type allows. `expr` must be a plain name or member
    access (the caller binds anything else to a local first)."""
    if shape.kind == "array":
        return f"{expr}[{i}]"
    if shape.kind == "pair":
        return f"{expr}.{('first', 'second')[i]}"
    raise ValueError(f"no element access for {shape}")


__all__ = ["TypeShape", "UNKNOWN", "shape_of", "element", "strip_cv_ref"]

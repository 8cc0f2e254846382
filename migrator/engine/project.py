"""Parsed files of a checkout, parsed once and only on demand, plus include resolution."""

from __future__ import annotations

import posixpath
import re

from migrator.engine.checkout import Checkout
from migrator.engine.source import SourceFile

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


class Project:
    def __init__(self, checkout: Checkout):
        self.checkout = checkout
        self._sources: dict[str, SourceFile] = {}
        self._mentions: dict[str, list[str]] = {}
        self._structs: dict[str, object] = {}

    def source(self, rel: str) -> SourceFile | None:
        if rel not in self._sources:
            data = self.checkout.read_or_none(rel)
            if data is None:
                return None
            self._sources[rel] = SourceFile.parse(rel, data)
        return self._sources[rel]

    def mentioning(self, name: str) -> list[SourceFile]:
        if name not in self._mentions:
            self._mentions[name] = self.checkout.files_mentioning(name)
        return [s for s in (self.source(p) for p in self._mentions[name]) if s is not None]

    def prefetch_structs(self, names) -> None:
        """Index the definitions of many struct names with one prefilter pass."""
        todo = sorted({n for n in names if n and n not in self._structs})
        if not todo:
            return
        from migrator.engine.scope import struct_definitions

        needles = [f"{kw} {n}" for n in todo for kw in ("struct", "class")]
        for n in todo:
            self._structs[n] = None
        for rel in self.checkout.files_mentioning(*needles):
            src = self.source(rel)
            if src is None:
                continue
            for sd in struct_definitions(src):
                if sd.name in self._structs and self._structs[sd.name] is None:
                    self._structs[sd.name] = sd

    def struct(self, name: str):
        """The definition of struct/class `name` anywhere in the checkout (first one found)."""
        if name not in self._structs:
            from migrator.engine.scope import struct_definitions

            self._structs[name] = None
            for src in self.mentioning(f"struct {name}") + self.mentioning(f"class {name}"):
                found = [sd for sd in struct_definitions(src) if sd.name == name]
                if found:
                    self._structs[name] = found[0]
                    break
        return self._structs[name]

    def includes(self, src: SourceFile) -> list[str]:
        """Quoted includes of `src` that resolve to files of the checkout (searched relative to the
        including file's directory and to each of its ancestor directories)."""
        out = []
        for m in _INCLUDE.finditer(src.data):
            target = m.group(1).decode("utf-8", "replace")
            base = posixpath.dirname(src.path)
            candidates = [posixpath.normpath(posixpath.join(base, target))]
            parts = base.split("/") if base else []
            for i in range(len(parts), -1, -1):
                candidates.append(posixpath.normpath(posixpath.join("/".join(parts[:i]), target)))
            for c in candidates:
                if not c.startswith("..") and self.checkout.exists(c):
                    out.append(c)
                    break
        return out

    def reaches(self, src: SourceFile, target: str, depth: int = 4) -> bool:
        """Whether `target` is included by `src`, directly or through up to `depth` headers."""
        seen, frontier = {src.path}, [src]
        for _ in range(depth):
            nxt = []
            for s in frontier:
                for inc in self.includes(s):
                    if inc == target:
                        return True
                    if inc not in seen:
                        seen.add(inc)
                        child = self.source(inc)
                        if child is not None:
                            nxt.append(child)
            frontier = nxt
        return False

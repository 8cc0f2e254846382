"""Parsed files of a checkout, parsed once and only on demand, plus include resolution."""

from __future__ import annotations

import posixpath
import re

from migrator.engine import cpp
from migrator.engine.checkout import Checkout
from migrator.engine.source import SourceFile

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*["<]([^">]+)[">]', re.M)


class Project:
    def __init__(self, checkout: Checkout):
        self.checkout = checkout
        self._sources: dict[str, SourceFile] = {}
        self._mentions: dict[str, list[str]] = {}
        self._visible_structs: dict[tuple[str, str, str], object] = {}
        self._defs_by_file: dict[str, dict] = {}
        self._includes: dict[str, list[str]] = {}
        self._raw: dict[str, bytes | None] = {}
        self._functions_by_file: dict[str, dict] = {}  # path -> name -> parameter lists
        self._signatures: dict[str, list] = {}  # name -> parameter lists in the files that mention it

    def source(self, rel: str) -> SourceFile | None:
        if rel not in self._sources:
            data = self.checkout.read_or_none(rel)
            if data is None:
                return None
            self._sources[rel] = SourceFile.parse(rel, data)
        return self._sources[rel]

    def prime(self, *names: str) -> None:
        """Look for many names in one pass over the tree (see Checkout.prime)."""
        self.checkout.prime(*names)

    def mentioning_paths(self, name: str) -> list[str]:
        if name not in self._mentions:
            self._mentions[name] = self.checkout.files_mentioning(name)
        return self._mentions[name]

    def mentioning(self, name: str) -> list[SourceFile]:
        """Parsed files whose text contains `name` (each parsed once, on first need). A file that
        mentions it but cannot be read stops the run: skipping it would leave a half migration."""
        out = []
        for path in self.mentioning_paths(name):
            src = self.source(path)
            if src is None:
                if not self.checkout.exists(path):
                    continue  # outside the checkout (warned) or gone
                from migrator.errors import BadPath

                raise BadPath(f"{path}: mentions {name} but cannot be read")
            out.append(src)
        return out

    def signatures(self, name: str, near: SourceFile) -> list:
        """Parameter lists (cpp.Param) of the functions named `name` that `near` declares or defines,
        else of those in the files that mention it: what a call of `name` in `near` may bind to."""
        own = self._functions_in(near).get(name)
        if own is not None:
            return own
        if name not in self._signatures:
            self._signatures[name] = [ps for src in self.mentioning(name) if src.path != near.path
                                      for ps in self._functions_in(src).get(name, [])]
        return self._signatures[name]

    def _functions_in(self, src: SourceFile) -> dict:
        """name -> parameter lists of every function declared or defined in `src` (parsed once)."""
        if src.path not in self._functions_by_file:
            found: dict = {}
            for n in cpp.walk(src.root):
                if n.type in ("function_definition", "declaration") and cpp.function_declarator(n) is not None:
                    found.setdefault(cpp.last_name(cpp.function_name(n)), []).append(cpp.parameters(n))
            self._functions_by_file[src.path] = found
        return self._functions_by_file[src.path]

    def struct_visible_from(self, src: SourceFile, name: str, depth: int = 2, mentioning: str = ""):
        """Definition of struct `name` in `src` or the headers it includes (as the compiler sees it).
        Headers are followed by their text; only one that spells `struct name`/`class name` (and
        `mentioning`, when the caller only cares about a struct with that member) is parsed."""
        key = (src.path, name, mentioning)
        if key in self._visible_structs:
            return self._visible_structs[key]
        from migrator.engine.scope import struct_definitions

        spelled = re.compile(rb"\b(?:struct|class)\s+" + re.escape(name.encode()) + rb"\b")
        found = None
        for path, data, _level in self._include_closure(src, depth):
            if spelled.search(data) and (not mentioning or mentioning.encode() in data):
                parsed = self.source(path)
                if parsed is not None:
                    if path not in self._defs_by_file:
                        self._defs_by_file[path] = {sd.name: sd for sd in reversed(struct_definitions(parsed))}
                    found = self._defs_by_file[path].get(name)
                    if found is not None:
                        break
        self._visible_structs[key] = found
        return found

    def raw(self, path: str) -> bytes | None:
        """A file's bytes, read once (parsed files reuse the parse's bytes)."""
        if path in self._sources:
            return self._sources[path].data
        if path not in self._raw:
            self._raw[path] = self.checkout.read_or_none(path)
        return self._raw[path]

    def includes_of(self, path: str, data: bytes) -> list[str]:
        """Includes of the file at `path` that resolve to files of the checkout (searched relative
        to the including file's directory and to each of its ancestor directories)."""
        if path in self._includes:
            return self._includes[path]
        out = []
        for m in _INCLUDE.finditer(data):
            target = m.group(1).decode("utf-8", "replace")
            base = posixpath.dirname(path)
            candidates = [posixpath.normpath(posixpath.join(base, target))]
            parts = base.split("/") if base else []
            for i in range(len(parts), -1, -1):
                candidates.append(posixpath.normpath(posixpath.join("/".join(parts[:i]), target)))
            for c in candidates:
                if not c.startswith("..") and self.checkout.has_cpp_file(c):
                    out.append(c)
                    break
        self._includes[path] = out
        return out

    def reaches(self, src: SourceFile, target: str, depth: int = 4) -> bool:
        """Whether `target` is included by `src`, directly or through up to `depth` headers."""
        return any(path == target for path, _data, level in self._include_closure(src, depth) if level)

    def _include_closure(self, src: SourceFile, depth: int):
        """(path, bytes, level) for `src` (level 0) and the files it includes, breadth first, up to
        `depth` levels of includes. Headers are read, not parsed."""
        seen, frontier = {src.path}, [(src.path, src.data)]
        for level in range(depth + 1):
            nxt = []
            for path, data in frontier:
                yield path, data, level
                if level == depth:
                    continue
                for inc in self.includes_of(path, data):
                    if inc not in seen:
                        seen.add(inc)
                        raw = self.raw(inc)
                        if raw is not None:
                            nxt.append((inc, raw))
            if not nxt:
                return
            frontier = nxt

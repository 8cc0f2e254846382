"""Results of the path check, kept between runs and keyed by everything they depend on.

The path check evaluates the migrated C++ on every call path for thousands of conv specs; on a
real tree that takes seconds of CPU.  Its result is a pure function of: the bytes of every C++
file it reads, the specs, grids and layouts, the old estimate's variant, where the migration's
edits landed, the evaluation budget, and the tool's own code.  The key is a SHA-256 over all of
them, so any change to any of them (one byte of a source file, one spec, one line of the
evaluator) is a miss and the check runs again; a hit returns exactly what that run returned.

The entries live in ``path-check/`` of the tool's cache directory (:mod:`migrator.verify.kept`),
beside the parsed sweep files."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

from migrator.verify import kept

FORMAT = 1


@lru_cache(maxsize=1)
def _tool_digest() -> str:
    """The tool's own code: every Python file of the installed package, by content."""
    import migrator

    h = hashlib.sha256(migrator.__version__.encode())
    root = Path(migrator.__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def key(sources, specs, grids, layouts, variant_code, edited, budget) -> str:
    h = hashlib.sha256(f"format {FORMAT}\0{_tool_digest()}\0".encode())
    for s in sorted(sources, key=lambda s: s.path):
        h.update(s.path.encode() + b"\0" + hashlib.sha256(s.data).digest())
    h.update(json.dumps([[sp.as_list() for sp in specs], list(grids), list(layouts), variant_code,
                         {k: sorted(v) for k, v in sorted((edited or {}).items())}, budget]).encode())
    return h.hexdigest()


KIND = "path-check"


def load(k: str) -> Optional[List[dict]]:
    doc = kept.read(KIND, f"{k}.json")
    return doc.get("summaries") if isinstance(doc, dict) and doc.get("key") == k else None


def store(k: str, summaries: List[dict]) -> None:
    kept.write(KIND, f"{k}.json", {"key": k, "summaries": summaries})

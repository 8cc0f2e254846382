"""Results of the path check, kept between runs and keyed by everything they depend on.

The path check evaluates the migrated C++ on every call path for thousands of conv specs; on a
real tree that takes seconds of CPU.  Its result is a pure function of: the bytes of every C++
file it reads, the specs, grids and layouts, the old estimate's variant, where the migration's
edits landed, the evaluation budget, and the tool's own code.  The key is a SHA-256 over all of
them, so any change to any of them (one byte of a source file, one spec, one line of the
evaluator) is a miss and the check runs again; a hit returns exactly what that run returned.

The entries live in ``path-check/`` of the tool's cache directory, beside the parsed sweep files
(``HALO_MIGRATE_CACHE_DIR``; an empty value turns both off).  Nothing is written into the checkout; an unreadable entry is ignored."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

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


def _dir() -> Optional[Path]:
    from migrator.verify.specs import cache_root

    d = cache_root()
    return None if d is None else d / "path-check"


def load(k: str) -> Optional[List[dict]]:
    d = _dir()
    if d is None:
        return None
    try:
        doc = json.loads((d / f"{k}.json").read_text(encoding="utf-8"))
        return doc["summaries"] if doc.get("key") == k else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(k: str, summaries: List[dict]) -> None:
    from migrator.engine.deliver.writer import write_atomic

    d = _dir()
    if d is None:
        return
    try:
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / f"{k}.json", json.dumps({"key": k, "summaries": summaries}).encode(), sync=False)
    except (OSError, TypeError, ValueError):
        pass  # a cache that cannot be written only costs time

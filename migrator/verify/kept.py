"""What the check keeps between runs: one cache directory, JSON entries in its subdirectories.

``HALO_MIGRATE_CACHE_DIR`` moves it (an empty value turns keeping off), else it is
``$XDG_CACHE_HOME/halo-migrate`` (``~/.cache/halo-migrate``).  Nothing is ever written into a
checkout.  An entry that is missing, unreadable or not JSON reads as None; one that cannot be
written is skipped: a cache only ever costs or saves time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional


def cache_root() -> Optional[Path]:
    env = os.environ.get("HALO_MIGRATE_CACHE_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "halo-migrate"


def read(kind: str, name: str) -> Optional[Any]:
    """The JSON document kept as ``kind/name``, or None."""
    root = cache_root()
    if root is None:
        return None
    try:
        return json.loads((root / kind / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(kind: str, name: str, doc: Any) -> None:
    from migrator.engine.deliver.writer import write_atomic

    root = cache_root()
    if root is None:
        return
    try:
        data = json.dumps(doc).encode()
        (root / kind).mkdir(parents=True, exist_ok=True)
        write_atomic(root / kind / name, data, sync=False)
    except (OSError, TypeError, ValueError):
        pass

"""Golden before → after for every fixture case.

`python tests/golden.py` regenerates fixtures/<case>/after/ from before/ (review the diff before
committing); the tests compare against what is committed."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migrator.engine.checkout import Checkout  # noqa: E402
from migrator.engine.project import Project  # noqa: E402
from migrator.recipe.plan import build_plan  # noqa: E402


def migrate_in_memory(root: Path, with_test: bool = False) -> dict[str, bytes]:
    """Only the files the migration changes or adds, with their new bytes (no clang-format)."""
    return build_plan(Project(Checkout.open(root)), with_test=with_test).new_contents


def regenerate() -> None:
    for case in sorted((REPO / "fixtures").iterdir()):
        meta_file = case / "case.json"
        if not meta_file.is_file():
            continue
        meta = json.loads(meta_file.read_text())
        after = case / "after"
        if after.exists():
            shutil.rmtree(after)
        if meta["expect"] != "migrate":
            continue
        for rel, data in migrate_in_memory(case / "before", meta.get("with_test", False)).items():
            out = after / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        print(f"{case.name}: regenerated")


if __name__ == "__main__":
    regenerate()

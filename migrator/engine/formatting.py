"""clang-format on the changed line ranges only, with the checkout's own .clang-format.

Lines the migration did not touch stay byte-identical. A missing clang-format or config is a
warning, never silent: the unformatted (but compiling) result is delivered instead."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

from migrator.engine.checkout import CPP_SUFFIXES



def clang_format_binary() -> str | None:
    try:
        import clang_format  # PyPI wheel, pinned close to tt-metal's pre-commit v19.1.4

        exe = Path(clang_format.__file__).parent / "data" / "bin" / "clang-format"
        if exe.exists():
            return str(exe)
    except ImportError:
        pass
    return shutil.which("clang-format")


def pinned_version(root: Path) -> str | None:
    """The clang-format version the checkout's pre-commit config pins (mirrors-clang-format rev)."""
    cfg = root / ".pre-commit-config.yaml"
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r"mirrors-clang-format\s*\n\s*rev:\s*['\"]?v?([0-9][0-9.]*)", text)
    return m.group(1) if m else None


def binary_version(exe: str) -> str | None:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"version\s+([0-9][0-9.]*)", out)
    return m.group(1) if m else None


def changed_line_ranges(old: bytes, new: bytes) -> list[tuple[int, int]]:
    """1-based inclusive line ranges of `new` that differ from `old`."""
    a = old.decode("utf-8", "surrogateescape").splitlines()
    b = new.decode("utf-8", "surrogateescape").splitlines()
    ranges = []
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert") and j2 > j1:
            ranges.append((j1 + 1, j2))
    return ranges


def format_changed_lines(root: Path, originals: dict[str, bytes], new: dict[str, bytes]):
    notes: list[str] = []
    config = root / ".clang-format"
    if not config.is_file():
        return new, ["no .clang-format in the checkout; changed lines left as rendered"]
    exe = clang_format_binary()
    if exe is None:
        return new, ["clang-format not found (pip install clang-format==19.1.4); changed lines left as rendered"]
    pinned, have = pinned_version(root), binary_version(exe)
    if pinned and have and pinned.split(".")[0] != have.split(".")[0]:
        notes.append(f"the checkout pins clang-format {pinned} but {have} is installed; formatting may differ "
                     "from the checkout's pre-commit hook")
    out = dict(new)
    for path, data in new.items():
        if not path.endswith(CPP_SUFFIXES):
            continue
        ranges = changed_line_ranges(originals[path], data)
        if not ranges:
            continue
        args = [exe, f"--style=file:{config}", f"--assume-filename={root / path}"]
        args += [f"--lines={a}:{b}" for a, b in ranges]
        try:
            res = subprocess.run(args, input=data, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            notes.append(f"clang-format failed on {path} ({exc}); left as rendered")
            continue
        if res.returncode != 0:
            notes.append(f"clang-format failed on {path}: {res.stderr.decode(errors='replace').strip()[:200]}")
            continue
        out[path] = res.stdout
    return out, notes

"""Write new contents into the tree all-or-nothing.

Before the first file is replaced, a journal holding every original is written and synced. Each
file is then replaced by rename (never truncated in place). If the process dies mid-way, the
journal is still there and `recover()` — run by the next command, or `apply --recover` — puts the
originals back, so the tree is always either fully old or fully new.

`write_atomic` is the one way the tool writes a file (tree files, the journal, a patch, cache entries):
a temp file beside the target, synced, renamed over it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path

from migrator import PROG
from migrator.errors import DirtyFiles, PostconditionFailed, RecoveryNeeded, UnsafePath

JOURNAL = f"{PROG}.journal"
TMP_SUFFIX = f".{PROG}.tmp"


def journal_path(root: Path) -> Path:
    from migrator.engine.deliver.lock import private_dir

    git_dir = private_dir(root)
    return (git_dir if git_dir is not None else root) / JOURNAL


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes, mode: int | None = None, sync: bool = True) -> None:
    """`target` holds `data` whole or is untouched: a temp file beside it (unique, named
    `.NAME.*{TMP_SUFFIX}`), synced, given `mode` (default: the target's, or 0o666 minus the umask for a
    new file), renamed over it. The temp file is removed on failure; a kill leaves it for `recover`."""
    target = Path(target)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _leftovers(p: Path) -> list[Path]:
    return list(p.parent.glob(f".{p.name}.*{TMP_SUFFIX}")) if p.parent.is_dir() else []


def _checked(root: Path, rel: str) -> Path:
    p = root / rel
    real = p.resolve()
    if root not in real.parents:
        raise UnsafePath(f"{rel}: resolves outside the checkout")
    if p.is_symlink():
        raise UnsafePath(f"{rel}: is a symlink; refusing to replace it")
    return p


def write_all(root: Path, originals: dict[str, bytes], new: dict[str, bytes], created=frozenset()) -> None:
    """Replace every file in `new`; `originals` must still be what is on disk. Paths in `created`
    must not exist yet (an interrupted run removes them again). Returns only once every file has
    been read back from disk and is exactly what was written (the caller holds the checkout lock,
    see lock.py)."""
    recover(root)
    paths = {rel: _checked(root, rel) for rel in new}
    for rel, p in paths.items():
        if rel in created:
            if p.exists() or p.is_symlink():
                raise DirtyFiles(f"{rel} appeared on disk since it was planned; run again")
            if not p.parent.is_dir() or not os.access(p.parent, os.W_OK):
                raise DirtyFiles(f"{rel}: its directory is not writable; nothing written")
            continue
        if p.read_bytes() != originals[rel]:
            raise DirtyFiles(f"{rel} changed on disk since it was read; run again")
        if not os.access(p, os.W_OK) or not os.access(p.parent, os.W_OK):
            raise DirtyFiles(f"{rel}: not writable; nothing written")
    journal = journal_path(root)
    record = {rel: {"original": base64.b64encode(originals[rel]).decode(),
                    "new_sha256": hashlib.sha256(new[rel]).hexdigest(),
                    **({"created": True} if rel in created else {})} for rel in new}
    write_atomic(journal, json.dumps({"files": record}).encode("utf-8"))
    _fsync_dir(journal.parent)
    for rel in sorted(new):
        write_atomic(paths[rel], new[rel])
    for p in {p.parent for p in paths.values()}:
        _fsync_dir(p)
    journal.unlink()
    _fsync_dir(journal.parent)
    not_new = [rel for rel, p in sorted(paths.items()) if _read_or_none(p) != new[rel]]
    if not_new:
        raise PostconditionFailed(f"{', '.join(not_new)}: not what was written once the apply finished "
                                  "(changed by something else meanwhile); check the tree")


def _read_or_none(p: Path) -> bytes | None:
    try:
        return p.read_bytes()
    except OSError:
        return None


def recover(root: Path) -> list[str]:
    """Undo an interrupted write_all: restore every original listed in the journal. Call it only
    while holding the checkout lock: a journal then belongs to a run that died."""
    journal = journal_path(root)
    for stale in _leftovers(journal):
        stale.unlink()  # the journal was never completed, so no file was touched
    if not journal.exists():
        return []
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError) as exc:
        raise RecoveryNeeded(f"{journal}: unreadable journal ({exc}); inspect it by hand") from None
    restored = []
    for rel, entry in sorted(record.items()):
        p = _checked(root, rel)
        original = base64.b64decode(entry["original"])
        if entry.get("created"):  # new file: remove it, unless someone else wrote something else there since
            if p.is_file() and not p.is_symlink() and \
                    hashlib.sha256(p.read_bytes()).hexdigest() == entry.get("new_sha256"):
                p.unlink()
                restored.append(rel)
        elif not p.exists() or p.read_bytes() != original:
            write_atomic(p, original)
            restored.append(rel)
        for leftover in _leftovers(p):
            leftover.unlink()
    journal.unlink()
    _fsync_dir(journal.parent)
    return restored

"""Write new contents into the tree all-or-nothing.

Before the first file is replaced, a journal holding every original is written and synced. Each
file is then replaced by rename (never truncated in place). If the process dies mid-way, the
journal is still there and `recover()` — run by the next command, or `apply --recover` — puts the
originals back, so the tree is always either fully old or fully new."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from migrator.errors import DirtyFiles, PostconditionFailed, RecoveryNeeded, UnsafePath

JOURNAL = "halo-migrate.journal"


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


def _write_atomic(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.halo-migrate.tmp")
    mode = target.stat().st_mode if target.exists() else 0o644
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode & 0o7777)
    os.replace(tmp, target)


def _checked(root: Path, rel: str) -> Path:
    p = root / rel
    real = p.resolve()
    if root not in real.parents:
        raise UnsafePath(f"{rel}: resolves outside the checkout")
    if p.is_symlink():
        raise UnsafePath(f"{rel}: is a symlink; refusing to replace it")
    return p


def write_all(root: Path, originals: dict[str, bytes], new: dict[str, bytes], _crash_after: int | None = None,
              created=frozenset()) -> None:
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
    tmp = journal.with_name(journal.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"files": record}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, journal)
    _fsync_dir(journal.parent)
    for i, rel in enumerate(sorted(new)):
        if _crash_after is not None and i == _crash_after:
            os.kill(os.getpid(), 9)  # test hook: die between two writes
        _write_atomic(paths[rel], new[rel])
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
    stale = journal.with_name(journal.name + ".tmp")
    if stale.exists():
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
            _write_atomic(p, original)
            restored.append(rel)
        leftover = p.with_name(f".{p.name}.halo-migrate.tmp")
        if leftover.exists():
            leftover.unlink()
    journal.unlink()
    _fsync_dir(journal.parent)
    return restored

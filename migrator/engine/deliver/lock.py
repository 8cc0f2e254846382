"""One run at a time per checkout.

Every command that reads or writes a checkout holds an exclusive lock on it (`filelock`: an OS
file lock, released by the kernel when the process dies, so a killed run never leaves the
checkout locked). The lock file lives in the checkout's private git directory (`.git/` or, for a
linked worktree, the directory `.git` points to), never as a file in the work tree; a tree that
is not a git repository is locked through a file in the temp directory named after its path.

While one run holds the lock, a second one waits a little (`HALO_MIGRATE_LOCK_TIMEOUT`, seconds,
default 10) and then refuses with one line. So recovery of an interrupted apply (which runs under
the lock) can never undo the writes of a run that is still alive."""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from migrator import PROG
from migrator.errors import CheckoutBusy

LOCK_NAME = f"{PROG}.lock"
DEFAULT_TIMEOUT = 10.0


def private_dir(root: Path) -> Path | None:
    """The checkout's own git directory (`.git/`, or where a `.git` file points), or None."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        try:
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        if text.startswith("gitdir:"):
            target = Path(text[len("gitdir:"):].strip())
            target = target if target.is_absolute() else (root / target)
            if target.is_dir():
                return target.resolve()
    return None


def lock_path(root: Path) -> Path:
    git_dir = private_dir(root)
    if git_dir is not None and os.access(git_dir, os.W_OK):
        return git_dir / LOCK_NAME
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"{PROG}-{digest}.lock"


def timeout_from_env() -> float:
    raw = os.environ.get("HALO_MIGRATE_LOCK_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT
    return max(0.0, value)


@contextmanager
def checkout_lock(root: Path, timeout: float | None = None):
    """Hold the checkout's lock for the block; CheckoutBusy (one line) if another run keeps it."""
    from filelock import FileLock, Timeout

    path = lock_path(root)
    wait = timeout_from_env() if timeout is None else timeout
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise CheckoutBusy(f"{root}: another {PROG} run is working on this checkout (waited {wait:g} s "
                           f"for {path}); try again when it has finished") from None
    except OSError as exc:
        raise CheckoutBusy(f"{root}: cannot take the lock {path} ({exc.strerror or exc})") from None
    try:
        yield path
    finally:
        lock.release()

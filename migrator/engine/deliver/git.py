"""Git through GitPython with argument lists only. Hooks and fsmonitor are disabled for every
call, so a checkout's configuration cannot make this tool run a program."""

from __future__ import annotations

import os
import tempfile

from migrator.engine.checkout import SAFE_GIT
from migrator.errors import BranchExists, DirtyFiles, GitFailure, NotGitRepo

_ENV = {"GIT_TERMINAL_PROMPT": "0"}


def open_repo(root):
    import git

    if not (os.path.exists(os.path.join(root, ".git"))):
        raise NotGitRepo(f"{root}: not a git repository (needed for --branch)")
    try:
        return git.Repo(root)
    except Exception as exc:  # noqa: BLE001 - any GitPython failure is one line for the user
        raise GitFailure(f"{root}: {exc.__class__.__name__}: {exc}") from None


def run(repo, *args, env=None, binary: bool = False):
    """`git ARGS` in the repository, with the same hook/fsmonitor guard as every scan (SAFE_GIT)."""
    import git

    try:
        return repo.git.execute([*SAFE_GIT, *args], env={**_ENV, **(env or {})}, with_extended_output=False,
                                strip_newline_in_stdout=False, stdout_as_string=not binary)
    except git.GitCommandError as exc:
        raise GitFailure(f"git {args[0]}: {str(exc.stderr).strip() or exc}") from None


def has_head(repo) -> bool:
    try:
        run(repo, "rev-parse", "--verify", "-q", "HEAD")
        return True
    except GitFailure:
        return False


def require_commits(root) -> None:
    _require_head(open_repo(root), root)


def _require_head(repo, root) -> None:
    if not has_head(repo):
        raise GitFailure(f"{root}: the repository has no commits yet; nothing to branch from")


def dirty_paths(root, paths: list[str]) -> list[str]:
    """Paths among `paths` whose working-tree or index content differs from HEAD, or untracked.

    Compared byte for byte against HEAD's blobs (`cat-file`) and the index (`diff-index --cached`)
    rather than with `git status`: status may run a clean/smudge filter configured in the
    checkout's own .git/config, i.e. a program chosen by whoever made the checkout."""
    if not os.path.exists(os.path.join(root, ".git")) or not paths:
        return []
    repo = open_repo(root)
    if not has_head(repo):
        return sorted(paths)
    dirty = set()
    staged = run(repo, "diff-index", "--cached", "--name-only", "-z", "HEAD", "--", *paths)
    dirty.update(p for p in staged.split("\0") if p)
    for path in paths:
        try:
            head_blob = _head_blob(repo, path)
        except GitFailure:
            dirty.add(path)  # not in HEAD: untracked or new
            continue
        try:
            with open(os.path.join(root, path), "rb") as fh:
                if fh.read() != head_blob:
                    dirty.add(path)
        except OSError:
            dirty.add(path)
    return sorted(dirty)


def _head_blob(repo, path: str) -> bytes:
    return run(repo, "cat-file", "blob", f"HEAD:{path}", binary=True)


def author(root) -> str:
    try:
        repo = open_repo(root)
        name = run(repo, "config", "user.name").strip()
        mail = run(repo, "config", "user.email").strip()
        if name and mail:
            return f"{name} <{mail}>"
    except Exception:  # noqa: BLE001 - fall back to the tool's own identity
        pass
    return "halo-migrate <halo-migrate@users.noreply.github.com>"


def create_branch(root, name: str, new_contents: dict[str, bytes], message: str, force: bool = False) -> str:
    """One commit on top of HEAD holding `new_contents`, on branch `name`, built in a temporary
    index: HEAD, the real index and the working tree are not touched."""
    repo = open_repo(root)
    _require_head(repo, root)
    try:
        run(repo, "check-ref-format", "--branch", name)
    except GitFailure:
        raise GitFailure(f"'{name}' is not a valid branch name") from None
    exists = True
    try:
        run(repo, "rev-parse", "--verify", "-q", f"refs/heads/{name}")
    except GitFailure:
        exists = False
    if exists and not force:
        raise BranchExists(f"branch '{name}' already exists (use --force to replace it)")
    if exists and _current_branch(repo) == f"refs/heads/{name}":
        raise BranchExists(f"branch '{name}' is checked out; refusing to move it under the working tree")
    with tempfile.TemporaryDirectory(prefix="halo-migrate-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        run(repo, "read-tree", "HEAD", env=env)
        for path, data in sorted(new_contents.items()):
            blob_file = os.path.join(tmp, "blob")
            with open(blob_file, "wb") as fh:
                fh.write(data)
            sha = run(repo, "hash-object", "-w", "--no-filters", blob_file).strip()
            mode = _mode_in_head(repo, path)
            run(repo, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", env=env)
        tree = run(repo, "write-tree", env=env).strip()
        msg_file = os.path.join(tmp, "msg")
        with open(msg_file, "w", encoding="utf-8") as fh:
            fh.write(message)
        commit = run(repo, "commit-tree", tree, "-p", "HEAD", "-F", msg_file).strip()
    run(repo, "update-ref", "-m", "halo-migrate", f"refs/heads/{name}", commit)
    return commit


def _current_branch(repo) -> str:
    """The checked-out branch's ref, or "" on a detached HEAD."""
    try:
        return run(repo, "symbolic-ref", "-q", "HEAD").strip()
    except GitFailure:
        return ""


def _mode_in_head(repo, path: str) -> str:
    out = run(repo, "ls-tree", "HEAD", "--", path).strip()
    return out.split()[0] if out else "100644"


__all__ = ["BranchExists", "DirtyFiles", "create_branch", "dirty_paths", "author"]

"""Delivery through git: commits built in a temporary index (GitPython's object database), patches and
branches. Every git process goes through :mod:`migrator.engine.gitcmd` (argument lists, hooks and
fsmonitor disabled), so a checkout's configuration cannot make this tool run a program."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile

from migrator import PROG
from migrator.engine.gitcmd import run_git
from migrator.errors import BranchExists, DirtyFiles, GitFailure, NotGitRepo


def open_repo(root):
    import git

    if not (os.path.exists(os.path.join(root, ".git"))):
        raise NotGitRepo(f"{root}: not a git repository (needed for --branch)")
    try:
        return git.Repo(root)
    except Exception as exc:  # noqa: BLE001 - any GitPython failure is one line for the user
        raise GitFailure(f"{root}: {exc.__class__.__name__}: {exc}") from None


def run(repo, *args, env=None, binary: bool = False):
    """`git ARGS` in the repository (gitcmd.run_git); a failure is one GitFailure line."""
    verb = next((a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-c")), "")
    try:
        res = run_git(repo.working_dir or repo.git_dir, *args, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitFailure(f"git {verb}: {exc}") from None
    if res.returncode != 0:
        detail = " ".join(res.stderr.decode("utf-8", "replace").split()) or f"exit status {res.returncode}"
        raise GitFailure(f"git {verb}: {detail[:300]}")
    return res.stdout if binary else res.stdout.decode("utf-8", "surrogateescape")


def has_head(repo) -> bool:
    return repo.head.is_valid()


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
    """HEAD's bytes of `path` (GitPython's object database; no filter runs)."""
    try:
        obj = repo.head.commit.tree[path]
    except (KeyError, ValueError):
        raise GitFailure(f"{path}: not in HEAD") from None
    if obj.type != "blob":
        raise GitFailure(f"{path}: not a file in HEAD")
    return obj.data_stream.read()


FALLBACK_NAME = PROG
FALLBACK_EMAIL = f"{PROG}@users.noreply.github.com"


def identity(repo):
    """(author, committer, note): the identity git itself would commit with (environment, then the
    checkout's and the user's config, as `git var` resolves them). Where git has none (a fresh
    machine, most CI runners), a clearly named fallback and a one-line note saying so."""
    from git import Actor

    actors = []
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        try:
            m = _IDENT.match(run(repo, "var", var).strip())
        except GitFailure:
            m = None
        if m is None:
            note = (f"no git identity configured (user.name/user.email); committing as "
                    f"{FALLBACK_NAME} <{FALLBACK_EMAIL}>")
            return Actor(FALLBACK_NAME, FALLBACK_EMAIL), Actor(FALLBACK_NAME, FALLBACK_EMAIL), note
        actors.append(Actor(m.group(1), m.group(2)))
    return actors[0], actors[1], None


_IDENT = re.compile(r"^(.*?) <([^<>]*)> \d+ [+-]\d{4}$")


def _blob_sha(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()


def _commit(repo, parent, contents: dict[str, bytes], message: str, author, committer):
    """A commit whose tree is `parent`'s (or empty) with `contents` replacing/adding files, built in a
    temporary index (GitPython's in-memory IndexFile, written to a temp file for `git write-tree`,
    which writes only the trees that are new). The real index and the work tree are not touched;
    no ref is moved."""
    from io import BytesIO

    from git import Commit, Tree
    from git.index import IndexFile
    from git.index.typ import BaseIndexEntry, IndexEntry
    from gitdb.base import IStream

    with tempfile.TemporaryDirectory(prefix=f"{PROG}-") as tmp:
        index_file = os.path.join(tmp, "index")
        if parent is not None:
            index = IndexFile.new(repo, parent.tree)
        else:
            index = IndexFile(repo, index_file)
            index.entries = {}
        for path, data in sorted(contents.items()):
            binsha = repo.odb.store(IStream("blob", len(data), BytesIO(data))).binsha
            old = index.entries.get((path, 0))
            mode = old.mode if old is not None else 0o100644
            index.entries[(path, 0)] = IndexEntry.from_base(BaseIndexEntry((mode, binsha, 0, path)))
        index.write(index_file, ignore_extension_data=True)
        tree = run(repo, "write-tree", env={"GIT_INDEX_FILE": index_file}).strip()
    return Commit.create_from_tree(repo, Tree(repo, bytes.fromhex(tree)), message,
                                   parent_commits=[parent] if parent is not None else [], head=False,
                                   author=author, committer=committer)


def _head_commit(repo):
    return repo.head.commit if has_head(repo) else None


def _base_commit(repo, originals: dict[str, bytes], author, committer):
    """HEAD when it holds `originals`; otherwise a commit on HEAD (or a root commit) holding them,
    so a patch is always exactly `originals` -> new."""
    head = _head_commit(repo)
    if head is not None:
        from git.index import IndexFile

        entries = IndexFile.new(repo, head.tree).entries
        if all((p, 0) in entries and entries[(p, 0)].binsha == _blob_sha(d) for p, d in originals.items()):
            return head
    return _commit(repo, head, originals, f"{PROG}: the files as they were read\n", author, committer)


def mailbox_patch(root, is_git: bool, originals: dict[str, bytes], new: dict[str, bytes], message: str,
                  signature: str, created=frozenset()) -> tuple[bytes, str | None]:
    """(`git format-patch` of the migration commit, identity note). In a git checkout the commit is
    built on HEAD (unreferenced; `git gc` drops it); elsewhere in a throwaway repository. Paths in
    `created` are new files (absent from the base)."""
    originals = {p: d for p, d in originals.items() if p not in created}
    if is_git:
        return _format_patch(open_repo(root), originals, new, message, signature)
    import git

    with tempfile.TemporaryDirectory(prefix=f"{PROG}-patch-") as tmp:
        try:
            repo = git.Repo.init(tmp, bare=True)
        except Exception as exc:  # noqa: BLE001
            raise GitFailure(f"cannot create a temporary repository for the patch ({exc.__class__.__name__})") from None
        try:
            return _format_patch(repo, originals, new, message, signature)
        finally:
            repo.close()


def _format_patch(repo, originals, new, message, signature):
    author, committer, note = identity(repo)
    base = _base_commit(repo, {p: originals[p] for p in new if p in originals}, author, committer)
    commit = _commit(repo, base, new, message, author, committer)
    text = run(repo, "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "format-patch", "--stdout",
               f"--signature={signature}", f"{base.hexsha}..{commit.hexsha}", binary=True)
    return text, note


def create_branch(root, name: str, new_contents: dict[str, bytes], message: str,
                  force: bool = False) -> tuple[str, str | None]:
    """(sha, identity note): one commit on top of HEAD holding `new_contents`, on branch `name`,
    built in a temporary index: HEAD, the real index and the working tree are not touched."""
    from git import Head

    repo = open_repo(root)
    _require_head(repo, root)
    try:
        run(repo, "check-ref-format", "--branch", name)
    except GitFailure:
        raise GitFailure(f"'{name}' is not a valid branch name") from None
    exists = Head(repo, f"refs/heads/{name}").is_valid()
    if exists and not force:
        raise BranchExists(f"branch '{name}' already exists (use --force to replace it)")
    if exists and _current_branch(repo) == f"refs/heads/{name}":
        raise BranchExists(f"branch '{name}' is checked out; refusing to move it under the working tree")
    author, committer, note = identity(repo)
    commit = _commit(repo, repo.head.commit, new_contents, message, author, committer)
    try:
        repo.create_head(name, commit, force=True, logmsg=PROG)
    except Exception as exc:  # noqa: BLE001 - a ref that cannot be written is one line
        raise GitFailure(f"cannot write refs/heads/{name} ({exc.__class__.__name__}: {exc})") from None
    return commit.hexsha, note


def _current_branch(repo) -> str:
    """The checked-out branch's ref, or "" on a detached HEAD."""
    try:
        return run(repo, "symbolic-ref", "-q", "HEAD").strip()
    except GitFailure:
        return ""


__all__ = ["BranchExists", "DirtyFiles", "create_branch", "dirty_paths", "identity", "mailbox_patch"]

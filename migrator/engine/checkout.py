"""The tree being migrated: which files exist, which mention a name, and safe reads.

Files come from `git ls-files` when the root is a git work tree (so build outputs and vendored
junk outside version control are ignored) and from a directory walk otherwise. Every path is
checked to stay inside the root after resolving symlinks; nothing outside is ever read or written.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from migrator.errors import BadPath, UnsafePath

from migrator.engine.gitcmd import run_git, start_git

# The one list of C and C++ file suffixes: translation units (what a compile database compiles) and
# headers. Every scan, the formatter and the compile check use these.
SOURCE_SUFFIXES = (".cpp", ".cc", ".cxx", ".c++", ".C", ".c")
# `.tpp`, `.tcc`, `.txx`: template bodies a header includes (tt-metal has `.tpp` files), C++ like any header
HEADER_SUFFIXES = (".hpp", ".hh", ".hxx", ".h", ".ipp", ".inl", ".tpp", ".tcc", ".txx")
CPP_SUFFIXES = SOURCE_SUFFIXES + HEADER_SUFFIXES
SKIP_DIRS = {".git", ".hg", ".svn", "build", "node_modules", "__pycache__", ".cache"}


@dataclass
class Checkout:
    root: Path
    is_git: bool = False
    _files: list[str] | None = field(default=None, repr=False)
    _contents: dict[str, bytes] | None = field(default=None, repr=False)
    _file_set: frozenset | None = field(default=None, repr=False)
    _mentions: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _pending: tuple | None = field(default=None, repr=False)  # (needles, running git grep)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: str | os.PathLike, discover: bool = False) -> "Checkout":
        """The checkout at `path`; with `discover`, the checkout `path` is inside (see find_root)."""
        p = Path(path)
        if not p.exists():
            raise BadPath(f"{path}: no such file or directory")
        if not p.is_dir():
            raise BadPath(f"{path}: not a directory")
        root = p.resolve()
        try:
            os.listdir(root)
        except OSError as exc:
            raise BadPath(f"{path}: cannot read directory ({exc.strerror})") from None
        if discover:
            root = find_root(root)
        return cls(root=root, is_git=_is_git_worktree_root(root))

    # ---- listing -------------------------------------------------------------------------
    def cpp_files(self) -> list[str]:
        if self._files is None:
            files = self._git_ls_files() if self.is_git else None
            if files is None:
                files = self._walk()
            self._files = sorted(f for f in files if f.endswith(CPP_SUFFIXES))
        return self._files

    def _git_ls_files(self) -> list[str] | None:
        try:
            res = run_git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        except (OSError, subprocess.SubprocessError):
            return None
        if res.returncode != 0:
            return None
        out = res.stdout
        return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]

    def _walk(self) -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            rel = os.path.relpath(dirpath, self.root)
            for name in filenames:
                found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
        return found

    def files_mentioning(self, *needles: str) -> list[str]:
        """Files whose bytes contain any needle: a cheap prefilter before any parsing.

        In a git work tree one `git grep` answers (and `prime` answers many needles in one pass);
        elsewhere every C++ file is read once and kept (~40 MB for tt-metal) and each question is
        a substring search in memory."""
        hits: set[str] = set()
        missing = [n for n in needles if n not in self._mentions]
        if missing:
            self.prime(*missing)
        for n in needles:
            hits.update(self._mentions[n])
        return [h for h in sorted(hits) if self._inside(h)]

    def prime(self, *needles: str) -> None:
        """Answer `files_mentioning` for all `needles` at once."""
        todo = [n for n in dict.fromkeys(needles) if n not in self._mentions]
        if not todo:
            return
        found = self._git_grep_each(todo) if self.is_git and self._contents is None else None
        if found is None:
            data = self._scan_cache()
            found = {n: [rel for rel, d in data.items() if n.encode() in d] for n in todo}
        self._mentions.update(found)

    def start_prime(self, *needles: str) -> None:
        """Start the `git grep` for `needles` in the background, so it runs while the rest of the
        tool is still being imported; `prime` with the same needles collects it."""
        if not self.is_git or self._pending is not None:
            return
        try:
            proc = start_git(self.root, *self._git_grep_args(list(needles)))
        except OSError:
            return
        self._pending = (tuple(dict.fromkeys(needles)), proc)

    def discard_prime(self) -> None:
        """Drop a background scan whose answer may be stale (the tree changed under it)."""
        if self._pending is not None:
            proc = self._pending[1]
            self._pending = None
            proc.kill()
            proc.communicate()

    def _git_grep_args(self, needles: list[str]) -> list[str]:
        # -a: a stray NUL byte must not make git skip a C++ file as "binary".
        args = ["grep", "-l", "-z", "-a", "-F", "--untracked", "--no-color"]
        for n in needles:
            args += ["-e", n]
        return args + ["--"] + [f"*{s}" for s in CPP_SUFFIXES]

    def _git_grep_each(self, needles: list[str]) -> dict[str, list[str]] | None:
        """One `git grep -l` for all needles (it stops reading a file at its first hit), then the
        few files it names are split by needle in memory."""
        try:
            if self._pending is not None and self._pending[0] == tuple(needles):
                proc = self._pending[1]
                self._pending = None
                stdout, stderr = proc.communicate(timeout=120)
                returncode = proc.returncode
            else:
                res = run_git(self.root, *self._git_grep_args(needles))
                stdout, stderr, returncode = res.stdout, res.stderr, res.returncode
        except (OSError, subprocess.SubprocessError):
            return None
        if returncode not in (0, 1):
            return None
        problem = re.search(r"(?:failed to stat|unable to read|cannot open|failed to read) '?([^':\n]+)'?[^\n]*",
                            stderr.decode("utf-8", "replace"))
        if problem:
            raise BadPath(f"{problem.group(1)}: cannot read it, so the migration could not be proven complete "
                          f"({problem.group(0).strip()})")
        found: dict[str, list[str]] = {n: [] for n in needles}
        for path in sorted(p for p in stdout.decode("utf-8", "surrogateescape").split("\0") if p):
            data = self._read_for_scan(path)
            if data is None:
                continue
            for n in needles:
                if n.encode() in data:
                    found[n].append(path)
        return found

    def _scan_cache(self) -> dict[str, bytes]:
        if self._contents is None:
            self._contents = {}
            for rel in self.cpp_files():
                data = self._read_for_scan(rel)
                if data is not None:
                    self._contents[rel] = data
        return self._contents

    def _read_for_scan(self, rel: str) -> bytes | None:
        path = self.root / rel
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except (FileNotFoundError, IsADirectoryError):
            return None
        except OSError as exc:
            if path.is_symlink():
                return None  # dangling or looping link: nothing to read, nothing to migrate
            raise BadPath(f"{rel}: cannot read it ({exc.strerror}), so the migration could not be proven "
                          "complete") from None

    def _inside(self, rel: str) -> bool:
        path = self.root / rel
        # Only a symlink can lead out of the root (listed files live under it); resolve those.
        if not any(p.is_symlink() for p in [path, *path.parents] if p != self.root and self.root in p.parents):
            return True
        try:
            self.resolve(rel)
            return True
        except UnsafePath:
            self.warnings.append(f"{rel}: symlink pointing outside the checkout, not followed")
            return False

    # ---- reading -------------------------------------------------------------------------
    def resolve(self, rel: str) -> Path:
        """Absolute path of `rel`; refuses anything that leaves the root (.., absolute, symlinks)."""
        candidate = (self.root / rel)
        real = candidate.resolve()
        if real != self.root and self.root not in real.parents:
            raise UnsafePath(f"{rel}: resolves outside the checkout ({real})")
        return candidate

    def has_cpp_file(self, rel: str) -> bool:
        """Whether `rel` names a C++ file of the checkout (cheap: no symlink resolution here;
        reading it later goes through `read_or_none`, which checks)."""
        if self._file_set is not None:
            return rel in self._file_set
        return rel.endswith(CPP_SUFFIXES) and os.path.isfile(self.root / rel)

    def exists(self, rel: str) -> bool:
        try:
            return self.resolve(rel).is_file()
        except UnsafePath:
            return False

    def read_or_none(self, rel: str) -> bytes | None:
        try:
            path = self.resolve(rel)
        except UnsafePath:
            self.warnings.append(f"{rel}: symlink pointing outside the checkout, not followed")
            return None
        try:
            return path.read_bytes()
        except (IsADirectoryError, FileNotFoundError):
            return None
        except OSError as exc:
            self.warnings.append(f"{rel}: unreadable ({exc.strerror})")
            return None


# A tree that is not a git repository is recognised by tt-metal's C++ layout.
ROOT_MARKER = "ttnn/cpp/ttnn"


def find_root(start: Path) -> Path:
    """Like git: `start` or the nearest directory above it that is a checkout's top (has `.git`, or
    for a tree that is not a git repository, tt-metal's `ttnn/cpp/ttnn`); `start` when none is."""
    for d in (start, *start.parents):
        if (d / ".git").exists() or (d / ROOT_MARKER).is_dir():
            return d
    return start


def _is_git_worktree_root(root: Path) -> bool:
    # Only the checkout's own repository counts: a plain folder inside some other repository
    # is treated as "not a git repository" rather than silently using the outer one.
    return (root / ".git").exists()

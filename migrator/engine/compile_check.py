"""Differential compile check: does the changed text type-check with the checkout's own compiler and flags?

Generic machinery (it knows nothing about what the change is): given a tree, the original and the new
bytes of the files a change touches, and a ``compile_commands.json``, it

1. finds the compile database (``--build-dir``, else the usual build directories);
2. selects the translation units (TUs) the change can affect: every edited source file, and every
   source file that includes an edited header, transitively (a cheap ``#include`` scan with the
   include directories of each TU's own command; conditional includes count, so it over-selects);
3. runs each TU's own command as ``-fsyntax-only`` (outputs, dependency files, PCH use/emission
   dropped: nothing is written anywhere) once on the tree as it is and once on the changed text;
4. reports the diagnostics that are new, comparing multisets of (kind, file relative to the tree,
   message) so that lines moved by the change do not count.

The changed text is compiled from a temporary **overlay**, never written into the tree: a directory
that mirrors the tree with symlinks (directories on the path to an edited file are real, their other
entries are symlinks to the originals, and the edited files hold the new bytes), and every path of
the command that points into the tree is rewritten to the overlay.  GCC resolves ``#include "x.hpp"``
relative to the *path* of the including file as opened (it does not resolve symlinks), so an
unedited header that includes an edited sibling sees the new sibling, and everything else is the
original file.  GCC has no file-remapping option (clang's ``-ivfsoverlay`` would do the same job but
only for clang), so the symlink mirror is what works for both.

Compiling is reading: only the compiler named by the user's own database runs, only its front end
(``-fsyntax-only``), only with the database's flags.  Results are cached under
``$XDG_CACHE_HOME/<PROG>/compile`` keyed by a hash of the compiler version, the command and
the preprocessed text (``-E``), so a second run compiles only what changed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence

from migrator.engine.checkout import SOURCE_SUFFIXES
from migrator.engine.deliver.writer import write_atomic
from migrator import PROG
from migrator.errors import MigrateError

__all__ = ["CompileDatabaseMissing", "BadCompileDatabase", "NewDiagnostics", "Diagnostic", "CompileVerdict",
           "find_database", "load_database", "select_units", "syntax_only", "run_compile_check", "cache_root"]

DATABASE = "compile_commands.json"
# Where tt-metal's build scripts put their build trees (build_metal.sh: build_<type>, linked as build).
BUILD_DIRS = ("build", "build_Release", "build_Debug", "build_RelWithDebInfo", "build_ASan", "build_TSan")
CACHE_VERSION = "1"


class CompileDatabaseMissing(MigrateError):
    kind = "no compile database"


class BadCompileDatabase(MigrateError):
    kind = "bad compile database"


class NewDiagnostics(MigrateError):
    kind = "compile check failed"


# ---- diagnostics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    kind: str  # "error" | "fatal error" | "warning"
    file: str  # relative to the tree when inside it, else absolute; "<compiler>" for driver messages
    line: int
    column: int
    message: str

    @property
    def key(self) -> tuple:
        return (self.kind, self.file, self.message)

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict:
        return {"kind": self.kind, "file": self.file, "line": self.line, "column": self.column,
                "message": self.message}


_DIAG = re.compile(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+):(?:(?P<col>\d+):)? "
                   r"(?P<kind>fatal error|error|warning): (?P<msg>.*)$", re.M)
_DRIVER = re.compile(r"^(?P<tool>[\w.+-]+): (?P<kind>fatal error|error|warning): (?P<msg>.*)$", re.M)


def parse_diagnostics(text: str, directory: str, root: str) -> list[Diagnostic]:
    """Errors and warnings of GCC/clang output (notes are context, not counted)."""
    out = []
    for m in _DIAG.finditer(text):
        out.append(Diagnostic(m["kind"], _tree_relative(m["file"], directory, root), int(m["line"]),
                              int(m["col"] or 0), m["msg"].strip()))
    for m in _DRIVER.finditer(text):
        out.append(Diagnostic(m["kind"], "<compiler>", 0, 0, m["msg"].strip()))
    return out


def _tree_relative(path: str, directory: str, root: str) -> str:
    p = os.path.normpath(os.path.join(directory, path))
    if p.startswith(root + os.sep):
        return p[len(root) + 1:].replace(os.sep, "/")
    return p


# ---- the compile database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One entry of the database: ``file`` absolute, ``argv`` the compiler command."""

    file: str
    directory: str
    argv: tuple


def find_database(root: Path, build_dir: Optional[str] = None) -> Path:
    """The ``compile_commands.json`` to use, or a one-line refusal saying where it looked."""
    if build_dir is not None:
        given = Path(build_dir).expanduser()
        candidates = [given] if given.name == DATABASE else [given / DATABASE]
    else:
        candidates = [root / DATABASE] + [root / d / DATABASE for d in BUILD_DIRS]
        build = root / "build"
        if build.is_dir() and not build.is_symlink():
            candidates += sorted(p / DATABASE for p in build.iterdir() if p.is_dir())
    for c in candidates:
        if c.is_file():
            return c
    looked = ", ".join(str(c) for c in candidates[:8]) + (" …" if len(candidates) > 8 else "")
    hint = "" if build_dir else "; configure with CMake (it exports one) and pass --build-dir DIR"
    raise CompileDatabaseMissing(f"no {DATABASE} found (looked in {looked}){hint}")


def refuse_committed_database(root: Path, db: Path) -> None:
    """A database committed in the checkout is not the user's own build: it names the program that would
    run, so it could make ``--compile-check`` run anything a repository ships.  Refuse it."""
    from migrator.engine.gitcmd import run_git

    try:
        rel = db.resolve().relative_to(root.resolve())
    except ValueError:
        return
    try:
        res = run_git(root, "ls-files", "--error-unmatch", "--", str(rel))
    except (OSError, subprocess.SubprocessError):
        return
    if res.returncode == 0:
        raise BadCompileDatabase(f"{db} is committed in the checkout; the compile check only runs the compiler "
                                 "of your own build's database (pass --build-dir DIR)")


def load_database(path: Path) -> list[Unit]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadCompileDatabase(f"{path}: cannot read it ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(entries, list):
        raise BadCompileDatabase(f"{path}: expected a JSON list of compile commands")
    units = []
    for i, e in enumerate(entries):
        try:
            directory = os.path.normpath(os.path.join(path.parent, e["directory"]))
            argv = e.get("arguments") or shlex.split(e["command"])
            file = os.path.normpath(os.path.join(directory, e["file"]))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BadCompileDatabase(f"{path}: entry {i} lacks directory/file/command ({exc})") from None
        if not argv or not all(isinstance(a, str) for a in argv):
            raise BadCompileDatabase(f"{path}: entry {i} has an empty or malformed command")
        units.append(Unit(file, directory, tuple(argv)))
    return units


# ---- which TUs the change can affect ----------------------------------------------------------------

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
_PATH_OPTS = ("-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros")


def _include_dirs(unit: Unit) -> tuple[tuple, tuple, tuple]:
    """(quote dirs, angle dirs, forced includes) of a command, absolute, in search order."""
    iquote, plain, system, after, forced = [], [], [], [], []
    argv = unit.argv
    i = 1
    while i < len(argv):
        a = argv[i]
        for opt, bucket in (("-iquote", iquote), ("-isystem", system), ("-idirafter", after), ("-I", plain),
                            ("-include", forced), ("-imacros", forced)):
            if a == opt and i + 1 < len(argv):
                bucket.append(os.path.normpath(os.path.join(unit.directory, argv[i + 1])))
                i += 1
                break
            if a.startswith(opt) and len(a) > len(opt) and opt not in ("-include", "-imacros"):
                bucket.append(os.path.normpath(os.path.join(unit.directory, a[len(opt):])))
                break
        i += 1
    angle = tuple(plain + system + after)
    return tuple(iquote) + angle, angle, tuple(forced)


class IncludeScanner:
    """Transitive in-tree ``#include`` closure of TUs (ignores ``#if``: it over-approximates)."""

    def __init__(self, root: str, skip: Sequence[str] = ()):
        self.root = root
        self.skip = tuple(s + os.sep for s in skip)
        self._includes: dict[str, list] = {}
        self._resolved: dict[tuple, Optional[str]] = {}
        self._dir_ids: dict[tuple, int] = {}  # include-dir lists, numbered (many TUs share one)
        self._edges: dict[tuple, list] = {}  # (file, dir-list id) -> in-tree files it includes

    def _inside(self, path: str) -> bool:
        return path.startswith(self.root + os.sep) and not path.startswith(self.skip)

    def includes(self, path: str) -> list:
        got = self._includes.get(path)
        if got is None:
            try:
                data = Path(path).read_bytes()
            except OSError:
                data = b""
            got = [(m[1] == b'"', m[2].decode("utf-8", "replace").strip()) for m in _INCLUDE.finditer(data)]
            self._includes[path] = got
        return got

    def resolve(self, includer: str, quoted: bool, name: str, dirs: tuple) -> Optional[str]:
        quote_dirs, angle_dirs = dirs
        here = os.path.dirname(includer) if quoted else None
        key = (here, quoted, name, dirs)
        if key not in self._resolved:
            found = None
            for d in ((here,) + quote_dirs) if quoted else angle_dirs:
                cand = os.path.normpath(os.path.join(d, name))
                if os.path.isfile(cand):
                    found = cand
                    break
            self._resolved[key] = found
        return self._resolved[key]

    def _edges_of(self, path: str, dirs: tuple, did: int) -> list:
        key = (path, did)
        got = self._edges.get(key)
        if got is None:
            got = []
            for quoted, name in self.includes(path):
                hit = self.resolve(path, quoted, name, dirs)
                if hit and self._inside(hit):
                    got.append(hit)
            self._edges[key] = got
        return got

    def closure(self, unit: Unit) -> set[str]:
        quote_dirs, angle_dirs, forced = _include_dirs(unit)
        dirs = (quote_dirs, angle_dirs)
        did = self._dir_ids.setdefault(dirs, len(self._dir_ids))
        todo = [unit.file] + [f for f in forced if self._inside(f) and os.path.isfile(f)]
        seen = set(todo)
        while todo:
            for hit in self._edges_of(todo.pop(), dirs, did):
                if hit not in seen:
                    seen.add(hit)
                    todo.append(hit)
        return seen


def select_units(units: Iterable[Unit], root: str, edited: Iterable[str],
                 skip: Sequence[str] = ()) -> tuple[list[Unit], list[str]]:
    """(affected units, edited source files the database does not compile).

    ``edited`` are paths relative to ``root``.  Units are deduplicated by (file, command)."""
    edited_abs = {os.path.normpath(os.path.join(root, e)) for e in edited}
    sources = {e for e in edited_abs if e.endswith(SOURCE_SUFFIXES)}
    headers = edited_abs - sources
    scanner = IncludeScanner(root, skip)
    chosen, seen = [], set()
    for u in units:
        if not u.file.startswith(root + os.sep) or (u.file, u.argv) in seen:
            continue
        if u.file in sources or (headers and scanner.closure(u) & headers):
            seen.add((u.file, u.argv))
            chosen.append(u)
    compiled = {u.file for u in chosen}
    missing = sorted(os.path.relpath(s, root).replace(os.sep, "/") for s in sources - compiled)
    chosen.sort(key=lambda u: u.file)
    return chosen, missing


# ---- the command, as a syntax-only check ------------------------------------------------------------

_DROP_WITH_VALUE = {"-o", "-MF", "-MT", "-MQ", "-MJ", "--serialize-diagnostics", "-include-pch", "-dependency-file",
                    "-dependency-dot"}
_DROP = {"-c", "-S", "-E", "-M", "-MM", "-MD", "-MMD", "-MP", "-MG", "-Winvalid-pch", "-fsyntax-only",
         "-save-temps", "-fpch-preprocess", "-ftime-trace", "-fcolor-diagnostics", "-fno-color-diagnostics",
         "-fpch-codegen", "-fpch-debuginfo", "-fpch-instantiate-templates"}
_DROP_PREFIX = ("-MF", "-MT", "-MQ", "-MJ", "-Wp,-M", "-save-temps=", "-fdiagnostics-color", "-fdump-",
                "-ftime-trace=", "-fprofile-generate", "-fprofile-instr-generate", "-fcoverage")
_XCLANG_DROP = {"-emit-pch", "-emit-obj", "-include-pch"}  # -Xclang -include-pch -Xclang FILE: both pairs go
_LAUNCHERS = {"ccache", "sccache", "distcc", "icecc"}


def syntax_only(unit: Unit, source: str, map_path: Callable[[str], str] = lambda p: p) -> list[str]:
    """``unit``'s command compiling ``source`` with ``-fsyntax-only``: no object, dependency or PCH file is
    written, the (possibly stale) PCH is not read (its header stays a textual ``-include``), colour off.
    Path arguments are made absolute and passed through ``map_path`` (the overlay)."""
    argv = list(unit.argv)
    while argv and os.path.basename(argv[0]) in _LAUNCHERS and len(argv) > 1:
        argv = argv[1:]
    out = [argv[0]]
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in _DROP_WITH_VALUE:
            i += 2
            continue
        if a == "-Xclang" and i + 1 < len(argv) and argv[i + 1] in _XCLANG_DROP:
            skip_pair = argv[i + 1] == "-include-pch" and i + 3 < len(argv) and argv[i + 2] == "-Xclang"
            i += 4 if skip_pair else 2
            continue
        if a in _DROP or a.startswith(_DROP_PREFIX) or (a.startswith("-o") and len(a) > 2 and "/" in a):
            i += 1
            continue
        if a in _PATH_OPTS and i + 1 < len(argv):
            out += [a, map_path(os.path.normpath(os.path.join(unit.directory, argv[i + 1])))]
            i += 2
            continue
        joined = next((o for o in ("-iquote", "-isystem", "-idirafter", "-I") if a.startswith(o) and len(a) > len(o)),
                      None)
        if joined:
            out.append(joined + map_path(os.path.normpath(os.path.join(unit.directory, a[len(joined):]))))
        elif not a.startswith("-") and os.path.normpath(os.path.join(unit.directory, a)) == unit.file:
            out.append(source)
        else:
            out.append(a)
        i += 1
    return out + ["-fsyntax-only", "-fdiagnostics-color=never"]


# ---- the overlay ------------------------------------------------------------------------------------


def build_overlay(root: str, new_contents: Mapping[str, bytes], dest: str) -> None:
    """Mirror ``root`` under ``dest``: real directories on the path to each edited file, edited files with
    their new bytes, every other entry of those directories a symlink to the original."""
    real_dirs = {""}
    for rel in new_contents:
        parts = rel.split("/")[:-1]
        real_dirs.update("/".join(parts[:k]) for k in range(1, len(parts) + 1))
    for d in sorted(real_dirs):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
        if not os.path.isdir(os.path.join(root, d)):
            continue  # a directory the change creates
        for entry in os.scandir(os.path.join(root, d)):
            rel = f"{d}/{entry.name}" if d else entry.name
            if rel in real_dirs or rel in new_contents:
                continue
            os.symlink(os.path.join(root, rel), os.path.join(dest, rel))
    for rel, data in new_contents.items():
        with open(os.path.join(dest, rel), "wb") as fh:
            fh.write(data)


# ---- running ----------------------------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / PROG / "compile"


def run_compiler(argv: Sequence[str], cwd: str) -> subprocess.CompletedProcess:
    """The one place a compiler runs (tests count calls here)."""
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL)


@dataclass
class UnitResult:
    file: str
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    new: list = field(default_factory=list)
    cached: int = 0  # how many of the two compiles came from the cache


@dataclass
class CompileVerdict:
    compiler: str  # e.g. "g++ 12.2.0"
    database: str
    units: list = field(default_factory=list)
    not_in_database: list = field(default_factory=list)
    compiled: int = 0  # compiler runs with -fsyntax-only (cache misses)
    cached: int = 0
    seconds: float = 0.0

    @property
    def new(self) -> list:
        return [d for u in self.units for d in u.new]

    @property
    def ok(self) -> bool:
        return not self.new

    def summary(self) -> str:
        n = len(self.units)
        head = (f"compile check: {len(self.new)} new diagnostic(s) on {n} translation unit(s) with {self.compiler} "
                f"({self.compiled} compiled, {self.cached} cached, {self.seconds:.1f} s)")
        if self.not_in_database:
            head += f"; not in the compile database: {', '.join(self.not_in_database)}"
        return head

    def to_dict(self) -> dict:
        return {
            "ran": True,
            "ok": self.ok,
            "compiler": self.compiler,
            "database": self.database,
            "translation_units": [u.file for u in self.units],
            "new_diagnostics": [d.to_dict() for d in self.new],
            "not_in_database": list(self.not_in_database),
            "compiled": self.compiled,
            "cached": self.cached,
            "seconds": round(self.seconds, 3),
        }

    def refusal(self) -> NewDiagnostics:
        d = self.new[0]
        more = f" (+{len(self.new) - 1} more)" if len(self.new) > 1 else ""
        return NewDiagnostics(f"{d.where()}: {d.kind}: {d.message}{more}; the migrated code does not compile "
                              f"cleanly with {self.compiler}; nothing written")


def compiler_identity(argv0: str, cwd: str) -> str:
    name = os.path.basename(argv0)
    try:
        res = run_compiler([argv0, "--version"], cwd)
        first = res.stdout.decode("utf-8", "replace").splitlines()[0] if res.stdout else ""
    except OSError as exc:
        raise BadCompileDatabase(f"cannot run the database's compiler {argv0} ({exc.strerror or exc})") from None
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)\s*$", first) or re.search(r"version (\d+\.\d+(?:\.\d+)?)", first)
    return f"{name} {m[1]}" if m else name


class _Job:
    def __init__(self, unit: Unit, argv: list, cwd: str, root: str, overlay: Optional[str], compiler: str,
                 cache: Optional[Path]):
        self.unit, self.argv, self.cwd, self.root, self.overlay = unit, argv, cwd, root, overlay
        self.compiler, self.cache = compiler, cache
        self.cached = False
        self.ran = False

    def _normal(self, data: bytes) -> bytes:
        return data.replace(self.overlay.encode(), self.root.encode()) if self.overlay else data

    def _key_text(self, data: bytes) -> bytes:
        """``data`` with the overlay and the tree's own location abstracted: the same text in another
        checkout (a worktree, a copy) is the same compile."""
        return self._normal(data).replace(self.root.encode(), b"<tree>")

    def run(self) -> list[Diagnostic]:
        key = None
        if self.cache is not None:
            pre = [a for a in self.argv if a not in ("-fsyntax-only",)] + ["-E"]
            res = run_compiler(pre, self.cwd)
            if res.returncode == 0:
                h = hashlib.sha256(CACHE_VERSION.encode() + b"\0" + self.compiler.encode() + b"\0")
                h.update(self._key_text("\0".join(self.argv).encode()) + b"\0")
                h.update(self._key_text(res.stdout))
                key = h.hexdigest()
                hit = self.cache / key[:2] / f"{key}.json"
                try:
                    self.cached = True
                    return [Diagnostic(**d) for d in json.loads(hit.read_text())]
                except (OSError, ValueError, TypeError):
                    self.cached = False
        res = run_compiler(self.argv, self.cwd)
        self.ran = True
        text = self._normal(res.stderr + res.stdout).decode("utf-8", "replace")
        diags = parse_diagnostics(text, self.cwd, self.root)
        if res.returncode != 0 and not any(d.kind != "warning" for d in diags):
            last = text.strip().splitlines()[-1:] or [""]
            diags.append(Diagnostic("error", "<compiler>", 0, 0,
                                    f"exited with status {res.returncode}: {last[0][:200]}".rstrip(": ")))
        if key is not None:
            out = self.cache / key[:2] / f"{key}.json"
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(out, json.dumps([d.to_dict() for d in diags]).encode(), sync=False)
            except OSError:
                pass  # a cache that cannot be written is only slower
        return diags


def new_diagnostics(before: Sequence[Diagnostic], after: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics of ``after`` beyond ``before``, as multisets of (kind, file, message)."""
    extra = Counter(d.key for d in after) - Counter(d.key for d in before)
    out = []
    for d in after:
        if extra[d.key] > 0:
            extra[d.key] -= 1
            out.append(d)
    return out


def run_compile_check(root, originals: Mapping[str, bytes], new_contents: Mapping[str, bytes],
                      build_dir: Optional[str] = None, jobs: Optional[int] = None,
                      on_progress: Optional[Callable[[int], None]] = None, use_cache: bool = True,
                      on_start: Optional[Callable[[int], None]] = None) -> CompileVerdict:
    """Compile the affected TUs before and after the change; see the module docstring."""
    t0 = time.perf_counter()
    root = os.path.realpath(str(root))
    db = find_database(Path(root), build_dir)
    refuse_committed_database(Path(root), db)
    units = load_database(db)
    build = os.path.realpath(str(db.parent))
    skip = [build] if build.startswith(root + os.sep) else []
    chosen, missing = select_units(units, root, new_contents, skip)
    verdict = CompileVerdict(compiler="", database=str(db), not_in_database=missing)
    if not chosen:
        verdict.compiler = os.path.basename(units[0].argv[0]) if units else "(none)"
        verdict.seconds = time.perf_counter() - t0
        return verdict
    verdict.compiler = compiler_identity(syntax_only(chosen[0], chosen[0].file)[0], chosen[0].directory)
    cache = cache_root() if use_cache else None
    if cache is not None and str(cache.resolve()).startswith(root + os.sep):
        cache = None  # never write into the checkout
    overlay = os.path.realpath(tempfile.mkdtemp(prefix=f"{PROG}-overlay-"))
    try:
        build_overlay(root, new_contents, overlay)

        def to_overlay(p: str) -> str:
            return overlay + p[len(root):] if p == root or p.startswith(root + os.sep) else p

        jobs_list = []
        for u in chosen:
            cwd = u.directory if os.path.isdir(u.directory) else root
            jobs_list.append((_Job(u, syntax_only(u, u.file), cwd, root, None, verdict.compiler, cache),
                              _Job(u, syntax_only(u, to_overlay(u.file), to_overlay), cwd, root, overlay,
                                   verdict.compiler, cache)))
        if on_start:
            on_start(2 * len(jobs_list))
        workers = max(1, jobs or os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(j.run): j for pair in jobs_list for j in pair}
            results = {}
            for fut in concurrent.futures.as_completed(futures):
                results[id(futures[fut])] = fut.result()
                if on_progress:
                    on_progress(1)
        for before_job, after_job in jobs_list:
            before, after = results[id(before_job)], results[id(after_job)]
            rel = os.path.relpath(before_job.unit.file, root).replace(os.sep, "/")
            verdict.units.append(UnitResult(rel, before, after, new_diagnostics(before, after),
                                            before_job.cached + after_job.cached))
            for j in (before_job, after_job):
                verdict.compiled += j.ran
                verdict.cached += j.cached
    finally:
        shutil.rmtree(overlay, ignore_errors=True)
    verdict.seconds = time.perf_counter() - t0
    return verdict

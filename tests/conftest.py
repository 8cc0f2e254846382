import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "core.hooksPath=/dev/null",
       "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]


def fixture_cases():
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "case.json").is_file())


def case_meta(name):
    return json.loads((FIXTURES / name / "case.json").read_text())


def copy_tree(src: Path, dst: Path, git: bool = True) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    if git:
        subprocess.run(GIT + ["init", "-q"], cwd=dst, check=True)
        subprocess.run(GIT + ["add", "-A"], cwd=dst, check=True)
        subprocess.run(GIT + ["commit", "-qm", "before"], cwd=dst, check=True)
    return dst


def snapshot(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        if ".git" in p.relative_to(root).parts:
            continue
        if p.is_file() or p.is_symlink():
            out[str(p.relative_to(root))] = p.read_bytes() if not p.is_symlink() else b"->" + os.readlink(p).encode()
    return out


def run_cli(*argv, env=None, cwd=None):
    """Run the real console entry point in a subprocess (exit code, stdout, stderr)."""
    e = {**os.environ, "PYTHONPATH": str(REPO), "FORCE_COLOR": "", **(env or {})}  # plain stderr unless asked
    res = subprocess.run([sys.executable, "-m", "migrator", *map(str, argv)], capture_output=True, text=True,
                         env=e, cwd=cwd)
    return res.returncode, res.stdout, res.stderr


# The crash test's monkeypatch, applied in a child process (a real SIGKILL must end it): before the
# n-th file of the tree is replaced (the journal is written first and is not counted), the process dies.
_KILLED_AT_WRITE = """
import os, sys
from migrator.engine.deliver import writer
real, seen = writer.write_atomic, [0]
def dying(target, data, **kw):
    if not str(target).endswith(writer.JOURNAL):
        if seen[0] == int(os.environ["KILL_AT_WRITE"]):
            os.kill(os.getpid(), 9)
        seen[0] += 1
    return real(target, data, **kw)
writer.write_atomic = dying
from migrator.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli_killed_at_write(n, *argv):
    """`run_cli`, but the process is killed (SIGKILL) just before it replaces the n-th file (0-based)."""
    e = {**os.environ, "PYTHONPATH": str(REPO), "FORCE_COLOR": "", "KILL_AT_WRITE": str(n)}
    res = subprocess.run([sys.executable, "-c", _KILLED_AT_WRITE, *map(str, argv)], capture_output=True, text=True,
                         env=e)
    return res.returncode, res.stdout, res.stderr


@pytest.fixture
def tree(tmp_path):
    def make(case="rev-7136", git=True):
        return copy_tree(FIXTURES / case / "before", tmp_path / case, git=git)

    return make


if os.environ.get("PYTEST_XDIST_WORKER"):
    # the suite already runs one worker per CPU: the path check (and the tool run in subprocesses)
    # stays in one process instead of forking more (tests that are about the fork set it themselves)
    os.environ.setdefault("HALO_MIGRATE_JOBS", "1")


@pytest.fixture(autouse=True, scope="session")
def _spec_cache_in_tmp(tmp_path_factory):
    """verify caches parsed sweep files under the user's cache dir; tests use their own."""
    old = os.environ.get("HALO_MIGRATE_CACHE_DIR")
    os.environ["HALO_MIGRATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("spec-cache"))
    yield
    if old is None:
        os.environ.pop("HALO_MIGRATE_CACHE_DIR", None)
    else:
        os.environ["HALO_MIGRATE_CACHE_DIR"] = old

"""`halo-migrate demo`: run plan, check and apply on a bundled tt-metal-shaped fixture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def fixture_root() -> Path:
    installed = Path(__file__).resolve().parent / "demo_fixture"  # where the wheel puts it
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[1] / "fixtures" / "rev-7136" / "before"


def fixture_compile_database(tree: Path, build: Path) -> Path:
    """A CMake-like ``compile_commands.json`` for every ``.cpp`` of ``tree`` (g++, ``-Wall -Werror`` like
    tt-metal, with the object and dependency-file flags a build has), written into ``build``."""
    build.mkdir(parents=True, exist_ok=True)
    entries = []
    for src in sorted(tree.rglob("*.cpp")):
        obj = f"CMakeFiles/{src.stem}.o"
        entries.append({"directory": str(build), "file": str(src), "output": obj, "arguments": [
            "g++", "-std=c++20", "-Wall", "-Werror", f"-I{tree / 'ttnn/cpp'}", "-I", str(src.parent),
            "-MD", "-MT", obj, "-MF", f"{obj}.d", "-o", obj, "-c", str(src)]})
    out = build / "compile_commands.json"
    out.write_text(json.dumps(entries, indent=1))
    return out


def run_demo(keep: bool = False) -> int:
    from migrator.cli import main
    from migrator.engine.gitcmd import run_git

    src = fixture_root()
    tmp = Path(tempfile.mkdtemp(prefix="halo-migrate-demo-"))
    tree = tmp / "tt-metal"
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    ident = ("-c", "user.name=demo", "-c", "user.email=demo@example.com")
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "tt-metal-shaped fixture (rev-7136 shape)")):
        res = run_git(tree, *ident, *args)
        if res.returncode != 0:
            raise subprocess.CalledProcessError(res.returncode, args, res.stdout, res.stderr)
    print(f"# demo tree: a tt-metal-shaped fixture copied to {tree}\n")
    branch = ["apply", str(tree), "--branch", "halo-migrate/precise-halo"]
    if shutil.which("g++"):  # the compile check, with a build dir outside the tree and a cache in the temp dir
        fixture_compile_database(tree, tmp / "build")
        os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")  # the demo leaves nothing behind
        print(f"# g++ found: wrote {tmp / 'build' / 'compile_commands.json'} for the fixture\n")
        branch += ["--compile-check", "--build-dir", str(tmp / "build")]
    steps = [["check", str(tree)], ["plan", str(tree)], ["verify", str(tree)], ["apply", str(tree), "--dry-run"],
             branch, ["apply", str(tree)], ["check", str(tree)]]
    rc = 0
    for argv in steps:
        print(f"$ halo-migrate {' '.join(argv)}")
        sys.stdout.flush()
        rc = main(argv)
        sys.stderr.flush()
        print(f"[exit {rc}]\n")
        if argv[0] == "check" and rc == 2 or argv[0] != "check" and rc != 0:
            print(f"demo stopped: `halo-migrate {argv[0]}` exited {rc}", file=sys.stderr)
            return rc
    if keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if rc == 0 else 2

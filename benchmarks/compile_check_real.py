"""--compile-check on a real tt-metal tree, locally, without a build (numbers are printed, nothing is asserted).

    python benchmarks/compile_check_real.py --tree /work/ttmetal/7136cb56bb --thirdparty /work/thirdparty -j 2

Copies the tree to a temp dir (the original is never modified), writes a CMake-like ``compile_commands.json``
for every host ``.cpp`` under ``ttnn/`` into a temp build dir outside the repository (flags hand-written after
/work/shared/docs/compiling-ttmetal.md: the GCC branch of the top-level CMakeLists.txt options, the common PCH
headers as a textual ``-include``, the tree's include dirs, the third-party headers as ``-isystem``), then runs

1. ``halo-migrate apply TREE --dry-run --compile-check`` on the tool's own migration (cold cache, then warm);
2. four wrong migrations (controls), each injected into the plan in-process, each of which must be refused with
   the compiler's message: an undeclared name in determine_conv_config_for_auto_shard, the new function called
   with a ``std::array<uint32_t, 4>``, an unused local under -Werror, a caller left without the threaded argument.

Third-party headers (not committed anywhere): ``--thirdparty DIR`` with ``fmt/include``, ``json/include``,
``enchantum/enchantum/include``, ``reflect``, ``tt-logger/include``, ``spdlog/tokenspeed_spdlog/include``,
``umd/device/api``, ``tracy/public``, ``pybind11/pybind11/include`` (see the table in compiling-ttmetal.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrator import cli  # noqa: E402
from migrator.engine import compile_check as cc  # noqa: E402
from migrator.recipe import plan as plan_mod  # noqa: E402

WARNINGS = ["-Wall", "-Werror", "-Wno-deprecated-declarations", "-Wno-unused-but-set-variable", "-Wno-array-bounds",
            "-Wno-deprecated", "-Wno-int-in-bool-context", "-Wno-maybe-uninitialized", "-Wno-narrowing",
            "-Wno-non-template-friend", "-Wno-parentheses", "-Wno-pragmas", "-Wno-restrict", "-Wno-sign-compare",
            "-Wno-strict-aliasing", "-Wno-stringop-overflow", "-Wno-stringop-overread", "-Wno-unused-local-typedefs",
            "-Wno-pessimizing-move", "-Wno-overloaded-virtual", "-Wno-int-to-pointer-cast"]
DEFINES = ["-DDISABLE_NAMESPACE_STATIC_ASSERT", "-DTT_ENABLE_LIGHT_METAL_TRACE=1",
           "-DSPDLOG_ACTIVE_LEVEL=SPDLOG_LEVEL_TRACE", "-DSPDLOG_FMT_EXTERNAL", "-DFMT_HEADER_ONLY"]
PCH = ["fmt/core.h", "fmt/format.h", "nlohmann/json.hpp", "reflect", "tt_stl/reflection.hpp", "algorithm", "cstddef",
       "cstdint", "functional", "map", "memory", "tuple", "unordered_map", "variant", "vector"]
TREE_INCLUDES = ["ttnn", "ttnn/cpp", "ttnn/api", "tt_metal/api", "tt_metal/hostdevcommon/api", "tt_stl"]
THIRD_PARTY = ["fmt/include", "json/include", "enchantum/enchantum/include", "reflect", "tt-logger/include",
               "spdlog/tokenspeed_spdlog/include", "umd/device/api", "tracy/public", "pybind11/pybind11/include"]

UTILS = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
TRANSPOSE = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"


def write_database(tree: Path, build: Path, thirdparty: Path) -> int:
    build.mkdir(parents=True, exist_ok=True)
    pch = build / "cmake_pch.hxx"
    pch.write_text("".join(f"#include <{h}>\n" for h in PCH))
    system = [f"-isystem{thirdparty / d}" for d in THIRD_PARTY] + [f"-isystem{sysconfig.get_paths()['include']}"]
    entries = []
    for src in sorted(tree.joinpath("ttnn").rglob("*.cpp")):
        rel = src.relative_to(tree)
        if "kernels" in rel.parts:
            continue  # device code, not compiled by the host compiler
        own = []
        parts = rel.parts
        if parts[:4] == ("ttnn", "cpp", "ttnn", "operations") and len(parts) > 5:
            own = [f"-I{tree.joinpath(*parts[:5])}"]  # the op directory's parent (CMake's header file set)
        obj = f"ttnn/CMakeFiles/ttnn.dir/{rel}.o"
        entries.append({"directory": str(build), "file": str(src), "output": obj, "arguments": [
            "g++", *DEFINES, *[f"-I{tree / d}" for d in TREE_INCLUDES], *own, *system, "-std=c++20",
            "-march=x86-64-v3", "-fPIC", "-fvisibility-inlines-hidden", *WARNINGS, "-fpch-preprocess",
            "-Winvalid-pch", "-include", str(pch), "-MD", "-MT", obj, "-MF", f"{obj}.d", "-o", obj, "-c", str(src)]})
    (build / "compile_commands.json").write_text(json.dumps(entries, indent=1))
    return len(entries)


def inject(edit):
    real = plan_mod.build_plan

    def wrong(project):
        plan = real(project)
        edit(plan.new_contents)
        return plan

    plan_mod.build_plan = wrong
    return lambda: setattr(plan_mod, "build_plan", real)


def replace(rel, old, new):
    def edit(contents):
        assert old in contents[rel], f"{rel}: {old!r} not in the migrated text"
        contents[rel] = contents[rel].replace(old, new, 1)
    return edit


def drop(rel):
    def edit(contents):
        del contents[rel]
    return edit


CONTROLS = [
    ("undeclared name", replace(UTILS, b"halo_config.batch_size = batch_size;", b"halo_config.batch_size = batch_sz;")),
    ("std::array<uint32_t, 4> shard shape",
     replace(UTILS, b"calculate_precise_halo_output_elems(halo_config, halo_input_shard_shape)",
             b"calculate_precise_halo_output_elems(halo_config, std::array<uint32_t, 4>{0, 0, 0, 0})")),
    ("unused local",
     replace(UTILS, b"SlidingWindowConfig halo_config;", b"SlidingWindowConfig halo_config; int spare = 0;")),
    ("caller without the threaded argument", drop(TRANSPOSE)),
]


def run(tree: Path, build: Path, jobs: int, label: str) -> tuple[int, str, float]:
    calls_before = len(CALLS)
    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = cli.main(["apply", str(tree), "--dry-run", "--compile-check", "--build-dir", str(build), "-j", str(jobs)])
    dt = time.perf_counter() - t0
    syntax = sum(1 for c in CALLS[calls_before:] if "-fsyntax-only" in c)
    text = err.getvalue().strip()
    print(f"{label}: exit {rc}, {dt:.1f} s wall, {syntax} syntax-only compiles")
    for line in text.splitlines():
        print(f"    {line}")
    sys.stdout.flush()
    return rc, text, dt


CALLS: list = []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", default="/work/ttmetal/7136cb56bb")
    ap.add_argument("--thirdparty", default="/work/thirdparty")
    ap.add_argument("--work", help="work dir (default: a new temp dir, removed at the end)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-controls", action="store_true")
    ap.add_argument("--warm", action="store_true", help="also time a second (cached) run of the clean migration")
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="halo-cc-real-"))
    tree = work / "tt-metal"
    if not tree.exists():
        shutil.copytree(args.tree, tree, symlinks=True)
    build = work / "build"
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    n = write_database(tree, build, Path(args.thirdparty))
    print(f"tree {args.tree} copied to {tree}; {n} host TUs in {build / 'compile_commands.json'}; -j {args.jobs}")
    print(f"compiler: {subprocess.run(['g++', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")

    real_run = cc.run_compiler

    def counting(argv, cwd):
        CALLS.append(list(argv))
        return real_run(argv, cwd)

    cc.run_compiler = counting
    rc, _, _ = run(tree, build, args.jobs, "tool's own migration (cold cache)")
    if args.warm:
        run(tree, build, args.jobs, "tool's own migration (warm cache)")
    if not args.no_controls:
        for name, edit in CONTROLS:
            undo = inject(edit)
            try:
                crc, text, _ = run(tree, build, args.jobs, f"control: {name}")
            finally:
                undo()
            refused = crc == 2 and "compile check failed" in text
            print(f"    -> {'REFUSED (caught)' if refused else 'NOT CAUGHT'}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())

"""--compile-check: the migrated text is type-checked with the compile database's own compiler and flags, from
an overlay (never written into the tree), and only diagnostics the migration adds refuse it.

The database is generated here for a copy of the rev-7136 fixture (g++ from the machine, -Wall -Werror like
tt-metal, plus the output/dependency-file flags a CMake build has, which the check must drop).  Wrong migrations
are injected by editing the plan's new contents in-process."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, copy_tree, run_cli, snapshot
from migrator import cli
from migrator.demo import fixture_compile_database
from migrator.engine import compile_check as cc
from migrator.recipe import plan as plan_mod

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")

UTILS = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
TRANSPOSE = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the tests that do not test the cache (the trees are identical, so the unmigrated TUs and
    the TUs a control does not touch are compiled once for all of them)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def setup(tmp_path, monkeypatch, shared_cache):
    """(tree, build dir, compiler-call counter); the cache lives in tmp, never in ~/.cache or the checkout."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t")
    build = fixture_compile_database(root, tmp_path / "build").parent
    calls = []
    real = cc.run_compiler

    def counting(argv, cwd):
        calls.append(list(argv))
        return real(argv, cwd)

    monkeypatch.setattr(cc, "run_compiler", counting)
    return root, build, calls


def syntax_runs(calls):
    return [c for c in calls if "-fsyntax-only" in c and "-E" not in c]


def inject(monkeypatch, edit):
    """Make build_plan produce a wrong migration: ``edit(new_contents)`` mutates the plan's new bytes."""
    real = plan_mod.build_plan

    def wrong(project, **options):
        plan = real(project, **options)
        edit(plan.new_contents)
        return plan

    monkeypatch.setattr(plan_mod, "build_plan", wrong)


def replace_in(rel, old, new, count=1):
    def edit(contents):
        assert contents[rel].count(old) == count, (rel, old)
        contents[rel] = contents[rel].replace(old, new)
    return edit


def apply_cc(root, build, *extra, capsys=None):
    # --no-verify: these tests are about the compile check alone (the numeric check, which runs first, would
    # refuse some of the controls too, with its own message)
    rc = cli.main(["apply", str(root), "--dry-run", "--no-verify", "--compile-check", "--build-dir", str(build),
                   "-j", "2", *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_clean_migration_has_no_new_diagnostics_and_a_second_run_is_cached(fresh_cache, capsys):
    root, build, calls = fresh_cache
    before_tree, before_build = snapshot(root), snapshot(build)
    rc, out, err = apply_cc(root, build, capsys=capsys)
    assert rc == 0, err
    assert out.startswith("diff --git a/") and UTILS in out  # the diff still comes out
    assert "compile check: 0 new diagnostic(s) on 8 translation unit(s) with g++ " in err
    # nothing written into the tree or the build directory (no .o, no .d, no overlay)
    assert snapshot(root) == before_tree
    assert snapshot(build) == before_build
    runs = syntax_runs(calls)
    assert len(runs) == 16  # 8 TUs, before and after
    for argv in runs:
        assert not {"-c", "-o", "-MD", "-MF", "-MT"} & set(argv)
    cache = root.parent / "cache" / "halo-migrate" / "compile"
    assert len(list(cache.rglob("*.json"))) == 16

    # a second run is served from the cache: no -fsyntax-only run at all
    rc, _, err = apply_cc(root, build, capsys=capsys)
    assert rc == 0 and "0 compiled, 16 cached" in err
    assert len(syntax_runs(calls)) == 16


def test_selection_includes_unedited_dependents_of_edited_headers(setup):
    root, build, _ = setup
    units = cc.load_database(build / "compile_commands.json")
    edited = ["ttnn/cpp/ttnn/operations/sliding_window/sliding_window.hpp"]
    chosen, missing = cc.select_units(units, os.path.realpath(root), edited)
    names = sorted(os.path.relpath(u.file, os.path.realpath(root)) for u in chosen)
    # sliding_window.hpp reaches every TU, conv2d_op.cpp and halo_device_operation.cpp through their own headers
    assert "ttnn/cpp/ttnn/operations/conv/conv2d/device/conv2d_op.cpp" in names
    assert "ttnn/cpp/ttnn/operations/sliding_window/halo/device/halo_device_operation.cpp" in names
    assert len(names) == 8 and missing == []
    chosen, missing = cc.select_units(units, os.path.realpath(root), [UTILS, "ttnn/cpp/ttnn/nowhere.cpp"])
    assert [os.path.relpath(u.file, os.path.realpath(root)) for u in chosen] == [UTILS]
    assert missing == ["ttnn/cpp/ttnn/nowhere.cpp"]


@pytest.mark.parametrize("edit, expect", [
    # 1. an undeclared name in determine_conv_config_for_auto_shard
    (replace_in(UTILS, b"halo_config.batch_size = batch_size;", b"halo_config.batch_size = batch_sz;"),
     f"{UTILS}:{{}}: error: \u2018batch_sz\u2019 was not declared in this scope"),
    # 2. the new function called with a std::array<uint32_t, 4> shard shape
    (replace_in(UTILS, b"calculate_precise_halo_output_elems(halo_config, halo_input_shard_shape)",
                b"calculate_precise_halo_output_elems(halo_config, std::array<uint32_t, 4>{0, 0, 0, 0})"),
     "error: invalid initialization of reference of type"),
    # 3. an unused local, an error under -Wall -Werror
    (replace_in(UTILS, b"SlidingWindowConfig halo_config;\n",
                b"SlidingWindowConfig halo_config;\nuint32_t spare = 0;\n"),
     "error: unused variable \u2018spare\u2019 [-Werror=unused-variable]"),
])
def test_controls_are_refused_with_the_compilers_message(setup, monkeypatch, capsys, edit, expect):
    root, build, _ = setup
    inject(monkeypatch, edit)
    before_tree = snapshot(root)
    rc, out, err = apply_cc(root, build, capsys=capsys)
    assert rc == 2
    assert out == ""  # no diff printed
    lines = [ln for ln in err.splitlines() if ln.startswith("halo-migrate: compile check failed:")]
    assert len(lines) == 1, err
    if "{}" in expect:  # the line in the migrated text (the golden after/ is the tool's output)
        after = (FIXTURES / "rev-7136" / "after" / UTILS).read_bytes().splitlines()
        expect = expect.format(next(i for i, ln in enumerate(after, 1) if b"halo_config.batch_size =" in ln))
    assert expect in lines[0]
    assert lines[0].endswith("nothing written")
    assert snapshot(root) == before_tree


def test_caller_left_without_the_threaded_argument_is_caught_only_through_dependents(setup, monkeypatch, capsys):
    """The header gains `stride`; conv_transpose2d.cpp is left unedited, so it is compiled only because it
    includes the edited header, and its old call no longer matches."""
    root, build, calls = setup

    def drop_transpose(contents):
        del contents[TRANSPOSE]

    inject(monkeypatch, drop_transpose)
    rc, out, err = apply_cc(root, build, capsys=capsys)
    assert rc == 2
    line = next(ln for ln in err.splitlines() if ln.startswith("halo-migrate: compile check failed:"))
    assert line.startswith(f"halo-migrate: compile check failed: {TRANSPOSE}:")
    assert "error:" in line
    # compiling the edited files alone would not have seen it: the TU is not among them
    assert any(TRANSPOSE in " ".join(c) for c in syntax_runs(calls))


def test_overlay_compiles_the_new_text_not_the_tree(setup, monkeypatch, capsys):
    """Control for the overlay itself: a header-only edit that breaks a sibling `#include "..."` user only
    when the new header is seen (an unedited header including an edited sibling resolves to the overlay)."""
    root, build, _ = setup
    hdr = "ttnn/cpp/ttnn/operations/conv/conv2d/device/conv2d_op.hpp"
    real = os.path.realpath(root)
    original = (root / hdr).read_bytes()
    new = {hdr: original.replace(b"#pragma once", b"#pragma once\nstatic_assert(false, \"overlay seen\");", 1)}
    assert new[hdr] != original
    verdict = cc.run_compile_check(real, {hdr: original}, new, build_dir=str(build), jobs=1)
    assert not verdict.ok
    assert {d.message for d in verdict.new} == {"static assertion failed: overlay seen"}
    assert {d.file for d in verdict.new} == {hdr}
    # the same edit compiled against the tree is clean: the tree was never changed
    assert (root / hdr).read_bytes() == original


@pytest.fixture
def fresh_cache(setup, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return setup


def test_cache_misses_only_what_changed(setup, monkeypatch, capsys):
    root, build, calls = setup
    assert apply_cc(root, build, capsys=capsys)[0] == 0
    n = len(syntax_runs(calls))
    # a different (still clean) migration of one .cpp only: that TU's migrated variant is compiled again

    def append(text):
        def edit(contents):
            contents[TRANSPOSE] += text
        return edit

    # a comment does not change the preprocessed text: nothing to compile
    inject(monkeypatch, append(b"\n// changed\n"))
    rc, _, err = apply_cc(root, build, capsys=capsys)
    assert rc == 0 and "0 compiled, 16 cached" in err
    assert len(syntax_runs(calls)) == n
    # code does: that TU's migrated variant is compiled again, and only it
    inject(monkeypatch, append(b"\nstatic_assert(sizeof(int) >= 2);\n"))
    rc, _, err = apply_cc(root, build, capsys=capsys)
    assert rc == 0, err
    assert len(syntax_runs(calls)) == n + 1
    assert "1 compiled, 15 cached" in err


def test_missing_database_refuses_with_one_line(tmp_path, capsys):
    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t")
    before = snapshot(root)
    rc = cli.main(["apply", str(root), "--compile-check"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("halo-migrate: no compile database: no compile_commands.json found (looked in ")
    assert f"{os.path.realpath(root)}/build/compile_commands.json" in err
    rc = cli.main(["apply", str(root), "--build-dir", str(tmp_path / "nope")])
    out, err = capsys.readouterr()
    assert rc == 2 and f"{tmp_path / 'nope' / 'compile_commands.json'}" in err
    assert snapshot(root) == before


def test_database_is_found_in_the_usual_build_dirs(tmp_path):
    root = tmp_path / "t"
    (root / "build_Release").mkdir(parents=True)
    (root / "build_Release" / "compile_commands.json").write_text("[]")
    assert cc.find_database(root) == root / "build_Release" / "compile_commands.json"
    (root / "build" / "clang-17").mkdir(parents=True)
    (root / "build" / "clang-17" / "compile_commands.json").write_text("[]")
    assert cc.find_database(root) == root / "build_Release" / "compile_commands.json"
    (root / "build_Release" / "compile_commands.json").unlink()
    assert cc.find_database(root) == root / "build" / "clang-17" / "compile_commands.json"


def test_a_database_committed_in_the_checkout_is_refused(tmp_path, capsys):
    """It names the program that would run: only the user's own build's database is trusted."""
    from conftest import GIT

    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t")
    fixture_compile_database(root, root / "build")
    subprocess.run(GIT + ["add", "-f", "build/compile_commands.json"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", "ship a database"], cwd=root, check=True)
    rc = cli.main(["apply", str(root), "--dry-run", "--compile-check"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and len(err.splitlines()) == 1
    assert "is committed in the checkout" in err


def test_bad_database_is_one_line(tmp_path, capsys):
    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "compile_commands.json").write_text("{not json")
    rc = cli.main(["apply", str(root), "--dry-run", "--build-dir", str(tmp_path / "b")])
    _, err = capsys.readouterr()
    assert rc == 2 and err.startswith("halo-migrate: bad compile database: ") and len(err.splitlines()) == 1


def test_syntax_only_drops_outputs_and_pch_and_maps_paths():
    u = cc.Unit("/src/t/a/x.cpp", "/src/t/build", (
        "ccache", "/usr/bin/g++", "-DX=1", "-Iinc", "-isystem", "/opt/fmt/include", "-iquote", "../q",
        "-Winvalid-pch", "-Xclang", "-include-pch", "-Xclang", "/src/t/build/cmake_pch.hxx.pch",
        "-include", "/src/t/build/cmake_pch.hxx", "-MD", "-MT", "x.o", "-MF", "x.o.d", "-fdiagnostics-color=always",
        "-o", "x.o", "-c", "../a/x.cpp"))
    argv = cc.syntax_only(u, "/ov/a/x.cpp", lambda p: p.replace("/src/t", "/ov", 1))
    assert argv == ["/usr/bin/g++", "-DX=1", "-I/ov/build/inc", "-isystem", "/opt/fmt/include", "-iquote", "/ov/q",
                    "-include", "/ov/build/cmake_pch.hxx", "/ov/a/x.cpp", "-fsyntax-only", "-fdiagnostics-color=never"]


def test_new_diagnostics_ignore_line_numbers_but_count_repeats():
    d = lambda line, msg="unused variable 'x'": cc.Diagnostic("warning", "a.cpp", line, 3, msg)  # noqa: E731
    assert cc.new_diagnostics([d(10)], [d(12)]) == []
    assert [x.key for x in cc.new_diagnostics([d(10)], [d(12), d(40)])] == [d(0).key]  # one of the two is new
    assert cc.new_diagnostics([], [d(5, "other")]) == [d(5, "other")]


def test_verify_json_carries_the_verdict(setup, capsys):
    root, build, _ = setup
    rc = cli.main(["verify", str(root), "--format", "json", "--compile-check", "--build-dir", str(build), "--quiet"])
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert rc == 0
    c = doc["compile_check"]
    assert c["ran"] and c["ok"] and c["new_diagnostics"] == [] and len(c["translation_units"]) == 8
    assert c["compiler"].startswith("g++ ")
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    schema = json.loads((cli.Path(cli.__file__).parent / "schema" / "verify.schema.json").read_text())
    Draft202012Validator(schema).validate(doc)


def test_verify_reports_new_diagnostics_in_github_format(setup, monkeypatch, capsys):
    root, build, _ = setup
    inject(monkeypatch, replace_in(UTILS, b"halo_config.batch_size = batch_size;", b"halo_config.batch_size = bs;"))
    rc = cli.main(["verify", str(root), "--format", "github", "--compile-check", "--build-dir", str(build), "--quiet"])
    out, _ = capsys.readouterr()
    assert rc == 1
    assert any(ln.startswith(f"::error file={UTILS},line=") and "\u2018bs\u2019 was not declared" in ln
               for ln in out.splitlines())
    # the Markdown summary under the annotations says it too
    assert "- compile check: 1 new diagnostic(s) on 8 translation unit(s) with g++ " in out


def test_patch_and_branch_are_refused_before_anything_is_written(setup, monkeypatch, capsys, tmp_path):
    root, build, _ = setup
    inject(monkeypatch, replace_in(UTILS, b"halo_config.batch_size = batch_size;",
                                   b"halo_config.batch_size = batch_sz;"))
    branches = subprocess.run(["git", "branch"], cwd=root, capture_output=True, text=True).stdout
    for delivery in (["--patch", str(tmp_path / "m.patch")], ["--branch", "mig"]):
        rc = cli.main(["apply", str(root), *delivery, "--compile-check", "--build-dir", str(build), "--quiet"])
        out, err = capsys.readouterr()
        assert rc == 2 and out == "" and "batch_sz" in err
    assert not (tmp_path / "m.patch").exists()
    assert subprocess.run(["git", "branch"], cwd=root, capture_output=True, text=True).stdout == branches


def test_pr_description_says_type_checked(setup, capsys):
    root, build, _ = setup
    rc = cli.main(["describe", str(root), "--no-verify", "--build-dir", str(build), "--quiet"])
    out, _ = capsys.readouterr()
    assert rc == 0
    text = " ".join(out.split())
    assert "type-checked with g++ 12" in text or "type-checked with g++ " in text
    assert "on 8 translation units" in text


def test_branch_commit_message_carries_the_verdict(setup, capsys):
    root, build, _ = setup
    rc = cli.main(["apply", str(root), "--branch", "mig", "--compile-check", "--build-dir", str(build), "--quiet"])
    capsys.readouterr()
    assert rc == 0
    msg = subprocess.run(["git", "log", "-1", "--format=%B", "mig"], cwd=root, capture_output=True, text=True).stdout
    assert "Type-checked with g++ " in msg and "on 8 translation units" in " ".join(msg.split())


def test_demo_shows_the_compile_check():
    rc, out, err = run_cli("demo")
    assert rc == 0, err
    assert "compile_commands.json for the fixture" in out
    assert "--compile-check --build-dir" in out
    assert "compile check: 0 new diagnostic(s) on 8 translation unit(s) with g++ " in err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

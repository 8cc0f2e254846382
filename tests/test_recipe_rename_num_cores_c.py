"""The second recipe, `rename-num-cores-c`, OpenRewrite style: every case under fixtures/rename-num-cores-c/
before → after exactly; an already renamed tree unchanged; refusals write nothing; a second run changes nothing;
and the command line, the reports and the PR text work on it through `--recipe` alone."""

import json
import shutil
import subprocess

import pytest

from conftest import FIXTURES, copy_tree, run_cli, snapshot
from migrator.engine.checkout import Checkout
from migrator.engine.locate import find_occurrences
from migrator.engine.project import Project
from migrator.engine.source import SourceFile
from migrator.errors import MigrateError
from migrator.recipes import get
from migrator.recipes.rename_num_cores_c import NEW, OLD

NAME = "rename-num-cores-c"
CASES_DIR = FIXTURES / NAME
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "case.json").is_file())
OP = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_op.cpp"


def meta(case):
    return json.loads((CASES_DIR / case / "case.json").read_text())


def plan(root):
    return get(NAME).plan(Project(Checkout.open(root)), {})


def test_the_recipe_is_registered():
    from migrator.recipes import names

    assert {"halo-precise", NAME} <= set(names())


@pytest.mark.parametrize("case", CASES)
def test_fixture_case(case):
    before = CASES_DIR / case / "before"
    m = meta(case)
    if m["expect"] == "migrate":
        changes = plan(before)
        after = CASES_DIR / case / "after"
        expected = {str(p.relative_to(after)): p.read_bytes() for p in after.rglob("*") if p.is_file()}
        assert sorted(changes.new_contents) == sorted(expected)
        for rel, data in expected.items():
            assert changes.new_contents[rel] == data, f"{case}: {rel} differs from the golden after/"
            assert SourceFile.parse(rel, data).error_count() == 0
    elif m["expect"] == "nothing-to-do":
        changes = plan(before)
        assert changes.state == "migrated" and not changes.pending
    else:
        assert m["expect"] == "refuse"
        with pytest.raises(MigrateError) as info:
            plan(before)
        assert m["refuse_reason_contains"] in info.value.message


def test_comments_and_strings_keep_the_old_name():
    new = plan(CASES_DIR / "basic" / "before").new_contents
    assert f'"{OLD} = %u\\n"'.encode() in new[OP]
    assert b"// How many cores share the channels: " + OLD.encode() in \
        new["ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"]
    for rel, data in new.items():
        assert not find_occurrences(SourceFile.parse(rel, data), OLD), rel


def test_second_run_is_a_no_op(tmp_path):
    root = copy_tree(CASES_DIR / "basic" / "before", tmp_path / "t", git=False)
    for rel, data in plan(root).new_contents.items():
        (root / rel).write_bytes(data)
    again = plan(root)
    assert again.state == "migrated" and not again.pending


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
def test_the_renamed_tree_compiles():
    root = CASES_DIR / "basic"
    tree = root / "before"
    for side in ("before", "after"):
        srcs = [root / side / OP, root / side / "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"]
        # after/ holds only the changed files: headers it does not change come from before/
        res = subprocess.run(["g++", "-std=c++20", "-Wall", "-Werror", "-fsyntax-only", f"-I{root / side / 'ttnn/cpp'}",
                              f"-I{tree / 'ttnn/cpp'}", *map(str, srcs)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


# ---- the command line on the second recipe ----------------------------------------------------------


@pytest.fixture
def basic(tmp_path):
    return copy_tree(CASES_DIR / "basic" / "before", tmp_path / "basic")


def test_check_plan_and_formats(basic):
    rc, out, err = run_cli("--recipe", NAME, "check", basic)
    assert rc == 1 and "rename pending" in out and "conv2d_op.cpp" in out, err
    rc, out, err = run_cli("plan", basic, "--recipe", NAME, "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["recipe"] == NAME and doc["pending"] and doc["state"] == "pending"
    jsonschema = pytest.importorskip("jsonschema")
    from migrator.report import plan_schema

    jsonschema.Draft202012Validator(plan_schema(get(NAME))).validate(doc)
    assert len(doc["renamed"]) == 7 and {f["path"] for f in doc["files"]} == {
        OP, "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp", "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"}
    rc, out, _ = run_cli("plan", basic, "--recipe", NAME, "--format", "markdown")
    assert rc == 0 and "| line | what | in |" in out and "| `26` | `reference` |" in out
    rc, out, _ = run_cli("check", basic, "--recipe", NAME, "--format", "github")
    assert rc == 1 and out.startswith(f"::warning file={OP},line=12,") and NEW in out


def test_apply_dry_run_describe_verify_and_apply(basic):
    before = snapshot(basic)
    rc, out, err = run_cli("--recipe", NAME, "apply", basic, "--dry-run", "--no-format")
    assert rc == 0 and f"+    const uint32_t cores_c = conv::{NEW}(pconfig);" in out, err
    rc, out, err = run_cli("--recipe", NAME, "describe", basic)
    assert rc == 0 and out.startswith(f"## Rename `{OLD}` to `{NEW}`") and "| `conv2d_op.cpp`" not in out, err
    assert f"| `ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp` | 1 | 1 |" in out
    rc, out, err = run_cli("--recipe", NAME, "verify", basic)
    assert rc == 0 and "verify (rename-num-cores-c; " in out, err
    assert snapshot(basic) == before
    rc, out, err = run_cli("--recipe", NAME, "apply", basic, "--branch", "renamed")
    assert rc == 0, err
    msg = subprocess.run(["git", "log", "-1", "--format=%B", "renamed"], cwd=basic, capture_output=True,
                         text=True).stdout
    assert msg.startswith(f"Rename {OLD} to {NEW}\n") and "7 mention(s) in 3 file(s)" in msg
    rc, out, err = run_cli("--recipe", NAME, "apply", basic)
    assert rc == 0 and "migrated 3 files" in out, err
    assert run_cli("--recipe", NAME, "check", basic)[0] == 0
    # the default recipe knows nothing of this one's change, and vice versa
    assert run_cli("check", basic)[0] == 0


def test_options_of_another_recipe_and_unknown_recipes_are_refused(basic):
    rc, out, err = run_cli("--recipe", NAME, "plan", basic, "--with-test")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--with-test is an option of the recipe halo-precise" in err
    rc, out, err = run_cli("--recipe", "no-such-recipe", "plan", basic)
    assert rc == 2 and out == "" and err.count("\n") == 1 and "no recipe named 'no-such-recipe'" in err


def test_a_refusal_writes_nothing(tmp_path):
    root = copy_tree(CASES_DIR / "in-a-macro" / "before", tmp_path / "m")
    before = snapshot(root)
    rc, out, err = run_cli("--recipe", NAME, "apply", root)
    assert rc == 2 and out == "" and err.count("\n") == 1 and "CORES_C" in err
    assert snapshot(root) == before

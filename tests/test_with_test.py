"""`apply --with-test`: the gtest rows, the CMake registration, and every delivery mode carrying the
new file (diff, patch, branch, in place, interrupted-and-recovered), plus the refusals."""

import json
import subprocess

import pytest

from conftest import FIXTURES, GIT, SHARED_DATA, copy_tree, run_cli, run_cli_killed_at_write, snapshot
from migrator.recipe import regression_test as rt

CASE = FIXTURES / "with-test" / "before"
TEST = rt.TEST_PATH
CMAKE = rt.CMAKE_LIST


def _key(config, width=None):
    c = config
    return (c.batch_size, tuple(c.input_hw), tuple(c.window_hw), tuple(c.stride_hw), tuple(c.padding),
            tuple(c.dilation_hw), c.num_cores_nhw, bool(c.snap_to_tile))


def test_rows_cover_every_branch_deterministically_and_start_with_pr30446():
    rows, uncovered = rt.choose_cases(CASE)
    assert uncovered == []
    assert 8 <= len(rows) <= rt.MAX_ROWS
    assert rows == rt.choose_cases(CASE)[0]
    first = rows[0]
    assert (first.name, first.shard_shape, first.expected) == ("pr30446_stride16_one_core", (6400, 320), 1711040)
    assert len({r.name for r in rows}) == len(rows)
    assert all(r.name.replace("_", "").isalnum() for r in rows)  # valid gtest parameter names
    assert any(r.source.endswith("on 8x8") for r in rows), "some rows come from the checkout's sweep specs"
    for branch in rt.DEDICATED:
        assert any(branch in r.branches for r in rows), branch


def test_expected_values_equal_the_compiled_vectors_where_configs_overlap():
    vectors = {}
    with open(SHARED_DATA / "halo_vectors.jsonl") as fh:
        for line in fh:
            v = json.loads(line)
            if v.get("is_transpose") or v.get("ceil_mode"):
                continue
            k = (v["batch_size"], tuple(v["input_hw"]), tuple(v["window_hw"]), tuple(v["stride_hw"]),
                 tuple(v["padding"]), tuple(v["dilation_hw"]), v["num_cores_nhw"], bool(v["snap_to_tile"]))
            vectors.setdefault(k, set()).add(v["expected"]["max_out_nsticks"])
    rows, _ = rt.choose_cases(CASE)
    overlap = [r for r in rows if _key(r.config) in vectors]
    assert len(overlap) >= 3
    for r in overlap:  # precise = max sticks * shard width
        assert vectors[_key(r.config)] == {r.expected // r.shard_shape[1]}, r.name
        assert r.expected % r.shard_shape[1] == 0


def test_edge_rows_equal_the_compiled_harness_table():
    """Values of the compiled-C++ table in the shared facts (§12) for the same configurations."""
    compiled = {"single_output_stick_four_cores": 288, "batch_boundary_inside_shard": 19968,
                "no_snap_last_core_remainder": 1376, "dilation_2": 130560, "kernel_7_stride_2_many_cores": 33104,
                "several_images_per_shard": 14080}
    edges = {n: rt._case(n, c, w, "edge", shard_h=h) for n, c, w, h in rt.EDGE_CASES}
    for name, value in compiled.items():
        assert edges[name].expected == value, name


def test_branches_are_told_apart():
    one = rt._case(*rt.EDGE_CASES[0][:3], "edge", shard_h=rt.EDGE_CASES[0][3])
    assert {"single_output_stick", "trailing_empty_cores"} <= one.branches
    name, config, width, height = rt.PR30446
    pr = rt._case(name, config, width, "x", shard_h=height)
    assert "single_output_stick" not in pr.branches and "trailing_empty_cores" not in pr.branches
    assert {"one_core", "stride_over_kernel", "snap_on"} <= pr.branches


CMAKE_UNSORTED = "target_sources(\n    lib\n    PRIVATE\n        b.cpp\n        test_sliding_window_infra.cpp\n" \
                 "        a.cpp # note\n)\n"
CMAKE_SORTED = "target_sources(\n    lib\n    PRIVATE\n        a.cpp\n        test_sliding_window_infra.cpp\n" \
               "        z.cpp\n)\n"


def test_cmake_slot_follows_the_list():
    slot = rt.find_cmake_slot(CMAKE_UNSORTED)
    assert CMAKE_UNSORTED[slot.at:].startswith("        a.cpp")  # right after the neighbour
    slot = rt.find_cmake_slot(CMAKE_SORTED)
    assert CMAKE_SORTED[slot.at:].startswith("        z.cpp")  # sorted position
    assert (slot.target, slot.indent) == ("lib", "        ")
    with pytest.raises(Exception, match="no multi-line target_sources"):
        rt.find_cmake_slot("target_sources(lib PRIVATE test_sliding_window_infra.cpp)\n")


def test_runner_is_the_executable_linking_the_alias():
    text = (CASE / CMAKE).read_text()
    assert rt.runner_of(text, "unit_tests_ttnn_smoke") == ("unit_tests_ttnn", "./build/test/ttnn/unit_tests_ttnn")


def test_dry_run_and_patch_carry_the_new_file(tree, tmp_path):
    root = tree("with-test")
    before = snapshot(root)
    code, out, err = run_cli("apply", root, "--with-test", "--dry-run", "--no-verify")
    assert code == 0, err
    assert f"diff --git a/{TEST} b/{TEST}\nnew file mode 100644\n--- /dev/null\n+++ b/{TEST}\n" in out
    assert "+        test_sliding_window_precise_halo.cpp\n" in out
    patch = tmp_path / "p.patch"
    code, _, err = run_cli("apply", root, "--with-test", "--patch", patch, "--no-verify")
    assert code == 0, err
    assert snapshot(root) == before
    text = patch.read_text()
    assert f"create mode 100644 {TEST}" in text
    assert "--gtest_filter='SlidingWindowPreciseHalo/PreciseHaloOutputElemsTest.*'" in text  # commit message
    subprocess.run(GIT + ["apply", "--check", str(patch)], cwd=root, check=True)
    subprocess.run(GIT + ["am", "-q", str(patch)], cwd=root, check=True)
    golden = FIXTURES / "with-test" / "after"
    year = subprocess.run(GIT + ["log", "-1", "--format=%cd", "--date=format:%Y"], cwd=root, capture_output=True,
                          text=True, check=True).stdout.strip()
    first, rest = (root / TEST).read_bytes().split(b"\n", 1)
    assert first == f"// SPDX-FileCopyrightText: © {year} halo-migrate fixture authors".encode()  # HEAD's year
    assert rest == (golden / TEST).read_bytes().split(b"\n", 1)[1]
    assert (root / CMAKE).read_bytes() == (golden / CMAKE).read_bytes()


def test_branch_and_in_place_then_second_run_is_a_no_op(tree):
    root = tree("with-test")
    code, out, err = run_cli("apply", root, "--with-test", "--branch", "halo", "--no-verify", "--no-format")
    assert code == 0, err
    assert not (root / TEST).exists()
    shown = subprocess.run(GIT + ["show", f"halo:{TEST}"], cwd=root, capture_output=True, check=True).stdout
    # the branch was made in a git checkout, so the notice carries HEAD's commit year, not the neighbour's
    assert b"PreciseHaloOutputElemsTest" in shown and b"1711040" in shown
    code, out, err = run_cli("apply", root, "--with-test", "--no-verify")
    assert code == 0, err
    assert (root / TEST).is_file() and "test_sliding_window_precise_halo.cpp" in (root / CMAKE).read_text()
    after = snapshot(root)
    code, out, err = run_cli("check", root)
    assert code == 0, out + err
    code, out, err = run_cli("apply", root, "--with-test", "--no-verify")
    assert code == 0 and "already migrated" in out, out + err
    assert snapshot(root) == after


def test_interrupted_apply_removes_the_new_file_again(tree):
    root = tree("with-test")
    before = snapshot(root)
    # writes go in path order: the CMake list and the new test first, then ttnn/...
    code, _, _ = run_cli_killed_at_write(2, "apply", root, "--with-test", "--no-verify", "--no-format")
    assert code != 0
    assert (root / TEST).exists()
    code, out, err = run_cli("apply", root, "--recover")
    assert code == 0, err
    assert snapshot(root) == before


def test_refusals_write_nothing(tree):
    root = tree("rev-7136")  # no ttnn unit-test list
    before = snapshot(root)
    code, out, err = run_cli("apply", root, "--with-test", "--no-verify")
    assert code == 2 and err.count("\n") == 1 and CMAKE in err, err
    assert snapshot(root) == before
    root = tree("with-test")
    (root / TEST).write_text("// someone's own test\n")
    before = snapshot(root)
    code, out, err = run_cli("apply", root, "--with-test", "--patch", root.parent / "x.patch", "--no-verify")
    assert code == 2 and "already exists" in err, err
    assert snapshot(root) == before and not (root.parent / "x.patch").exists()


def test_license_notice_comes_from_the_checkout(tree):
    from migrator.engine.checkout import Checkout
    from migrator.engine.project import Project

    root = tree("with-test", git=False)
    notice = rt.license_notice(Project(Checkout.open(root)), "")
    assert notice.startswith("// SPDX-FileCopyrightText: © ") and "halo-migrate fixture authors" in notice
    assert notice.endswith("// SPDX-License-Identifier: Apache-2.0\n")
    (root / rt.COPYRIGHT_CONFIG).unlink()
    neighbour = "// SPDX-FileCopyrightText: © 2024 Someone Else\n//\n// SPDX-License-Identifier: Apache-2.0\n"
    assert rt.license_notice(Project(Checkout.open(root)), neighbour) == neighbour
    # no config and a neighbour without one: sliding_window.hpp's holder; with none anywhere, no holder at all
    hpp = root / rt.NOTICE_SOURCES[0]
    hpp.write_text("// SPDX-FileCopyrightText: © 2023 Third Holder\n//\n// SPDX-License-Identifier: Apache-2.0\n"
                   + hpp.read_text())
    notice = rt.license_notice(Project(Checkout.open(root)), "// no notice\n")
    assert "Third Holder" in notice and "2023" not in notice
    for p in rt.NOTICE_SOURCES:
        if (root / p).exists():
            (root / p).write_text("// nothing\n")
    assert rt.license_notice(Project(Checkout.open(root)), "") == "// SPDX-License-Identifier: Apache-2.0\n"


def test_plan_and_describe_mention_the_test(tree):
    root = tree("with-test")
    code, out, _ = run_cli("plan", root, "--with-test")
    assert code == 0 and f"add regression test {TEST}" in out and "unit_tests_ttnn" in out
    code, out, _ = run_cli("plan", root)
    assert TEST not in out
    code, out, err = run_cli("describe", root, "--with-test", "--no-verify")
    assert code == 0, err
    assert "### Regression test" in out and "`pr30446_stride16_one_core`" in out

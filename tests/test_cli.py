"""The command line as a user meets it, on temporary copies of the fixtures."""

import json
import subprocess

from conftest import GIT, run_cli, snapshot


def git_out(root, *args):
    return subprocess.run(GIT + list(args), cwd=root, capture_output=True, text=True, check=True).stdout


def test_check_exit_codes(tree, tmp_path):
    root = tree("rev-7136")
    assert run_cli("check", root)[0] == 1
    assert run_cli("apply", root, "--no-format")[0] == 0
    assert run_cli("check", root)[0] == 0
    rc, _, err = run_cli("check", tmp_path / "missing")
    assert rc == 2 and err.count("\n") == 1 and "no such file" in err


def test_dry_run_prints_a_diff_and_writes_nothing(tree):
    root = tree("rev-7136")
    before = snapshot(root)
    rc, out, _ = run_cli("apply", root, "--dry-run", "--no-format")
    assert rc == 0
    assert "+    const std::array<uint32_t, 2>& stride," in out
    assert "-uint32_t estimate_halo_output_elems(" in out
    assert "calculate_precise_halo_output_elems(halo_config, halo_input_shard_shape)" in out
    assert snapshot(root) == before


def test_patch_applies_with_git_am_and_equals_the_branch(tree, tmp_path):
    root = tree("rev-7136")
    patch = tmp_path / "halo.patch"
    assert run_cli("apply", root, "--patch", patch, "--no-format")[0] == 0
    status_before = git_out(root, "status", "--porcelain")
    head_before = git_out(root, "rev-parse", "HEAD")
    assert run_cli("apply", root, "--branch", "halo/precise", "--no-format")[0] == 0
    assert git_out(root, "status", "--porcelain") == status_before
    assert git_out(root, "rev-parse", "HEAD") == head_before
    assert git_out(root, "rev-parse", "--abbrev-ref", "HEAD").strip() in ("main", "master")
    subprocess.run(GIT + ["checkout", "-q", "-b", "am-test"], cwd=root, check=True)
    subprocess.run(GIT + ["am", "-q", str(patch)], cwd=root, check=True)
    assert git_out(root, "rev-parse", "HEAD^{tree}") == git_out(root, "rev-parse", "halo/precise^{tree}")
    msg = git_out(root, "log", "-1", "--format=%B", "halo/precise")
    assert "determine_conv_config_for_auto_shard" in msg and "stride" in msg


def test_branch_refuses_existing_name_without_force(tree):
    root = tree("rev-7136")
    assert run_cli("apply", root, "--branch", "b1", "--no-format")[0] == 0
    rc, _, err = run_cli("apply", root, "--branch", "b1", "--no-format")
    assert rc == 2 and "already exists" in err
    assert run_cli("apply", root, "--branch", "b1", "--force", "--no-format")[0] == 0


def test_apply_refuses_uncommitted_changes_and_keeps_them(tree):
    root = tree("rev-7136")
    hpp = root / "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"
    hpp.write_bytes(hpp.read_bytes() + b"\n// my local change\n")
    before = snapshot(root)
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 2 and "uncommitted" in err and len(err.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_plan_json_lists_sites_bindings_and_threading(tree):
    root = tree("rev-7136")
    rc, out, _ = run_cli("plan", root, "--format", "json")
    assert rc == 0
    data = json.loads(out)
    assert data["state"] == "pending" and len(data["sites"]) == 2
    site1 = data["sites"][0]
    assert site1["bindings"]["stride_hw"]["expr"] == "{stride[0], stride[1]}"
    assert site1["bindings"]["num_cores_nhw"]["expr"] == "get_num_cores_nhw_from_parallel_config(input_parallel_config)"
    assert data["sites"][1]["bindings"]["stride_hw"]["expr"] == "{params.stride[0], params.stride[1]}"
    (thread,) = data["threading"]
    assert thread["function"] == "determine_conv_config_for_auto_shard"
    assert len(thread["callers"]) == 5


def test_github_annotations_and_step_summary(tree, tmp_path):
    root = tree("rev-7136")
    summary = tmp_path / "summary.md"
    rc, out, _ = run_cli("check", root, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert rc == 1
    assert out.count("::warning file=ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp,line=") == 2
    assert "| file | + | − |" in summary.read_text()


def test_markdown_format(tree):
    rc, out, _ = run_cli("plan", tree("rev-7136"), "--format", "markdown")
    assert rc == 0 and "| `stride_hw` | `{stride[0], stride[1]}` |" in out


def test_demo_runs():
    rc, out, err = run_cli("demo")
    assert rc == 0, err
    assert "created branch" in out and "migrated" in out


def test_slice_fallback_warns_about_the_missing_tile_rounding_padding(tree):
    rc, out, _ = run_cli("plan", tree("slice-fallback"), "--format", "json")
    data = json.loads(out)
    site2 = data["sites"][1]
    assert site2["bindings"]["padding"]["expr"] == "{0, 0, 0, 0}"
    assert any("additional_padded_width" in w for w in site2["warnings"])


def test_exact_slice_geometry_is_passed_into_the_lambda(tree):
    rc, out, _ = run_cli("plan", tree("rev-7136"), "--format", "json")
    site2 = json.loads(out)["sites"][1]
    assert site2["bindings"]["padding"]["expr"] == "slice_padding"
    assert site2["bindings"]["input_hw"]["expr"] == "{slice_input_hw[0], slice_input_hw[1]}"
    assert site2["warnings"] == []

"""GitHub Actions: workflow commands escaped per GitHub's rules, the step summary written by the
tool, and the example workflow's name and `paths:` filter."""

import pytest
import yaml

from conftest import REPO, run_cli
from migrator.github import command, escape_data, escape_property

WORKFLOW = REPO / "docs" / "ci" / "github-actions-halo-migrate.yaml"


def test_message_escaping():
    assert escape_data("100% of 2\r\nlines") == "100%25 of 2%0D%0Alines"
    assert escape_data("a:b,c") == "a:b,c"  # only properties escape : and ,


def test_property_escaping():
    assert escape_property("dir:x/a,b%.cpp\n") == "dir%3Ax/a%2Cb%25.cpp%0A"


def test_command_cannot_be_cut_short_or_start_a_new_command():
    line = command("warning", "first\n::error::injected", file="a,b::c.cpp", line=3, title="halo-migrate")
    assert line == "::warning file=a%2Cb%3A%3Ac.cpp,line=3,title=halo-migrate::first%0A::error::injected"
    assert "\n" not in line
    assert command("notice", "done") == "::notice::done"


def test_plan_annotations_are_workflow_commands(tree):
    root = tree("rev-7136")
    rc, out, _ = run_cli("check", root, "--format", "github", env={"GITHUB_STEP_SUMMARY": ""})
    assert rc == 1
    warnings = [line for line in out.splitlines() if line.startswith("::warning ")]
    assert len(warnings) == 2 and all(",title=halo-migrate::" in w for w in warnings)
    # a message keeps its `:` (only property values escape it)
    assert "::notice title=halo-migrate::ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp:48: " in out


def test_verify_github_writes_the_report_to_the_step_summary(tree, tmp_path):
    root = tree("rev-7136")
    summary = tmp_path / "summary.md"
    rc, out, _ = run_cli("verify", root, "--format", "github", "--grids", "blackhole",
                         env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert rc == 0
    text = summary.read_text()
    assert "conv2d_utils.cpp" in text and "|" in text
    assert all(line.startswith("::") for line in out.splitlines()), out  # annotations only on stdout
    rc, out, _ = run_cli("verify", root, "--format", "github", "--grids", "blackhole",
                         env={"GITHUB_STEP_SUMMARY": ""})
    assert rc == 0 and "conv2d_utils.cpp" in out and "|" in out  # no summary file: the report on stdout


def _triggers():
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return doc.get("on", doc.get(True))


def test_workflow_is_named_like_tt_metals_and_filters_paths():
    assert WORKFLOW.suffix == ".yaml" and not WORKFLOW.with_suffix(".yml").exists()
    triggers = _triggers()
    for event in ("pull_request", "push"):
        paths = triggers[event]["paths"]
        assert "ttnn/cpp/ttnn/operations/**/*.cpp" in paths and "ttnn/cpp/ttnn/operations/**/*.hpp" in paths
        assert "tests/sweep_framework/sweeps/conv2d/**" in paths
        assert ".github/workflows/halo-migrate.yaml" in paths
    assert "workflow_dispatch" in triggers


@pytest.mark.parametrize("path,runs", [
    ("ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp", True),
    ("ttnn/cpp/ttnn/operations/sliding_window/sliding_window.hpp", True),
    ("tests/sweep_framework/sweeps/conv2d/short/conv2d_short_sweep.py", True),
    ("models/demos/yolov4/demo.py", False),
    ("tt_metal/impl/device/device.cpp", False),
    ("docs/source/index.rst", False),
])
def test_paths_filter_selects_the_inputs(path, runs):
    """GitHub's glob rules for these patterns: `**` any path, `*` no slash."""
    import re

    def matches(pattern, p):
        rx = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
        return re.fullmatch(rx, p) is not None

    assert any(matches(p, path) for p in _triggers()["pull_request"]["paths"]) is runs

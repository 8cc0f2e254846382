"""The pre-commit hook definition and the example GitHub Actions workflow (docs/ci/)."""

import os
import stat
import subprocess
import sys

import pytest

from conftest import REPO

HOOKS = REPO / ".pre-commit-hooks.yaml"
WORKFLOW = REPO / "docs" / "ci" / "github-actions-halo-migrate.yaml"

try:  # PyYAML is not a dependency; use it when it happens to be installed
    import yaml
except ImportError:  # pragma: no cover - depends on the environment
    yaml = None

needs_yaml = pytest.mark.skipif(yaml is None, reason="PyYAML not installed")


# ---- pre-commit hook --------------------------------------------------------------------------


def test_hook_file_text():
    text = HOOKS.read_text(encoding="utf-8")
    assert "- id: halo-migrate-check" in text
    assert "entry: halo-migrate check ." in text
    assert "language: python" in text
    assert "pass_filenames: false" in text
    assert "types_or: [c++, c]" in text


@needs_yaml
def test_hook_definition():
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (hook,) = [h for h in hooks if h["id"] == "halo-migrate-check"]
    assert hook["entry"] == "halo-migrate check ."
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert sorted(hook["types_or"]) == ["c", "c++"]
    assert set(hook) <= {"id", "name", "description", "entry", "language", "pass_filenames", "types_or",
                         "minimum_pre_commit_version", "files", "exclude", "types", "stages", "require_serial",
                         "always_run", "verbose", "args", "additional_dependencies", "language_version"}


def test_hook_entry_is_the_installed_console_script():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'halo-migrate = "migrator.cli:main"' in pyproject


# ---- GitHub Actions workflow ------------------------------------------------------------------


def test_workflow_text():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "halo-migrate check . --format github" in text
    assert "halo-migrate apply . --patch halo-migrate.patch" in text
    assert "actions/upload-artifact@v4" in text
    assert "path: halo-migrate.patch" in text
    assert "steps.check.outputs.exit_code == '1'" in text
    assert "GITHUB_STEP_SUMMARY" in text
    assert "\t" not in text


def _workflow():
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True
    triggers = doc.get("on", doc.get(True))
    return doc, triggers


def _steps():
    doc, _ = _workflow()
    (job,) = doc["jobs"].values()
    return job["steps"]


def _step(name):
    return next(s for s in _steps() if s.get("name") == name)


@needs_yaml
def test_workflow_structure():
    doc, triggers = _workflow()
    assert "pull_request" in triggers
    steps = _steps()
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    install = _step("Install halo-migrate")
    assert "pip install" in install["run"]

    check = _step("halo-migrate check")
    assert check["id"] == "check"
    assert "halo-migrate check . --format github" in check["run"]

    patch = _step("Write the migration as a patch")
    assert patch["if"] == "steps.check.outputs.exit_code == '1'"
    assert "halo-migrate apply . --patch halo-migrate.patch" in patch["run"]

    upload = next(s for s in steps if s.get("uses") == "actions/upload-artifact@v4")
    assert upload["if"] == "steps.check.outputs.exit_code == '1'"
    assert upload["with"]["path"] == "halo-migrate.patch"
    assert steps.index(patch) < steps.index(upload)

    # the numeric check's cache (kept results, parsed sweep files) is restored before anything runs,
    # keyed by what the check reads; the directory is the tool's default cache root
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "~/.cache/halo-migrate"
    assert "hashFiles('ttnn/cpp/ttnn/operations/conv/**'" in cache["with"]["key"]
    assert steps.index(install) < steps.index(cache) < steps.index(check)


def test_the_workflow_caches_the_directory_the_tool_keeps_results_in(monkeypatch, tmp_path):
    from migrator.verify import kept

    monkeypatch.delenv("HALO_MIGRATE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kept.cache_root() == tmp_path / ".cache" / "halo-migrate"


# ---- the workflow's shell steps, run for real on fixture copies -------------------------------


@pytest.fixture
def shim(tmp_path):
    """A `halo-migrate` on PATH that runs this checkout's code."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "halo-migrate"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m migrator \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return bindir


def _run_step(script, cwd, bindir, tmp_path, fail_on_pending="false"):
    """Run a `run:` script the way GitHub's default bash shell does (-eo pipefail)."""
    out_file, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(summary),
           "HALO_MIGRATE_FAIL_ON_PENDING": fail_on_pending}
    env.pop("PYTHONPATH", None)
    res = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                         capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines()) if out_file.exists() else {}
    return res, outputs, summary.read_text() if summary.exists() else ""


@needs_yaml
def test_workflow_steps_on_a_pending_tree(tree, shim, tmp_path):
    root = tree("rev-7136")
    res, outputs, summary = _run_step(_step("halo-migrate check")["run"], root, shim, tmp_path)
    assert res.returncode == 0, res.stderr
    assert outputs["exit_code"] == "1"
    assert "::warning file=" in res.stdout
    assert "## halo-migrate: migration pending" in summary
    res, _, _ = _run_step(_step("Write the migration as a patch")["run"], root, shim, tmp_path)
    assert res.returncode == 0, res.stderr
    patch = (root / "halo-migrate.patch").read_text()
    assert patch.startswith("From ") and "calculate_precise_halo_output_elems" in patch
    res, _, summary = _run_step(_step("Explain how to apply the patch")["run"], root, shim, tmp_path)
    assert res.returncode == 0 and "git am halo-migrate.patch" in summary
    res, _, _ = _run_step(_step("Explain how to apply the patch")["run"], root, shim, tmp_path, fail_on_pending="true")
    assert res.returncode == 1 and "::error title=halo-migrate::" in res.stdout


@needs_yaml
def test_workflow_check_step_passes_on_a_migrated_tree(tree, shim, tmp_path):
    root = tree("migrated-27f3")
    res, outputs, _ = _run_step(_step("halo-migrate check")["run"], root, shim, tmp_path)
    assert res.returncode == 0, res.stderr
    assert outputs["exit_code"] == "0"


@needs_yaml
def test_workflow_check_step_fails_on_error(tmp_path, shim):
    not_a_checkout = tmp_path / "empty"
    not_a_checkout.mkdir()
    res, outputs, _ = _run_step(_step("halo-migrate check")["run"], not_a_checkout, shim, tmp_path)
    assert res.returncode == 2
    assert outputs["exit_code"] == "2"
    assert "::error title=halo-migrate::" in res.stdout

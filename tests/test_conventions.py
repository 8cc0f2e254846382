"""Command-line conventions a tt-metal engineer expects: root discovery like git, global options
before or after the subcommand, -V, colour and progress by TTY / NO_COLOR / FORCE_COLOR,
conflicting options refused with one line."""

import io

import pytest

from conftest import run_cli, snapshot

SUB = "ttnn/cpp/ttnn/operations/conv"


@pytest.mark.parametrize("git", [True, False])
def test_a_subdirectory_finds_the_checkout_root_like_git(tree, git):
    root = tree("rev-7136", git=git)
    rc, out, err = run_cli("check", ".", cwd=root / SUB)
    assert rc == 1, err
    assert out.startswith(f"{root}: migration pending")
    rc, out, _ = run_cli("check", cwd=root / SUB)  # the path defaults to the current directory
    assert rc == 1 and out.startswith(f"{root}:")
    assert run_cli("apply", root / SUB / "conv2d", "--no-format")[0] == 0
    assert run_cli("check", root / SUB)[0] == 0


def test_a_directory_outside_any_checkout_is_still_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    rc, out, err = run_cli("check", tmp_path / "empty")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "not a tt-metal checkout" in err


def test_global_options_before_or_after_the_subcommand(tree):
    root = tree("rev-7136")
    for argv in (["-q", "check", root], ["check", root, "-q"], ["--quiet", "--debug", "check", root],
                 ["-v", "check", root, "--quiet"]):
        rc, out, err = run_cli(*argv)
        assert rc == 1 and "migration pending" in out and err == "", (argv, err)
    rc, _, err = run_cli("-v", "check", root)
    assert rc == 1 and f"checkout {root} (git); holding {root}/.git/halo-migrate.lock" in err
    rc, _, err = run_cli("check", root, "-v")
    assert "holding" in err


@pytest.mark.parametrize("argv", [["-V"], ["--version"], ["check", "-V"], ["apply", ".", "--version"]])
def test_version_anywhere(argv):
    from migrator import __version__

    rc, out, _ = run_cli(*argv)
    assert rc == 0 and out.strip() == f"halo-migrate {__version__}"


@pytest.mark.parametrize("flags,message", [
    (["--dry-run", "--patch", "p.patch"], "--dry-run and --patch cannot be combined"),
    (["--patch", "p.patch", "--branch", "b"], "--patch and --branch cannot be combined"),
    (["--dry-run", "--branch", "b"], "--dry-run and --branch cannot be combined"),
    (["--recover", "--dry-run"], "--dry-run and --recover cannot be combined"),
    (["--force"], "--force only applies to --branch"),
])
def test_conflicting_options_are_refused_with_one_line(tree, flags, message):
    root = tree("rev-7136")
    before = snapshot(root)
    rc, out, err = run_cli("apply", root, *flags, "--no-format", cwd=root)
    assert rc == 2 and out == "" and err.count("\n") == 1 and message in err
    assert snapshot(root) == before and not (root / "p.patch").exists()


def test_usage_errors_are_one_line():
    rc, out, err = run_cli("check", "--format", "yaml")
    assert rc == 2 and out == "" and err.count("\n") == 1 and err.startswith("halo-migrate: usage:")


def test_colour_follows_force_color_and_no_color(tmp_path):
    missing = tmp_path / "missing"
    plain = run_cli("check", missing, env={"FORCE_COLOR": "", "NO_COLOR": ""})[2]
    assert plain == f"halo-migrate: bad path: {missing}: no such file or directory\n"  # a pipe: no colour
    forced = run_cli("check", missing, env={"FORCE_COLOR": "1", "NO_COLOR": ""})[2]
    assert forced == f"halo-migrate: \033[31mbad path\033[0m: {missing}: no such file or directory\n"
    assert run_cli("check", missing, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})[2] == plain


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("env,expected", [
    ({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"FORCE_COLOR": "0"}, False),
])
def test_colour_on_a_terminal(env, expected):
    from migrator.progress import colour_enabled

    assert colour_enabled(FakeTTY(), environ=env) is expected
    assert colour_enabled(io.StringIO(), environ={**env, "FORCE_COLOR": "1"}) is (not env.get("NO_COLOR"))


def test_quiet_silences_progress_everywhere(monkeypatch):
    """apply/describe draw verify's progress without being told about --quiet: -q is process-wide."""
    from migrator import progress

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    progress.set_quiet(False)  # an earlier in-process `cli.main([..., "--quiet"])` leaves the process quiet
    assert progress.enabled_for(FakeTTY()) is True
    progress.set_quiet(True)
    try:
        assert progress.enabled_for(FakeTTY()) is False
        stream = FakeTTY()
        with progress.Progress(10, "verify", stream=stream) as p:
            p.advance()
        assert stream.getvalue() == ""
    finally:
        progress.set_quiet(False)

"""The tool never runs code from the checkout, renders templates strictly, writes only inside the
checkout (after resolving symlinks), and runs external programs with argument lists only."""

import ast
import base64
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import GIT, REPO, run_cli, snapshot
from migrator.engine.render import templates

CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
CT = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"

COMMANDS = [
    ("plan",),
    ("check",),
    ("describe",),
    ("apply", "--dry-run", "--no-format"),
    ("apply", "--branch", "halo/precise", "--no-format"),
    ("apply", "--no-format"),
]


def _script(path: Path, marker: Path, passthrough: bool = False) -> None:
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\n" + ("cat\n" if passthrough else "exit 0\n"))
    path.chmod(0o755)


def _commit(root, msg="x"):
    subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", msg], cwd=root, check=True)


def _touch_all(root):
    """New mtimes make the index stat data stale, so a plain `git status` would re-read (and filter,
    and ask the fsmonitor about) every file."""
    time.sleep(1.1)
    now = time.time()
    for p in root.rglob("*"):
        if p.is_file() and ".git" not in p.relative_to(root).parts:
            os.utime(p, (now, now))


# ---- code from the checkout is never executed ---------------------------------------------------

@pytest.fixture
def armed(tree, tmp_path):
    """rev-7136 whose .git/config sets core.fsmonitor and hooks to scripts that leave a marker."""
    root = tree()
    marker = tmp_path / "FSMONITOR_RAN"
    hook_marker = tmp_path / "HOOK_RAN"
    fsm = tmp_path / "fsmonitor.sh"
    _script(fsm, marker)
    subprocess.run(GIT + ["config", "core.fsmonitor", str(fsm)], cwd=root, check=True)
    hooks = root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("pre-commit", "post-commit", "reference-transaction", "post-checkout", "pre-auto-gc",
                 "post-index-change", "commit-msg"):
        _script(hooks / name, hook_marker)
    return root, marker, hook_marker


def test_the_fsmonitor_trap_is_real(armed):
    """Without the tool's protections a plain `git status` runs the configured fsmonitor."""
    root, marker, _ = armed
    _touch_all(root)
    subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True)
    assert marker.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(x.strip("-") for x in c))
def test_fsmonitor_and_hooks_are_never_run(armed, command):
    root, marker, hook_marker = armed
    _touch_all(root)
    rc, out, err = run_cli(command[0], root, *command[1:])
    assert rc in (0, 1), err
    assert not marker.exists(), f"{command}: the checkout's core.fsmonitor was executed"
    assert not hook_marker.exists(), f"{command}: a hook from the checkout was executed"


def test_fsmonitor_not_run_by_the_in_place_apply_then_check(armed):
    root, marker, hook_marker = armed
    assert run_cli("apply", root, "--no-format")[0] == 0
    assert run_cli("check", root)[0] == 0
    assert not marker.exists() and not hook_marker.exists()


@pytest.fixture
def filtered(tree, tmp_path):
    """rev-7136 with a `clean` filter driver in .git/config applied to every file by .gitattributes."""
    root = tree()
    marker = tmp_path / "FILTER_RAN"
    script = tmp_path / "clean.sh"
    _script(script, marker, passthrough=True)
    (root / ".gitattributes").write_text("* filter=evil\n")
    _commit(root, "attrs")
    subprocess.run(GIT + ["config", "filter.evil.clean", str(script)], cwd=root, check=True)
    subprocess.run(GIT + ["config", "filter.evil.smudge", str(script)], cwd=root, check=True)
    if marker.exists():
        marker.unlink()
    _touch_all(root)
    return root, marker


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] in ("plan", "check", "describe") or
                                     "--dry-run" in c],
                         ids=lambda c: "-".join(x.strip("-") for x in c))
def test_filter_driver_not_run_by_read_only_commands(filtered, command):
    root, marker = filtered
    rc, _, err = run_cli(command[0], root, *command[1:])
    assert rc in (0, 1), err
    assert not marker.exists(), f"{command}: the checkout's filter driver was executed"


def test_filter_driver_not_run_by_apply_branch(filtered):
    root, marker = filtered
    rc, _, err = run_cli("apply", root, "--branch", "halo", "--no-format")
    assert rc == 0, err
    assert not marker.exists(), "apply --branch executed the checkout's filter driver"


def test_filter_driver_not_run_by_apply_in_place(filtered):
    root, marker = filtered
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    assert not marker.exists(), "apply executed the checkout's filter driver"


def test_the_filter_trap_is_real(filtered):
    root, marker = filtered
    subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True)
    assert marker.exists()


# ---- templates -----------------------------------------------------------------------------------

def test_environment_is_strict():
    import jinja2

    from migrator.recipes import all_recipes

    for recipe in all_recipes():
        env = templates(recipe.template_dir()).environment
        assert env.undefined is jinja2.StrictUndefined
        with pytest.raises(jinja2.UndefinedError):
            env.from_string("{{ missing }}").render()


def test_render_refuses_a_missing_variable():
    from migrator.errors import TemplateError
    from migrator.recipes import all_recipes

    checked = 0
    for recipe in all_recipes():
        tpl = templates(recipe.template_dir())
        for name in tpl.names():
            needed = sorted(tpl.required_variables(name))
            if not needed:
                continue
            with pytest.raises(TemplateError) as info:
                tpl.render(name, **{v: "x" for v in needed[1:]})
            assert needed[0] in info.value.message
            checked += 1
    assert checked >= 2


def test_render_turns_jinja_errors_into_template_error(tmp_path):
    import jinja2

    from migrator.engine.render import Templates
    from migrator.errors import TemplateError

    tpl = Templates(tmp_path)
    (tmp_path / "t.j2").write_text("{{ a.b.c }}")
    with pytest.raises(TemplateError):
        tpl.render("t.j2", a={})


# ---- every write stays inside the checkout ---------------------------------------------------------

def test_writer_refuses_a_symlink_pointing_outside(tmp_path):
    from migrator.engine.deliver.writer import write_all
    from migrator.errors import UnsafePath

    root = (tmp_path / "root").resolve()
    root.mkdir()
    outside = tmp_path / "outside.cpp"
    outside.write_bytes(b"old\n")
    os.symlink(outside, root / "a.cpp")
    with pytest.raises(UnsafePath):
        write_all(root, {"a.cpp": b"old\n"}, {"a.cpp": b"new\n"})
    assert outside.read_bytes() == b"old\n"
    assert os.listdir(root) == ["a.cpp"]


def test_writer_refuses_a_symlink_inside_the_checkout(tmp_path):
    from migrator.engine.deliver.writer import write_all
    from migrator.errors import UnsafePath

    root = (tmp_path / "root").resolve()
    root.mkdir()
    (root / "real.cpp").write_bytes(b"old\n")
    os.symlink("real.cpp", root / "a.cpp")
    with pytest.raises(UnsafePath):
        write_all(root, {"a.cpp": b"old\n"}, {"a.cpp": b"new\n"})
    assert (root / "real.cpp").read_bytes() == b"old\n" and (root / "a.cpp").is_symlink()


def test_writer_refuses_a_path_through_a_symlinked_directory(tmp_path):
    from migrator.engine.deliver.writer import write_all
    from migrator.errors import UnsafePath

    root = (tmp_path / "root").resolve()
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.cpp").write_bytes(b"old\n")
    os.symlink(outside, root / "sub")
    with pytest.raises(UnsafePath):
        write_all(root, {"sub/a.cpp": b"old\n"}, {"sub/a.cpp": b"new\n"})
    assert (outside / "a.cpp").read_bytes() == b"old\n" and os.listdir(outside) == ["a.cpp"]


@pytest.mark.parametrize("rel", ["../escape.cpp", "/tmp/halo-migrate-abs-escape.cpp", "a/../../escape.cpp"])
def test_writer_refuses_relative_escapes_and_absolute_paths(tmp_path, rel):
    from migrator.engine.deliver.writer import write_all
    from migrator.errors import UnsafePath

    root = (tmp_path / "root").resolve()
    (root / "a").mkdir(parents=True)
    with pytest.raises(UnsafePath):
        write_all(root, {rel: b""}, {rel: b"new\n"})
    assert not (tmp_path / "escape.cpp").exists() and not Path("/tmp/halo-migrate-abs-escape.cpp").exists()


def test_a_tampered_journal_cannot_write_outside(tree, tmp_path):
    """recover() trusts the journal's paths only after the same check."""
    root = tree()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me\n")
    rel = os.path.relpath(victim, root)
    (root / ".git" / "halo-migrate.journal").write_text(json.dumps(
        {"files": {rel: {"original": base64.b64encode(b"pwned\n").decode(), "new_sha256": "0" * 64}}}))
    before = snapshot(root)
    rc, _, err = run_cli("apply", root, "--recover")
    assert rc == 2 and "outside the checkout" in err and "Traceback" not in err
    assert victim.read_bytes() == b"keep me\n"
    assert snapshot(root) == before


def test_apply_through_a_symlink_to_outside_writes_nothing_outside(tree, tmp_path):
    root = tree(git=False)
    outside = tmp_path / "outside_ct.cpp"
    outside.write_bytes((root / CT).read_bytes())
    (root / CT).unlink()
    os.symlink(outside, root / CT)
    before_outside = outside.read_bytes()
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err
    assert outside.read_bytes() == before_outside
    assert (root / CT).is_symlink()


def test_apply_through_a_symlinked_directory_writes_nothing_outside(tree, tmp_path):
    root = tree(git=False)
    conv2d = root / "ttnn/cpp/ttnn/operations/conv/conv2d"
    elsewhere = tmp_path / "elsewhere_conv2d"
    os.rename(conv2d, elsewhere)
    os.symlink(elsewhere, conv2d)
    before = {p.name: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err
    assert {p.name: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()} == before


# ---- external programs: argument lists only ----------------------------------------------------------

def _python_sources():
    return sorted((REPO / "migrator").rglob("*.py"))


def test_no_shell_true_anywhere_under_migrator():
    offenders = []
    for path in _python_sources():
        text = path.read_text(encoding="utf-8")
        if "shell=True" in text.replace(" ", ""):
            offenders.append(str(path))
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        offenders.append(f"{path}:{node.lineno}")
    assert not offenders, offenders


def test_no_os_system_popen_eval_or_exec_under_migrator():
    banned = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnl")}
    offenders = []
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in banned:
                offenders.append(f"{path}:{node.lineno} {f.value.id}.{f.attr}")
            if isinstance(f, ast.Name) and f.id in ("eval", "exec"):
                offenders.append(f"{path}:{node.lineno} {f.id}")
    assert not offenders, offenders


def test_subprocess_and_git_calls_pass_lists():
    """Every subprocess.run/Popen/check_output and GitPython execute() gets a list (or a name bound to
    one), never a string."""
    offenders = []
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("run", "Popen", "check_output", "check_call", "call", "execute"):
                continue
            owner = ast.unparse(node.func.value)
            if not (owner == "subprocess" or owner.endswith(".git")):
                continue
            if node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                offenders.append(f"{path}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not offenders, offenders


def test_git_is_always_run_with_fsmonitor_and_hooks_disabled(monkeypatch, tmp_path):
    import subprocess as sp

    from migrator.engine import gitcmd
    from migrator.engine.checkout import Checkout
    from migrator.engine.deliver import git as gitops

    assert "core.fsmonitor=false" in gitcmd.SAFE_GIT and "core.hooksPath=/dev/null" in gitcmd.SAFE_GIT
    seen = []

    def fake_run(argv, **kwargs):
        seen.append(argv)
        return sp.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(gitcmd.subprocess, "run", fake_run)

    class FakeRepo:
        working_dir = str(tmp_path)

    gitops.run(FakeRepo(), "status")
    (tmp_path / ".git").mkdir()
    Checkout.open(tmp_path).cpp_files()  # git ls-files
    assert len(seen) == 2 and all(cmd[:len(gitcmd.SAFE_GIT)] == gitcmd.SAFE_GIT for cmd in seen), seen
    # every other place that starts git goes through gitcmd; HEAD's blobs and trees are read through
    # GitPython's object database (`git cat-file --batch`: no hook, filter or fsmonitor)
    for path in _python_sources():
        text = path.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            if '["git"' in line.replace(" ", "") or "['git'" in line.replace(" ", ""):
                assert path.name == "gitcmd.py", f"{path}:{lineno} starts git directly"

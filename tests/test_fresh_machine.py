"""A machine with no git identity (empty HOME, no system config), as on most CI runners; the
commit and mailbox patch that git itself builds; the patch file's mode."""

import os
import stat
import subprocess
import sys

from conftest import GIT, REPO, run_cli



def fresh_env(tmp_path):
    """This process's environment as a fresh machine has it: no git identity anywhere."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "EMAIL"}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONPATH": str(REPO)}


def run_fresh(tmp_path, *argv):
    res = subprocess.run([sys.executable, "-m", "migrator", *map(str, argv)], capture_output=True, text=True,
                         env=fresh_env(tmp_path))
    return res.returncode, res.stdout, res.stderr


def git_out(root, *args):
    return subprocess.run(GIT + list(args), cwd=root, capture_output=True, text=True, check=True).stdout


def test_branch_without_any_git_identity_commits_as_the_named_fallback_with_one_note(tree, tmp_path):
    root = tree("rev-7136")
    rc, _, err = run_fresh(tmp_path, "apply", root, "--branch", "halo/fresh", "--no-format")
    assert rc == 0, err
    assert err.count("\n") == 1 and "no git identity configured" in err
    who = git_out(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "halo/fresh")
    fallback = "halo-migrate <halo-migrate@users.noreply.github.com>"
    assert who.strip() == f"{fallback}|{fallback}"
    rc, _, err = run_fresh(tmp_path, "apply", root, "--branch", "halo/quiet", "--no-format", "--quiet")
    assert rc == 0 and err == ""


def test_the_checkouts_own_identity_is_used_and_no_note_is_printed(tree, tmp_path):
    root = tree("rev-7136")
    subprocess.run(["git", "config", "user.name", "Ada Engineer"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.email", "ada@example.com"], cwd=root, check=True)
    rc, _, err = run_fresh(tmp_path, "apply", root, "--patch", tmp_path / "p.patch", "--no-format")
    assert rc == 0 and "no git identity" not in err, err
    assert "From: Ada Engineer <ada@example.com>" in (tmp_path / "p.patch").read_text()


def test_patch_is_git_format_patch_of_a_commit_and_honours_the_umask(tree, tmp_path):
    root = tree("rev-7136")
    patch = tmp_path / "halo.patch"
    old = os.umask(0o022)
    try:
        rc, _, _ = run_cli("apply", root, "--patch", patch, "--no-format")
    finally:
        os.umask(old)
    assert rc == 0
    assert stat.S_IMODE(patch.stat().st_mode) == 0o644
    text = patch.read_text()
    first = text.splitlines()[0]
    assert first.startswith("From ") and first.split()[1] != "0" * 40  # a real commit's id
    assert "\nindex " in text  # git's blob ids: `git am -3` can fall back to a three-way merge
    # the working tree, index and refs are untouched; the commit is not referenced by any branch
    assert git_out(root, "status", "--porcelain") == ""
    assert git_out(root, "for-each-ref", "--format=%(refname)").split() in (["refs/heads/main"],
                                                                           ["refs/heads/master"])


def test_patch_of_a_tree_with_uncommitted_edits_diffs_the_files_as_read(tree, tmp_path):
    """The patch is `files as they were read` -> migrated, whatever HEAD holds (unchanged behaviour)."""
    root = tree("rev-7136")
    cpp = root / "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"
    cpp.write_bytes(cpp.read_bytes() + b"// local edit\n")
    patch = tmp_path / "halo.patch"
    assert run_cli("apply", root, "--patch", patch, "--no-format")[0] == 0
    assert "local edit" not in patch.read_text()  # context-free: the local line is not part of any hunk
    subprocess.run(GIT + ["apply", "--check", str(patch)], cwd=root, check=True)


def test_patch_of_a_tree_that_is_not_a_git_repository_is_built_by_git_too(tree, tmp_path):
    root = tree("rev-7136", git=False)
    patch = tmp_path / "halo.patch"
    rc, _, err = run_cli("apply", root, "--patch", patch, "--no-format")
    assert rc == 0, err
    text = patch.read_text()
    assert text.startswith("From ") and "calculate_precise_halo_output_elems" in text
    assert not (root / ".git").exists()

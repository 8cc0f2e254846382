"""Two runs on one checkout: a lock per checkout in .git/, recovery only under it, and success
printed only for a tree that is migrated on disk."""

import base64
import hashlib
import json
import subprocess
import sys

import pytest
from filelock import FileLock

from conftest import GIT, REPO, run_cli, snapshot

CONV = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"


def test_concurrent_apply_pairs_never_report_a_false_success():
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "concurrent_apply.py"), "--pairs", "3",
                          "--stagger", "0.5", "--json"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    tally = json.loads(res.stdout)
    assert tally["false_success"] == 0 and tally["half_migrated"] == 0, tally
    assert tally["trees"] == {"new": 3}, tally


def test_a_second_run_waits_then_refuses_with_one_line_and_touches_nothing(tree):
    from migrator.engine.deliver.lock import lock_path

    root = tree("rev-7136")
    before = snapshot(root)
    path = lock_path(root)
    assert path.parent == root / ".git"
    with FileLock(str(path)):
        rc, out, err = run_cli("apply", root, "--no-format", env={"HALO_MIGRATE_LOCK_TIMEOUT": "0.3"})
        assert rc == 2 and out == "" and err.count("\n") == 1 and "checkout busy" in err and "waited 0.3 s" in err
        assert run_cli("check", root, env={"HALO_MIGRATE_LOCK_TIMEOUT": "0"})[0] == 2
    assert snapshot(root) == before
    assert run_cli("check", root)[0] == 1  # released: the next run goes ahead


def test_recovery_never_undoes_a_live_runs_writes(tree):
    """A journal beside a held lock belongs to a run that is still writing: the next run must not
    put the originals back (the old race: its 'migrated' was a lie once the other run 'recovered')."""
    from migrator.engine.deliver.lock import lock_path
    from migrator.engine.deliver.writer import journal_path

    root = tree("rev-7136")
    target = root / CONV
    original = target.read_bytes()
    written = original + b"// written by the live run\n"
    target.write_bytes(written)
    journal = journal_path(root)
    journal.write_text(json.dumps({"files": {CONV: {"original": base64.b64encode(original).decode(),
                                                    "new_sha256": hashlib.sha256(written).hexdigest()}}}))
    with FileLock(str(lock_path(root))):
        for argv in (["check", root], ["apply", root, "--recover"], ["plan", root]):
            rc, _, err = run_cli(*argv, env={"HALO_MIGRATE_LOCK_TIMEOUT": "0.2"})
            assert rc == 2 and "checkout busy" in err
        assert target.read_bytes() == written and journal.exists()
    # the live run died without finishing: now the journal is stale and is recovered
    rc, out, _ = run_cli("apply", root, "--recover")
    assert rc == 0 and "recovered 1 file" in out
    assert target.read_bytes() == original and not journal.exists()


def test_lock_and_journal_stay_out_of_the_work_tree(tree):
    root = tree("rev-7136")
    assert run_cli("apply", root, "--no-format")[0] == 0
    status = subprocess.run(GIT + ["status", "--porcelain", "--ignored"], cwd=root, capture_output=True,
                            text=True, check=True).stdout
    assert status and all(line.startswith(" M ") for line in status.splitlines()), status
    assert (root / ".git" / "halo-migrate.lock").exists()


def test_lock_of_a_linked_worktree_is_in_its_own_git_dir(tree, tmp_path):
    from migrator.engine.deliver.lock import lock_path

    root = tree("rev-7136")
    wt = tmp_path / "linked"
    subprocess.run(GIT + ["worktree", "add", "-q", str(wt)], cwd=root, check=True)
    path = lock_path(wt)
    assert root / ".git" / "worktrees" in path.parents and path != lock_path(root)
    assert run_cli("apply", wt, "--no-format")[0] == 0
    status = subprocess.run(GIT + ["status", "--porcelain"], cwd=wt, capture_output=True, text=True).stdout
    assert "??" not in status


def test_success_only_after_the_files_on_disk_are_what_was_written(tree, monkeypatch):
    from migrator.engine.deliver import writer
    from migrator.errors import PostconditionFailed

    root = tree("rev-7136")
    originals = {CONV: (root / CONV).read_bytes()}
    new = {CONV: originals[CONV] + b"// new\n"}
    real = writer.write_atomic

    def lossy(target, data, **kw):  # a write that does not land as asked (another writer, a full disk ...)
        real(target, data[:-3] if data == new[CONV] else data, **kw)

    monkeypatch.setattr(writer, "write_atomic", lossy)
    with pytest.raises(PostconditionFailed, match="not what was written"):
        writer.write_all(root, originals, new)

"""Bad input: one clear line on stderr, exit 2, nothing written; odd but valid input migrates."""

import os
import subprocess

import pytest

from conftest import GIT, run_cli, run_cli_killed_at_write, snapshot

CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
CH = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"


def refuses(root, *argv, contains=""):
    before = snapshot(root)
    rc, out, err = run_cli(*argv)
    assert rc == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert contains in err, err
    assert snapshot(root) == before
    return err


def edit(root, rel, old, new, count=1):
    p = root / rel
    data = p.read_bytes()
    assert data.count(old) >= 1, old
    p.write_bytes(data.replace(old, new, count))


def test_missing_path(tmp_path):
    rc, _, err = run_cli("plan", tmp_path / "nope")
    assert rc == 2 and "no such file or directory" in err and len(err.splitlines()) == 1


def test_path_is_a_file(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    rc, _, err = run_cli("check", f)
    assert rc == 2 and "not a directory" in err


def test_empty_directory_is_not_tt_metal(tmp_path):
    refuses(tmp_path, "check", tmp_path, contains="not a tt-metal checkout")


def test_not_a_git_repo_dry_run_and_patch_work_branch_refuses(tree, tmp_path):
    root = tree(git=False)
    assert run_cli("apply", root, "--dry-run", "--no-format")[0] == 0
    assert run_cli("apply", root, "--patch", tmp_path / "p.patch", "--no-format")[0] == 0
    refuses(root, "apply", root, "--branch", "x", "--no-format", contains="not a git repository")


def test_invalid_branch_name(tree):
    root = tree()
    refuses(root, "apply", root, "--branch", "bad..name", "--no-format", contains="not a valid branch name")


def test_detached_head_branch_still_works(tree):
    root = tree()
    subprocess.run(GIT + ["checkout", "-q", "--detach"], cwd=root, check=True)
    assert run_cli("apply", root, "--branch", "halo", "--no-format")[0] == 0


def test_read_only_file_refused(tree):
    root = tree()
    os.chmod(root / CH, 0o444)
    os.chmod(root / CH.rsplit("/", 1)[0], 0o555)
    try:
        if os.access(root / CH, os.W_OK):
            pytest.skip("running as a user that ignores file modes")
        refuses(root, "apply", root, "--no-format", contains="not writable")
    finally:
        os.chmod(root / CH.rsplit("/", 1)[0], 0o755)


def test_unwritable_patch_destination(tree, tmp_path):
    root = tree()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    refuses(root, "apply", root, "--patch", blocker / "sub" / "p.patch", "--no-format", contains="cannot write")


def test_symlink_outside_checkout_is_not_followed(tree, tmp_path):
    root = tree(git=False)
    outside = tmp_path / "outside.cpp"
    outside.write_text("uint32_t x = estimate_halo_output_elems(a, b, c, d, e, f, g);\n")
    os.symlink(outside, root / "ttnn" / "evil.cpp")
    rc, out, err = run_cli("plan", root)
    assert rc == 0 and "outside the checkout" in out
    assert outside.read_text().startswith("uint32_t x = estimate")


def test_call_with_wrong_argument_count(tree):
    root = tree()
    edit(root, CU, b"halo_input_shard_shape, batch_size,", b"halo_input_shard_shape,")
    refuses(root, "plan", root, contains="arguments")


def test_function_pointer_to_the_estimate(tree):
    root = tree()
    edit(root, CU, b"namespace ttnn::operations::conv {",
         b"namespace ttnn::operations::conv {\nstatic auto* const estimate_fn = &estimate_halo_output_elems;", 1)
    refuses(root, "plan", root, contains="other than by a direct call")


def test_estimate_defined_twice(tree):
    root = tree()
    extra = root / "ttnn/cpp/ttnn/operations/conv/extra.cpp"
    extra.write_text("uint32_t estimate_halo_output_elems(std::array<uint32_t, 2> halo_input_shard_shape, uint32_t batch_size,"
                     " uint32_t input_height, uint32_t input_width, std::array<uint32_t, 2> kernel_size,"
                     " std::array<uint32_t, 2> dilation, std::array<uint32_t, 4> padding) { return 0; }\n")
    subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", "dup"], cwd=root, check=True)
    refuses(root, "plan", root, contains="defined 2 times")


def test_if_0_block_refuses_naming_the_line(tree):
    """Disabled code is never compiled, and would break once re-enabled: a person decides."""
    root = tree(git=False)
    (root / "ttnn/cpp/ttnn/operations/conv/old.cpp").write_text(
        "#if 0\nuint32_t old = estimate_halo_output_elems(s, b, h, w, k, d, p);\n#endif\n")
    rc, out, err = run_cli("plan", root)
    assert rc == 2 and out == ""
    assert "ttnn/cpp/ttnn/operations/conv/old.cpp:2: estimate_halo_output_elems is used in code disabled by " \
           "`#if 0` (line 1)" in err


def test_comment_and_string_mentions_are_ignored(tree):
    root = tree(git=False)
    (root / "ttnn/cpp/ttnn/operations/conv/notes.cpp").write_text(
        '// estimate_halo_output_elems was the old way\nconst char* s = "estimate_halo_output_elems";\n')
    rc, out, _ = run_cli("plan", root, "--format", "json")
    assert rc == 0 and "only in comments or strings" in out


def test_non_utf8_bytes_survive(tree):
    root = tree(git=False)
    edit(root, CU, b"namespace ttnn::operations::conv {", b"// caf\xe9 latin-1 comment\nnamespace ttnn::operations::conv {")
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    assert b"caf\xe9 latin-1" in (root / CU).read_bytes()


def test_byte_order_mark_is_kept(tree):
    root = tree(git=False)
    p = root / CU
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    data = p.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"estimate_halo_output_elems" not in data


def test_crlf_file_stays_crlf(tree):
    root = tree(git=False)
    p = root / CU
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    data = p.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"calculate_precise_halo_output_elems" in data


def test_explicit_capture_list_blocks_threading(tree):
    root = tree()
    data = (root / CU).read_bytes()
    i = data.index(b"get_l1_usage_for_sharding = [&]")
    (root / CU).write_bytes(data[:i] + data[i:].replace(b"[&]", b"[&batch_size]", 1))
    refuses(root, "plan", root, contains="explicit list")


def test_threading_blocked_when_a_caller_has_no_stride(tree):
    root = tree()
    p = root / "ttnn/cpp/ttnn/operations/conv/conv2d/prepare_conv2d_weights.cpp"
    p.write_bytes(p.read_bytes().replace(b"stride", b"step"))
    refuses(root, "plan", root, contains="no `stride` is in scope")


def test_recover_after_kill_at_every_write_point(tree):
    root = tree()
    original = snapshot(root)
    killed = 0
    for point in range(7):
        rc, _, _ = run_cli_killed_at_write(point, "apply", root, "--no-format")
        assert rc == -9
        killed += 1
        assert (root / ".git" / "halo-migrate.journal").exists()
        rc, out, _ = run_cli("apply", root, "--recover")
        assert rc == 0
        assert snapshot(root) == original, f"tree not fully restored after a kill at write {point}"
    assert killed == 7
    assert run_cli("apply", root, "--no-format")[0] == 0
    assert run_cli("check", root)[0] == 0


def test_debug_shows_traceback_only_when_asked(tmp_path):
    rc, _, err = run_cli("plan", tmp_path / "nope", "--debug")
    assert rc != 0 and "Traceback" in err


def test_using_declaration_of_the_estimate_is_removed_with_it(tree):
    root = tree(git=False)
    extra = root / "ttnn/cpp/ttnn/operations/conv/alias.cpp"
    extra.write_text('#include "ttnn/operations/conv/conv2d/conv2d_utils.hpp"\n'
                     "namespace ttnn::operations::pool {\nusing conv::estimate_halo_output_elems;\n"
                     "int keep = 1;\n}  // namespace ttnn::operations::pool\n")
    rc, out, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    text = extra.read_text()
    assert "estimate_halo_output_elems" not in text and "int keep = 1;" in text


def test_transposed_caller_gets_a_reviewer_note(tree):
    rc, out, _ = run_cli("plan", tree("rev-7136"))
    assert rc == 0
    assert ("sliding_window::get_pair_n4_padding(padding) → {0, 0, 0, 0} and stride {1, 1}: the sizes passed are the "
            "transposed conv's zero-inserted full input, on which a stride-1 conv without padding runs") in out


def test_unreadable_file_refuses_even_where_file_modes_cannot_be_enforced(tree, monkeypatch, capsys):
    """Same policy as tests/test_bad_inputs_more.py's unprivileged cases, simulated in-process so it
    also runs where the tests cannot drop root: a C++ file that cannot be read stops the run."""
    import builtins

    from migrator.cli import main

    root = tree(git=False)
    before = snapshot(root)
    target = str(root / CU)
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if str(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    assert main(["apply", str(root), "--no-format"]) == 2
    err = capsys.readouterr().err
    assert "conv2d_utils.cpp" in err and "cannot read" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setattr(builtins, "open", real_open)
    assert snapshot(root) == before


def test_call_inside_a_one_line_lambda_gets_its_config_inside_the_lambda(tree):
    """The config is built where the call was made: inside the lambda, every time it runs."""
    root = tree(git=False)
    edit(root, CU, b"uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
                   b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation,"
                   b" padding);",
         b"uint32_t approx_input_size_per_core = [&]() { return estimate_halo_output_elems(\n"
         b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation,"
         b" padding); }();")
    rc, _, err = run_cli("apply", root, "--no-format")
    assert rc == 0, err
    text = (root / CU).read_text()
    lam = text.index("approx_input_size_per_core = [&]() {")
    config = text.index("SlidingWindowConfig halo_config;")
    call = text.index("return sliding_window::calculate_precise_halo_output_elems(halo_config,")
    assert lam < config < call


def test_one_line_lambda_with_explicit_captures_is_refused(tree):
    root = tree()
    edit(root, CU, b"uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
                   b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation,"
                   b" padding);",
         b"uint32_t approx_input_size_per_core = [halo_input_shard_shape, batch_size, input_height, input_width, "
         b"kernel_size, dilation, padding]() { return estimate_halo_output_elems(\n"
         b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation,"
         b" padding); }();")
    subprocess.run(GIT + ["commit", "-qam", "lambda"], cwd=root, check=True)
    refuses(root, "plan", root, contains="explicit")

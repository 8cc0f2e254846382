"""More bad and odd input. Each case states its outcome: exit code, one clear stderr line, no
traceback, and, when the tool refuses, proof that nothing was written (tree, refs and files
next to the target compared before/after)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GIT, REPO, run_cli, snapshot

CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
CH = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"
SH = "ttnn/cpp/ttnn/operations/sliding_window/sliding_window.hpp"
SW = "ttnn/cpp/ttnn/operations/sliding_window/sliding_window.cpp"
CT = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"
CONV = "ttnn/cpp/ttnn/operations/conv"

SITE1 = (b"uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
         b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);")
SITE1_CALL = (b"estimate_halo_output_elems(\n"
              b"            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding)")
EST_DECL = (b"uint32_t estimate_halo_output_elems(\n    std::array<uint32_t, 2> halo_input_shard_shape,\n"
            b"    uint32_t batch_size,\n    uint32_t input_height,\n    uint32_t input_width,\n"
            b"    std::array<uint32_t, 2> kernel_size,\n    std::array<uint32_t, 2> dilation,\n"
            b"    std::array<uint32_t, 4> padding);\n")


# ---- helpers -----------------------------------------------------------------------------------

def full_state(root):
    """Everything a write could touch: the work tree, the refs, the index and HEAD."""
    state = {"tree": snapshot(root)}
    if (root / ".git").is_dir():
        state["refs"] = subprocess.run(GIT + ["for-each-ref"], cwd=root, capture_output=True, text=True).stdout
        index = root / ".git" / "index"
        state["index"] = index.read_bytes() if index.exists() else None
        state["HEAD"] = (root / ".git" / "HEAD").read_bytes()
    return state


def one_line(err):
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def refuses(root, *argv, contains="", extra_dirs=()):
    before = full_state(root)
    around = {d: sorted(os.listdir(d)) for d in extra_dirs}
    rc, out, err = run_cli(*argv)
    assert rc == 2, (rc, out, err)
    line = one_line(err)
    assert contains in line, line
    assert full_state(root) == before, "a refusal wrote something"
    for d, names in around.items():
        assert sorted(os.listdir(d)) == names, f"a refusal left files in {d}"
    return line


def succeeds(*argv, env=None):
    rc, out, err = run_cli(*argv, env=env)
    assert rc == 0, (rc, out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    return out, err


def edit(root, rel, old, new, count=1):
    p = root / rel
    data = p.read_bytes()
    assert data.count(old) >= count, old
    p.write_bytes(data.replace(old, new, count))


def commit(root, msg="edit"):
    subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", msg], cwd=root, check=True)


def migrated_cleanly(root):
    """After an in-place apply: the tree parses, nothing references the estimate, and a second plan
    finds it migrated."""
    from migrator.engine.checkout import Checkout
    from migrator.engine.locate import find_occurrences
    from migrator.engine.project import Project
    from migrator.engine.source import SourceFile
    from migrator.recipe.plan import build_plan

    for path, data in snapshot(root).items():
        if path.endswith((".cpp", ".hpp")) and b"estimate_halo_output_elems" in data:
            src = SourceFile.parse(path, data)
            assert not [o for o in find_occurrences(src, "estimate_halo_output_elems")
                        if o.kind != "inactive"], path
    plan = build_plan(Project(Checkout.open(root)))
    assert plan.state == "migrated" and not plan.pending


def git_init_only(root):
    subprocess.run(GIT + ["init", "-q"], cwd=root, check=True)


# ---- command line ------------------------------------------------------------------------------

def test_no_arguments_prints_usage_and_exits_2():
    rc, out, err = run_cli()
    assert rc == 2 and "usage:" in err and "Traceback" not in err


def test_invalid_format_value_exits_2(tree):
    root = tree(git=False)
    before = snapshot(root)
    rc, _, err = run_cli("plan", root, "--format", "yaml")
    assert rc == 2 and "invalid choice" in err and "Traceback" not in err
    assert snapshot(root) == before


def test_unknown_subcommand_exits_2():
    rc, _, err = run_cli("migrate", ".")
    assert rc == 2 and "invalid choice" in err and "Traceback" not in err


def test_empty_string_path(tmp_path):
    rc, _, err = run_cli("plan", "", cwd=tmp_path)
    assert rc == 2
    one_line(err)


def test_verify_with_missing_specs_file(tree, tmp_path):
    root = tree(git=False)
    refuses(root, "verify", root, "--specs", tmp_path / "nope.json")


# ---- odd files that must not disturb the migration -----------------------------------------------

def test_empty_cpp_file_is_harmless(tree):
    root = tree(git=False)
    (root / CONV / "empty.cpp").write_bytes(b"")
    (root / CONV / "empty.hpp").write_bytes(b"")
    succeeds("apply", root, "--no-format")
    assert (root / CONV / "empty.cpp").read_bytes() == b""
    migrated_cleanly(root)


def test_file_that_is_only_if_0(tree):
    root = tree(git=False)
    (root / CONV / "only_if0.cpp").write_bytes(b"#if 0\n")
    (root / CONV / "only_if0_b.cpp").write_bytes(b"#if 0\n#endif\n")
    succeeds("apply", root, "--no-format")
    assert (root / CONV / "only_if0.cpp").read_bytes() == b"#if 0\n"


def test_unterminated_if_0_holding_a_call_is_not_rewritten(tree):
    root = tree(git=False)
    (root / CONV / "dead.cpp").write_bytes(b"#if 0\nuint32_t x = estimate_halo_output_elems(a, b, c, d, e, f, g);\n")
    before = (root / CONV / "dead.cpp").read_bytes()
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
    else:
        assert rc == 0
    assert (root / CONV / "dead.cpp").read_bytes() == before


def test_directory_named_like_a_cpp_file(tree):
    root = tree()
    d = root / CONV / "weird.cpp"
    d.mkdir()
    (d / "inner.txt").write_text("not C++\n")
    commit(root)
    succeeds("plan", root)
    succeeds("apply", root, "--no-format")
    assert d.is_dir() and (d / "inner.txt").read_text() == "not C++\n"


def test_directory_named_like_a_cpp_file_without_git(tree):
    root = tree(git=False)
    (root / CONV / "weird.hpp").mkdir()
    succeeds("apply", root, "--no-format")
    assert (root / CONV / "weird.hpp").is_dir()


def test_deep_directory_nesting(tree):
    root = tree(git=False)
    d = root / "ttnn"
    for i in range(60):
        d = d / f"d{i}"
    d.mkdir(parents=True)
    (d / "deep.cpp").write_text("// estimate_halo_output_elems mentioned only here, in a comment\nint deep = 0;\n")
    succeeds("apply", root, "--no-format")
    migrated_cleanly(root)


def test_deeply_nested_blocks(tree):
    root = tree(git=False)
    depth = 400
    body = "void nest() " + "{ " * depth + "int x = 0; (void)x; " + "} " * depth + "\n"
    (root / CONV / "nested.cpp").write_text("// uses estimate_halo_output_elems? no.\n" + body)
    succeeds("apply", root, "--no-format")


def test_huge_file_still_migrates(tree):
    root = tree(git=False)
    line = b"// " + b"x" * 1000 + b"\n"
    with open(root / CU, "ab") as fh:
        fh.write(line * (20 * 1024 * 1024 // len(line)))
    assert (root / CU).stat().st_size > 20 * 1024 * 1024
    succeeds("apply", root, "--no-format")
    data = (root / CU).read_bytes()
    assert b"calculate_precise_halo_output_elems" in data and data.endswith(line)
    migrated_cleanly(root)


def test_file_with_nul_bytes_in_a_comment(tree):
    """NUL bytes make git treat the file as binary; the sites in it must still be found, or the tool
    must refuse. Deleting the declaration while CU still calls the estimate would break the build."""
    root = tree()
    edit(root, CU, b"namespace ttnn::operations::conv {", b"// nul \x00 byte\nnamespace ttnn::operations::conv {")
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
    else:
        assert rc == 0, err
        data = (root / CU).read_bytes()
        assert b"\x00" in data
        assert b"estimate_halo_output_elems(" not in data, "CU still calls the estimate after the migration"


def test_file_with_nul_bytes_not_in_git(tree):
    root = tree(git=False)
    edit(root, CU, b"namespace ttnn::operations::conv {", b"// nul \x00 byte\nnamespace ttnn::operations::conv {")
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 0:
        assert b"estimate_halo_output_elems(" not in (root / CU).read_bytes()


def test_very_long_single_line(tree):
    root = tree(git=False)
    (root / CONV / "long.cpp").write_bytes(b"int long_line[] = {" + b"1, " * 300_000 + b"1};\n")
    succeeds("apply", root, "--no-format")


def test_unicode_and_spaces_in_the_checkout_path(tmp_path):
    from conftest import FIXTURES, copy_tree

    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "my checkout ü", git=True)
    succeeds("apply", root, "--no-format")
    migrated_cleanly(root)


# ---- where the estimate is (and is not) -------------------------------------------------------

def test_estimate_called_in_a_header_inline_function(tree):
    root = tree()
    edit(root, CH, EST_DECL, EST_DECL + (
        b"\ninline uint32_t halo_guess(std::array<uint32_t, 2> s, uint32_t b, uint32_t h, uint32_t w,\n"
        b"    std::array<uint32_t, 2> k, std::array<uint32_t, 2> d, std::array<uint32_t, 4> p) {\n"
        b"    return estimate_halo_output_elems(s, b, h, w, k, d, p);\n}\n"))
    commit(root)
    refuses(root, "plan", root)
    refuses(root, "apply", root, "--no-format")


def test_call_with_more_arguments(tree):
    root = tree()
    edit(root, CU, b"kernel_size, dilation, padding);", b"kernel_size, dilation, padding, 1);")
    commit(root)
    refuses(root, "plan", root, contains="arguments")
    refuses(root, "apply", root, "--no-format", contains="arguments")


def test_same_call_twice_in_one_lambda(tree):
    """A second identical call in the same lambda: either both are rewritten into code that still
    declares each name once, or the tool refuses cleanly."""
    root = tree()
    edit(root, CU, SITE1, SITE1 + b"\n        uint32_t approx_again = " + SITE1_CALL + b";\n"
         b"        approx_input_size_per_core += approx_again;")
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
        return
    assert rc == 0
    data = (root / CU).read_bytes()
    assert len(re.findall(rb"SlidingWindowConfig halo_config\b", data)) <= 1, "halo_config declared twice in one scope"
    migrated_cleanly(root)


def test_call_at_namespace_scope(tree):
    root = tree()
    (root / CONV / "global_site.cpp").write_bytes(
        b'#include "conv2d/conv2d_utils.hpp"\nnamespace ttnn::operations::conv {\n'
        b"const uint32_t g = estimate_halo_output_elems({32, 32}, 1, 8, 8, {3, 3}, {1, 1}, {1, 1, 1, 1});\n}\n")
    commit(root)
    refuses(root, "plan", root)
    refuses(root, "apply", root, "--no-format")


def test_estimate_declared_and_defined_but_never_called(tree):
    root = tree()
    for old in (SITE1_CALL,):
        edit(root, CU, old, b"0")
    data = (root / CU).read_bytes()
    i = data.index(b"uint32_t approx_max_halo_bytes = estimate_halo_output_elems(")
    j = data.index(b"input_datum_size;", i) + len(b"input_datum_size;")
    (root / CU).write_bytes(data[:i] + b"uint32_t approx_max_halo_bytes = 0 * input_datum_size;" + data[j:])
    commit(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        return
    assert rc == 0
    migrated_cleanly(root)
    assert b"estimate_halo_output_elems" not in (root / CH).read_bytes()


def test_estimate_called_but_never_declared(tree):
    root = tree()
    edit(root, CH, EST_DECL, b"")
    data = (root / CU).read_bytes()
    i = data.index(b"uint32_t estimate_halo_output_elems(\n")
    j = data.index(b"};\n", i) + 3
    (root / CU).write_bytes(data[:i] + data[j:])
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
    else:
        migrated_cleanly(root)


def test_estimate_parameters_renamed_in_the_declaration(tree):
    """Legal C++ (names in a declaration do not matter): the definition's names map the arguments."""
    root = tree()
    edit(root, CH, b"std::array<uint32_t, 2> halo_input_shard_shape,\n    uint32_t batch_size,",
         b"std::array<uint32_t, 2> shard,\n    uint32_t n,")
    commit(root)
    succeeds("apply", root, "--no-format")
    migrated_cleanly(root)


def test_estimate_only_in_a_macro_body(tree):
    root = tree()
    edit(root, CU, b"namespace ttnn::operations::conv {",
         b"#define HALO_GUESS(...) estimate_halo_output_elems(__VA_ARGS__)\nnamespace ttnn::operations::conv {")
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
    else:
        # Deleting the estimate would leave the macro pointing at nothing; the tool must say so.
        assert "macro" in out + err


def test_call_used_inside_an_expression_statement(tree):
    root = tree()
    edit(root, CU, SITE1, b"uint32_t approx_input_size_per_core = 0;\n        approx_input_size_per_core += " +
         SITE1_CALL + b";")
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
    else:
        migrated_cleanly(root)


def test_syntax_error_in_a_file_with_a_site(tree):
    root = tree()
    edit(root, CU, b"auto halo_input_shard_shape = ", b"auto halo_input_shard_shape = ((( ")
    commit(root)
    refuses(root, "plan", root)
    refuses(root, "apply", root, "--no-format")


# ---- the rest of the tree ----------------------------------------------------------------------

def test_sliding_window_header_missing(tree):
    root = tree()
    (root / SH).unlink()
    commit(root)
    refuses(root, "plan", root, contains="sliding_window")
    refuses(root, "apply", root, "--no-format", contains="sliding_window")


def test_generate_max_out_nsticks_per_core_missing(tree):
    root = tree()
    for rel in (SH, SW, "ttnn/cpp/ttnn/operations/sliding_window/halo/device/halo_device_operation.cpp"):
        p = root / rel
        p.write_bytes(p.read_bytes().replace(b"generate_max_out_nsticks_per_core", b"max_sticks_per_core"))
    commit(root)
    refuses(root, "plan", root, contains="generate_max_out_nsticks_per_core")
    refuses(root, "apply", root, "--no-format", contains="generate_max_out_nsticks_per_core")


def test_overloaded_determine_conv_config_for_auto_shard(tree):
    root = tree()
    edit(root, CH, b"// Everything needed to size one DRAM-sliced conv2d.",
         b"Conv2dConfig determine_conv_config_for_auto_shard(const Conv2dConfig& conv_config_, uint32_t batch_size);\n\n"
         b"// Everything needed to size one DRAM-sliced conv2d.")
    commit(root)
    before = full_state(root)
    rc, out, err = run_cli("apply", root, "--no-format")
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        one_line(err)
        assert full_state(root) == before
        return
    data = (root / CH).read_bytes()
    # the 2-parameter overload must not have gained a stride parameter
    assert b"determine_conv_config_for_auto_shard(const Conv2dConfig& conv_config_, uint32_t batch_size);" in data
    migrated_cleanly(root)


def test_default_arguments_after_kernel_size_do_not_block_threading(tree):
    """`stride` goes right after kernel_size: a parameter without a default before defaulted ones is
    legal C++, so the defaults after it stay as they are (tests/test_mentions.py has the refusal for a
    default at or before kernel_size)."""
    root = tree()
    edit(root, CH, b"    const std::array<uint32_t, 2>& dilation,\n    const std::array<uint32_t, 4>& padding,\n"
         b"    uint32_t groups,\n    bool enable_bias,\n    const DeviceComputeKernelConfig& compute_config);",
         b"    const std::array<uint32_t, 2>& dilation = {1, 1},\n"
         b"    const std::array<uint32_t, 4>& padding = {0, 0, 0, 0},\n    uint32_t groups = 1,\n"
         b"    bool enable_bias = false,\n    const DeviceComputeKernelConfig& compute_config = {});")
    commit(root)
    succeeds("apply", root, "--no-format")
    assert (b"    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& stride,\n"
            b"    const std::array<uint32_t, 2>& dilation = {1, 1},\n") in (root / CH).read_bytes()
    migrated_cleanly(root)


# ---- git and delivery ----------------------------------------------------------------------------

def test_git_repo_with_no_commits(tree, tmp_path):
    root = tree(git=False)
    git_init_only(root)
    out, _ = succeeds("apply", root, "--dry-run", "--no-format")
    assert "calculate_precise_halo_output_elems" in out
    succeeds("apply", root, "--patch", tmp_path / "p.patch", "--no-format")
    refuses(root, "apply", root, "--branch", "halo", "--no-format")


def test_git_repo_with_no_commits_says_so(tree):
    root = tree(git=False)
    git_init_only(root)
    refuses(root, "apply", root, "--branch", "halo", "--no-format", contains="no commits")


def test_branch_that_already_exists(tree):
    root = tree()
    subprocess.run(GIT + ["branch", "halo"], cwd=root, check=True)
    refuses(root, "apply", root, "--branch", "halo", "--no-format", contains="already exists")


def test_force_onto_the_checked_out_branch_is_refused(tree):
    root = tree()
    current = subprocess.run(GIT + ["symbolic-ref", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
    refuses(root, "apply", root, "--branch", current, "--force", "--no-format", contains="checked out")


def test_patch_path_is_a_directory(tree, tmp_path):
    root = tree()
    target = tmp_path / "patches"
    target.mkdir()
    refuses(root, "apply", root, "--patch", target, "--no-format", contains="cannot write", extra_dirs=[tmp_path])
    assert os.listdir(target) == []


def test_patch_path_is_a_directory_refuses_with_one_line(tree, tmp_path):
    root = tree()
    target = tmp_path / "patches"
    target.mkdir()
    refuses(root, "apply", root, "--patch", target, "--no-format", contains="cannot write")
    assert os.listdir(target) == []


def test_patch_path_that_is_a_directory_inside_the_checkout_writes_nothing(tree):
    root = tree(git=False)
    refuses(root, "apply", root, "--patch", root / CONV, "--no-format", contains="cannot write")


def test_dirty_target_file_blocks_in_place_apply(tree):
    root = tree()
    with open(root / CT, "ab") as fh:
        fh.write(b"// local edit\n")
    refuses(root, "apply", root, "--no-format", contains="uncommitted")
    refuses(root, "apply", root, "--branch", "halo", "--no-format", contains="differ from HEAD")


@pytest.fixture
def unprivileged_tree():
    """A fixture copy and a CLI runner for which file modes are enforced: the current user when it
    is not root, otherwise `nobody` via setpriv (skipped when neither is possible)."""
    import tempfile

    from conftest import FIXTURES, copy_tree

    made = []

    def make(case="rev-7136"):
        base = Path(tempfile.mkdtemp(prefix="halo-unpriv-"))
        made.append(base)
        root = copy_tree(FIXTURES / case / "before", base / "t", git=False)
        if os.geteuid() != 0:
            return root, run_cli
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("running as root without setpriv: file modes are not enforced")
        subprocess.run(["chown", "-R", "65534:65534", str(base)], check=True)
        probe = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                                "import migrator.cli, tree_sitter"], capture_output=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(base))
        if probe.returncode != 0:
            pytest.skip("the unprivileged user cannot read this checkout or its virtualenv here")

        def run(*argv):
            e = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(base)}
            res = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                                  "-m", "migrator", *map(str, argv)], capture_output=True, text=True, env=e)
            return res.returncode, res.stdout, res.stderr

        return root, run

    yield make
    for base in made:
        subprocess.run(["chmod", "-R", "u+rwX", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_unreadable_site_file(unprivileged_tree):
    root, run = unprivileged_tree()
    os.chmod(root / CU, 0)
    for argv in (("plan", root), ("apply", root, "--no-format")):
        before = snapshot_as_root(root)
        rc, out, err = run(*argv)
        assert rc == 2, (rc, out, err)
        assert "conv2d_utils.cpp" in one_line(err)
        assert snapshot_as_root(root) == before


def test_unreadable_unrelated_file_refuses_naming_it(unprivileged_tree):
    """An unreadable C++ file might call the estimate; deleting the estimate anyway could break the
    build, so the tool refuses and names the file (policy chosen over a warning)."""
    root, run = unprivileged_tree()
    p = root / CONV / "secret.cpp"
    p.write_text("// estimate_halo_output_elems\nint secret = 0;\n")
    if os.geteuid() == 0:
        os.chown(p, 65534, 65534)
    os.chmod(p, 0)
    before = snapshot_as_root(root)
    rc, out, err = run("apply", root, "--no-format")
    assert rc == 2, (rc, out, err)
    assert "secret.cpp" in one_line(err)
    assert snapshot_as_root(root) == before


def snapshot_as_root(root):
    """snapshot() that also works when some files are mode 000 for the test user."""
    modes = {}
    for q in root.rglob("*"):
        if q.is_file() and not q.is_symlink() and not os.access(q, os.R_OK):
            modes[q] = q.stat().st_mode
            os.chmod(q, 0o644)
    try:
        return snapshot(root)
    finally:
        for q, m in modes.items():
            os.chmod(q, m)


def test_symlinked_file_inside_the_checkout_is_read_but_not_written_through(tree):
    root = tree(git=False)
    real = root / "ttnn" / "real" / "conv_transpose2d.txt"
    real.parent.mkdir()
    shutil.move(root / CT, real)
    os.symlink(os.path.relpath(real, (root / CT).parent), root / CT)
    out, _ = succeeds("plan", root)
    assert "conv_transpose2d.cpp" in out  # the caller behind the symlink was read
    refuses(root, "apply", root, "--no-format", contains="symlink")


def test_garbage_journal_refuses(tree):
    root = tree()
    (root / ".git" / "halo-migrate.journal").write_text("{not json")
    refuses(root, "plan", root, contains="journal")


def test_stale_journal_tmp_is_cleaned_and_the_run_proceeds(tree):
    root = tree()
    stale = root / ".git" / ".halo-migrate.journal.k1ll3d.halo-migrate.tmp"  # writer.write_atomic's temp file
    stale.write_text("{half")
    succeeds("apply", root, "--no-format")
    assert not stale.exists()
    assert not list((root / ".git").glob("*.tmp"))


def test_already_migrated_apply_writes_nothing(tree):
    root = tree("migrated-27f3")
    before = full_state(root)
    out, _ = succeeds("apply", root, "--no-format")
    assert full_state(root) == before


def test_garbage_clang_format_still_applies_with_a_warning(tree):
    root = tree()
    (root / ".clang-format").write_bytes(b"{{{ this: is: not: yaml ::: \x00\n")
    commit(root)
    out, err = succeeds("apply", root)
    assert "warning" in err
    migrated_cleanly(root)


def test_git_dir_is_a_dangling_file(tree):
    root = tree(git=False)
    (root / ".git").write_text("gitdir: /nonexistent/elsewhere\n")
    succeeds("apply", root, "--dry-run", "--no-format")
    refuses(root, "apply", root, "--branch", "halo", "--no-format")


def test_in_process_main_matches_the_cli(tree, capsys):
    """The in-process entry point used by the mutation corpus behaves like the subprocess."""
    from migrator.cli import main

    root = tree(git=False)
    (root / SH).unlink()
    assert main(["plan", str(root)]) == 2
    err = capsys.readouterr().err
    one_line(err)
    assert sys.modules.get("migrator") is not None and str(REPO) in sys.path


@pytest.mark.parametrize("qualifier", [b"conv::", b"ttnn::operations::conv::", b"::ttnn::operations::conv::"])
def test_namespace_qualified_site_call_is_a_direct_call(tree, qualifier):
    root = tree()
    edit(root, CU, b"approx_input_size_per_core = estimate_halo_output_elems(",
         b"approx_input_size_per_core = " + qualifier + b"estimate_halo_output_elems(")
    commit(root)
    succeeds("apply", root, "--no-format")
    migrated_cleanly(root)

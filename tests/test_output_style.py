"""What a tt-metal reviewer reads: the commit message, the line counts, and the C++ around each
rewrite (labels in log strings, comments on new lambda parameters, blank lines like upstream's
own #30446 change)."""

import json
import re
import subprocess

from conftest import FIXTURES, GIT, run_cli
from migrator.engine.refactor import rename_format_labels
from migrator.engine.source import SourceFile

AFTER = FIXTURES / "rev-7136" / "after" / "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"


def test_commit_message_puts_every_bullet_on_its_own_line(tree):
    root = tree("rev-7136")
    assert run_cli("apply", root, "--branch", "halo/msg", "--no-format")[0] == 0
    msg = subprocess.run(GIT + ["log", "-1", "--format=%B", "halo/msg"], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    numeric = msg[msg.index("Numeric check"):]
    bullets = [line for line in numeric.splitlines() if line.startswith("- ")]
    assert len(bullets) == 2 and all("configurations" in b for b in bullets), numeric
    assert not re.search(r"\d- ", msg), msg  # "max 3.82- ttnn/..." was two bullets run together


def _counts_in(diff: str) -> dict[str, tuple[int, int]]:
    counts, path = {}, None
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            path = line[6:]
            counts[path] = (0, 0)
        elif path and line.startswith("+") and not line.startswith("+++"):
            counts[path] = (counts[path][0] + 1, counts[path][1])
        elif path and line.startswith("-") and not line.startswith("---"):
            counts[path] = (counts[path][0], counts[path][1] + 1)
    return counts


def test_plan_counts_lines_of_the_delivered_formatted_patch(tree):
    root = tree("rev-7136")
    rc, out, _ = run_cli("plan", root, "--format", "json")
    assert rc == 0
    planned = {f["path"]: (f["insertions"], f["deletions"]) for f in json.loads(out)["files"]}
    rc, diff, _ = run_cli("apply", root, "--dry-run")  # formatted, as apply delivers it
    assert rc == 0
    assert planned == _counts_in(diff)
    rc, unformatted, _ = run_cli("apply", root, "--dry-run", "--no-format")
    assert _counts_in(unformatted) != planned  # clang-format rewraps lines, so the counts really differ
    rc, text, _ = run_cli("describe", root, "--no-verify")
    assert rc == 0
    described = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"^\| `([^`]+)` \| (\d+) \| (\d+) \|$", text, re.M)}
    assert described == planned


def test_log_label_of_a_renamed_variable_is_renamed_too():
    text = AFTER.read_text()
    assert "precise_max_halo_bytes = {}" in text and "approx_max_halo_bytes" not in text


def test_only_strings_that_log_the_renamed_variable_are_relabelled():
    code = b"""void f() {
    int approx_x = 1;
    log_debug("approx_x = {}, approx_xy = {}", approx_x, 2);
    log_debug("approx_x = {}", other);
    log_debug("a " "approx_x={}", approx_x);
}
"""
    src = SourceFile.parse("f.cpp", code)
    block = next(n for n in _walk(src.root) if n.type == "compound_statement")
    edits = rename_format_labels(src, block, 0, "approx_x", "precise_x", "t")
    out = bytearray(code)
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out[e.start:e.end] = e.text.encode()
    assert out.decode().splitlines()[2:5] == [
        '    log_debug("precise_x = {}, approx_xy = {}", approx_x, 2);',  # the variable itself: rename_in_block
        '    log_debug("approx_x = {}", other);',  # does not log that variable: left alone
        '    log_debug("a " "precise_x={}", approx_x);',
    ]


def _walk(node):
    yield node
    for c in node.children:
        yield from _walk(c)


def test_new_lambda_parameters_say_which_sizes_are_padded():
    lines = AFTER.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.strip() == "const std::array<uint32_t, 2>& slice_input_hw,")
    assert lines[i - 1].strip() == "// without padding (input_slice_height/input_slice_width include it)"
    assert lines[i + 1].strip().startswith("// {top, bottom, left, right}, incl. a tile-rounded width's right padding")
    assert lines[i + 2].strip() == "const std::array<uint32_t, 4>& slice_padding) {"


def test_config_block_is_set_apart_like_upstreams_own_change():
    lines = AFTER.read_text().splitlines()
    for config in ("halo_config", "slice_halo_config"):
        start = next(i for i, line in enumerate(lines) if line.strip() == f"SlidingWindowConfig {config};")
        assert lines[start - 1].strip().startswith("// ") and lines[start - 2].strip() == ""
        end = next(i for i in range(start, len(lines)) if lines[i].strip() == f"{config}.snap_to_tile = true;")
        assert lines[end + 1].strip() == ""  # then the result declaration
        result_end = next(i for i in range(end + 2, len(lines)) if lines[i].rstrip().endswith(";"))
        assert lines[result_end + 1].strip() == "", config  # and a blank line before the next statement

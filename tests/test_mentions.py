"""Every mention of the estimate is accounted for (issue 9, items 5 and 6).

Each case is rev-7136/before with a small text edit, made in a temporary copy. A mention the tool
cannot migrate (a macro body, code disabled by `#if 0`, a region that does not parse, a pool op's
halo, an argument to a macro) refuses the whole run: exit 2, exactly one stderr line naming
file:line and why, nothing written. Where the edit is harmless (comments, strings) or legal
(defaults after the threaded parameter), the result is checked against the golden after-text.
Threading's refusals (default arguments, overloads) and its fresh names are here too."""

from __future__ import annotations

import sys

import pytest

from conftest import FIXTURES, copy_tree, run_cli, snapshot
from golden import migrate_in_memory
from migrator.engine.checkout import Checkout
from migrator.engine.locate import code_mentions, find_occurrences
from migrator.engine.project import Project
from migrator.engine.source import SourceFile
from migrator.errors import UnsupportedShape, ThreadingBlocked
from migrator.recipe.checkout_model import read_model
from migrator.recipe.plan import build_plan
from migrator.engine.threading import plan_threading
from migrator.recipe.plan import caller_stride

EST = "estimate_halo_output_elems"
CONV = "ttnn/cpp/ttnn/operations/conv/conv2d"
CU = f"{CONV}/conv2d_utils.cpp"
CH = f"{CONV}/conv2d_utils.hpp"
POOL = "ttnn/cpp/ttnn/operations/pool/generic/generic_pools.cpp"
AUTO = "determine_conv_config_for_auto_shard"
SITE1 = (f"        uint32_t approx_input_size_per_core = {EST}(\n"
         "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n")
GOLDEN = FIXTURES / "rev-7136" / "after"


def derive(tmp_path, edits=(), files=None):
    """rev-7136/before copied to tmp, with `edits` [(rel, old, new)] (old must occur once) and new
    `files` {rel: text}. Returns the root."""
    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t", git=False)
    for rel, old, new in edits:
        p = root / rel
        text = p.read_text()
        assert text.count(old) == 1, (rel, old)
        p.write_text(text.replace(old, new))
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def line_of(root, rel, needle):
    text = (root / rel).read_text()
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def refused(root, expected_line, *commands):
    """Every command exits 2 with exactly `expected_line` on stderr, nothing on stdout, nothing written."""
    before = snapshot(root)
    for argv in commands or (("check",), ("plan",), ("apply", "--no-format")):
        rc, out, err = run_cli(argv[0], root, *argv[1:])
        assert (rc, out) == (2, ""), (argv, rc, out, err)
        assert err.strip().splitlines() == [expected_line], (argv, err)
    assert snapshot(root) == before, "a refusal wrote something"


def golden_after():
    return {str(p.relative_to(GOLDEN)): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}


# ---- macros -------------------------------------------------------------------------------------
MACRO = (f"#define HALO_GUESS(s) {EST}(s, 1, 8, 8, {{3, 3}}, {{1, 1}}, {{1, 1, 1, 1}}) /* {EST} */\n\n"
         "namespace ttnn::operations::conv {\n")


def test_a_macro_body_that_calls_the_estimate_refuses_the_run(tmp_path):
    root = derive(tmp_path, [(CU, "namespace ttnn::operations::conv {\n", MACRO)])
    n = line_of(root, CU, "#define HALO_GUESS")
    refused(root, f"halo-migrate: unsupported code shape: {CU}:{n}: {EST} is called inside the body of macro "
                  "HALO_GUESS; the macro cannot be migrated automatically (expand it by hand, or delete it if unused)")


def test_a_migrated_tree_whose_only_mention_is_a_macro_body_is_not_migrated(tmp_path):
    """`check` must not say "already migrated" (exit 0) while a macro still names the estimate."""
    root = derive(tmp_path)
    for rel, data in golden_after().items():
        (root / rel).write_bytes(data)
    rc, out, _ = run_cli("check", root)
    assert rc == 0 and "migrated" in out
    p = root / CU
    p.write_text(p.read_text().replace("namespace ttnn::operations::conv {\n",
                                       f"#define OLD_HALO {EST}\n\nnamespace ttnn::operations::conv {{\n", 1))
    n = line_of(root, CU, "#define OLD_HALO")
    refused(root, f"halo-migrate: unsupported code shape: {CU}:{n}: {EST} is named inside the body of macro "
                  "OLD_HALO; the macro cannot be migrated automatically (expand it by hand, or delete it if unused)",
            ("check",))


def test_a_macro_named_like_the_estimate_refuses(tmp_path):
    root = derive(tmp_path, files={f"{CONV}/compat.hpp": f"#pragma once\n#define {EST}(...) 0\n"})
    refused(root, f"halo-migrate: unsupported code shape: {CONV}/compat.hpp:2: a macro named {EST} is defined; "
                  "the macro cannot be migrated automatically (expand it by hand, or delete it if unused)",
            ("plan",))


def test_the_estimate_passed_to_a_macro_refuses_naming_the_macro(tmp_path):
    root = derive(tmp_path, [(CU, SITE1, SITE1 + f"        REGISTER_SIZER({EST});\n")])
    n = line_of(root, CU, "REGISTER_SIZER")
    refused(root, f"halo-migrate: unsupported code shape: {CU}:{n}: {EST} is passed as an argument to "
                  "REGISTER_SIZER (a macro or a function), not called; migrate it by hand", ("plan",))


def test_mentions_in_comments_strings_and_macro_comments_change_nothing(tmp_path):
    """The lexer skips comments, strings, raw strings and `#include <...>`; the rest migrates exactly
    as the golden, and the new file is left as it is."""
    notes = (f'#pragma once\n// {EST}(old)\n#define HALO_NOTE "{EST}" /* {EST}( */ // {EST}\n'
             f'inline const char* halo_doc = R"doc({EST}(x))doc";\ninline int big = 1\'000;\n'
             f"inline char quote = '\\'';  /* {EST} */\n")
    root = derive(tmp_path, files={f"{CONV}/halo_notes.hpp": notes})
    assert migrate_in_memory(root) == golden_after()
    rc, out, err = run_cli("check", root)
    assert rc == 1, err
    assert f"{CONV}/halo_notes.hpp: mentions {EST} only in comments or strings; left as is" in out


# ---- preprocessor branches and regions that do not parse ----------------------------------------
def test_a_call_in_the_dead_branch_of_if_1_refuses(tmp_path):
    dead = (f"#if 1\n{SITE1}#else\n        uint32_t approx_input_size_per_core = {EST}(\n"
            "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n"
            "#endif\n")
    root = derive(tmp_path, [(CU, SITE1, dead)])
    m = line_of(root, CU, "#if 1")
    n = m + 4
    refused(root, f"halo-migrate: unsupported code shape: {CU}:{n}: {EST} is used in code disabled by the "
                  f"alternative of `#if 1` (line {m}); it would no longer compile if re-enabled once the estimate is "
                  "deleted: delete the disabled code or migrate it by hand", ("plan",), ("apply", "--no-format"))


def test_a_call_under_ifdef_is_a_call():
    """Branches that a build flag selects are ordinary code to the sites path."""
    src = SourceFile.parse("x.cpp", f"""
int f() {{
#ifdef TT_HALO_DEBUG
    uint32_t a = {EST}(s, b, h, w, k, d, p);
#else
    uint32_t a = {EST}(s, b, h, w, k, d, p) + 1;
#endif
#if 0
    int dead = {EST}(s, b, h, w, k, d, p);
#else
    int live = {EST}(s, b, h, w, k, d, p);
#endif
    return a;
}}
""".encode())
    assert [(o.line, o.kind) for o in find_occurrences(src, EST)] == [(4, "call"), (6, "call"), (9, "inactive"),
                                                                       (11, "call")]


def test_a_truncated_file_that_mentions_the_estimate_refuses(tmp_path):
    text = (f'#include "conv2d_utils.hpp"\n\nnamespace ttnn::operations::conv {{\n\n'
            "uint32_t halo_bytes(const std::array<uint32_t, 2>& shard, uint32_t batch_size) {\n"
            f"    const uint32_t elems = {EST}(shard, batch_size, 8, 8, {{3, 3}}, {{1, 1}}, {{1, 1, 1, 1}});\n"
            "    return elems * 2")
    root = derive(tmp_path, files={f"{CONV}/halo_bytes.cpp": text})
    refused(root, f"halo-migrate: parse failure: {CONV}/halo_bytes.cpp:6: the file does not parse around a "
                  f"mention of {EST} (parse error in lines 3-7; truncated?)")


def test_a_mention_inside_garbage_refuses(tmp_path):
    text = f"namespace ttnn::operations::conv {{\nint broken( {{ return {EST}(1, 2 ]; }}\n}}\n"
    root = derive(tmp_path, files={f"{CONV}/broken.cpp": text})
    rc, out, err = run_cli("plan", root)
    assert (rc, out) == (2, "")
    assert err.strip().splitlines() == [
        f"halo-migrate: parse failure: {CONV}/broken.cpp:2: the file does not parse around a mention of {EST} "
        "(parse error in lines 1-3; truncated?)"]


TRICKY = f"""
// {EST}( \\
   continued comment {EST}
#include <{EST}.h>
const char* a = "{EST}\\" {EST}";
const char* b = R"x({EST}(")x";
const char* c = u8"{EST}";
int big = 1'000'000; char q = '"';
#define M1 {EST}
#define M2(x) x + {EST}(x) /* {EST} */
int f() {{ return {EST}(1) + my_{EST}(2) + {EST}_v2(3) + obj.{EST}(4); }}
#if 0
int g() {{ return {EST}(5); }}
#endif
"""


def test_the_textual_count_equals_the_parsers_count():
    """code_mentions (the cheap prescan) and find_occurrences agree one for one, and only the code
    mentions count: M1, M2's call, f's call, the member, g's call (8 lines in comments/strings skipped)."""
    src = SourceFile.parse("x.cpp", TRICKY.encode())
    starts = code_mentions(src.data, EST)
    occs = find_occurrences(src, EST)
    assert [o.offset for o in occs] == starts
    assert [(o.line, o.kind) for o in occs] == [(9, "macro"), (10, "macro"), (11, "call"), (11, "unclassified"),
                                                (13, "inactive")]
    assert occs[1].detail == f"{EST} is called inside the body of macro M2"
    assert occs[3].detail == "it is the name of a member (of some other class or struct)"


# ---- pool sites ---------------------------------------------------------------------------------
POOL_TEXT = f"""// halo-migrate test fixture, written from scratch (not tt-metal code).
#include "ttnn/operations/conv/conv2d/conv2d_utils.hpp"

namespace ttnn::operations::pool {{

uint32_t pool_halo_elems(
    const std::array<uint32_t, 2>& shard_shape,
    uint32_t batch_size,
    uint32_t input_h,
    uint32_t input_w,
    const std::array<uint32_t, 2>& kernel_size,
    const std::array<uint32_t, 2>& dilation,
    const std::array<uint32_t, 4>& padding,
    Pool2DType pool_type,
    bool ceil_mode) {{
    return conv::{EST}(shard_shape, batch_size, input_h, input_w, kernel_size, dilation, padding);
}}

}}  // namespace ttnn::operations::pool
"""


def test_a_pool_site_is_not_given_conv_defaults(tmp_path):
    root = derive(tmp_path, files={POOL: POOL_TEXT})
    refused(root, f"halo-migrate: unsupported code shape: {POOL}:16: not a conv2d halo (pool op: in "
                  "ttnn/cpp/ttnn/operations/pool/generic/, namespace ttnn::operations::pool; Pool2DType, pool_type, "
                  "ceil_mode in scope): migrate by hand; a pool's halo config (ceil_mode, is_avg_pool, snap_to_tile) "
                  "differs from conv2d's")


def test_halo_kind_is_a_fact_of_each_call(tmp_path):
    root = derive(tmp_path, files={POOL: POOL_TEXT.replace("ceil_mode", "round_up").replace(
        "Pool2DType pool_type", "uint32_t channels")})
    model = read_model(Project(Checkout.open(root)))
    kinds = {(o.path, o.line): (model.halo_kind(o).kind, model.halo_kind(o).evidence) for o in model.calls}
    assert kinds == {
        (CU, 306): ("conv", ""),
        (CU, 587): ("conv", ""),
        (POOL, 16): ("unknown", "pool code (in ttnn/cpp/ttnn/operations/pool/generic/, namespace "
                                "ttnn::operations::pool), though pool_halo_elems has no pool parameters in scope"),
    }


# ---- threading: default arguments, overloads, fresh names ---------------------------------------
DEFAULTED = ("    const std::array<uint32_t, 2>& kernel_size = {3, 3},\n"
             "    const std::array<uint32_t, 2>& dilation = {1, 1},\n"
             "    const std::array<uint32_t, 4>& padding = {0, 0, 0, 0},\n    uint32_t groups = 1,\n"
             "    bool enable_bias = false,\n    const DeviceComputeKernelConfig& compute_config = {});")
PLAIN = ("    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& dilation,\n"
         "    const std::array<uint32_t, 4>& padding,\n    uint32_t groups,\n    bool enable_bias,\n"
         "    const DeviceComputeKernelConfig& compute_config);")


def test_a_default_argument_on_kernel_size_refuses_naming_it(tmp_path):
    root = derive(tmp_path, [(CH, PLAIN, DEFAULTED)])
    n = line_of(root, CH, "kernel_size = {3, 3}")
    refused(root, f"halo-migrate: threading blocked: {CH}:{n}: parameter `kernel_size` of {AUTO} has a default "
                  "argument; a new `stride` parameter after it would need one too, and the stride has none",
            ("plan",), ("apply", "--no-format"))


def test_an_overload_refuses_naming_both(tmp_path):
    overload = f"Conv2dConfig {AUTO}(const Conv2dConfig& conv_config_, uint32_t batch_size);\n\n"
    anchor = "// Everything needed to size one DRAM-sliced conv2d."
    root = derive(tmp_path, [(CH, anchor, overload + anchor)])
    n = line_of(root, CH, "uint32_t batch_size);")
    refused(root, f"halo-migrate: threading blocked: {CU}:179: {AUTO} has an overload at {CH}:{n}; threading "
                  "`stride` into one of them would be ambiguous", ("plan",), ("apply", "--no-format"))


def test_a_macro_that_calls_the_threaded_function_refuses(tmp_path):
    macro = f"#define AUTO_SHARD(...) {AUTO}(__VA_ARGS__)\n\nnamespace ttnn::operations::conv {{\n"
    root = derive(tmp_path, [(CU, "namespace ttnn::operations::conv {\n", macro)])
    n = line_of(root, CU, "#define AUTO_SHARD")
    refused(root, f"halo-migrate: threading blocked: {CU}:{n}: {AUTO} is called inside the body of macro AUTO_SHARD; "
                  f"adding a parameter to {AUTO} would break that mention, so nothing is threaded", ("plan",))


def _thread_stride(root):
    project = Project(Checkout.open(root))
    src = project.source(CU)
    fn = next(o.owner for o in find_occurrences(src, AUTO) if o.kind == "definition")
    return project, plan_threading(project, fn, src, "stride", "kernel_size", "test", resolve=caller_stride,
                                   fresh_prefix="conv")


@pytest.mark.parametrize("taken, chosen", [
    ("    uint32_t stride = 2 * input_width;  // bytes per row\n", "conv_stride"),
    ("    uint32_t stride = 2 * input_width;\n    uint32_t conv_stride = stride;\n", "conv_stride_2"),
])
def test_a_name_taken_in_the_function_gets_a_fresh_one(tmp_path, taken, chosen):
    body = "    const DeviceComputeKernelConfig& compute_config) {\n"
    root = derive(tmp_path, [(CU, body, body + taken)])
    project, thread = _thread_stride(root)
    assert thread.param_name == chosen
    texts = sorted({e.text for _, e in thread.edits})
    assert f"const std::array<uint32_t, 2>& {chosen}" in "".join(texts)
    # each caller still passes its own stride
    assert [c.expr.text for c in thread.callers] == ["stride", "stride", "params.stride", "stride", "stride"]


def test_threading_keeps_stride_when_it_is_free(tmp_path):
    _, thread = _thread_stride(derive(tmp_path))
    assert thread.param_name == "stride"


def test_a_call_that_relies_on_trailing_defaults_gets_the_argument(tmp_path):
    """Defaults after the insertion point are legal and calls that omit them are still threaded."""
    root = derive(tmp_path, [(CH, PLAIN, PLAIN.replace("    uint32_t groups,\n    bool enable_bias,\n"
                                                       "    const DeviceComputeKernelConfig& compute_config);",
                                                       "    uint32_t groups = 1,\n    bool enable_bias = false,\n"
                                                       "    const DeviceComputeKernelConfig& compute_config = {});"))])
    _, thread = _thread_stride(root)
    assert thread.param_name == "stride" and len(thread.callers) == 5


def test_threading_refusals_are_threading_blocked(tmp_path):
    root = derive(tmp_path, [(CH, PLAIN, DEFAULTED)])
    with pytest.raises(ThreadingBlocked, match="parameter `kernel_size` of"):
        _thread_stride(root)


@pytest.mark.skipif(__import__("shutil").which("g++") is None, reason="g++ not installed")
def test_a_later_local_named_stride_makes_the_threaded_parameter_conv_stride(tmp_path):
    """A byte pitch named `stride` declared after the site (so not the site's stride) takes the name:
    the convolution stride is threaded as `conv_stride`, bound from it, and the result compiles."""
    from test_compiles import compile_errors

    pitch = "    [[maybe_unused]] const uint32_t stride = winning_config.size;  // bytes per core\n"
    anchor = "    log_debug(\n        tt::LogOp,\n        \"Auto shard picked {} using {} bytes of L1 on {} cores\",\n"
    root = derive(tmp_path, [(CU, anchor, pitch + anchor)])
    plan = build_plan(Project(Checkout.open(root)))
    assert [t.param_name for t in plan.threads] == ["conv_stride"]
    stride_hw = [b.expr for sp in plan.sites for b in sp.bindings if b.field == "stride_hw"]
    assert stride_hw == ["{conv_stride[0], conv_stride[1]}", "{params.stride[0], params.stride[1]}"]
    new = plan.new_contents
    assert b"    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& conv_stride,\n" in new[CH]
    assert pitch.encode() in new[CU]
    for rel, data in new.items():
        (root / rel).write_bytes(data)
    assert compile_errors(root) == []


def test_a_call_in_pool_code_without_pool_parameters_is_still_not_a_conv2d_halo(tmp_path):
    """A helper in pool code (ttnn/operations/pool/) with only the estimate's own arguments in scope: it
    sizes a pool's halo as far as anyone can tell, so conv2d's defaults are never applied; refused."""
    import shutil

    sys.path.insert(0, str(FIXTURES))
    import make_variants

    root = tmp_path / "t"
    shutil.copytree(FIXTURES / "rev-7136" / "before", root)
    for rel, text in ((make_variants.POOL_UTILS_HPP, make_variants.POOL_UTILS_HPP_TEXT),
                      (make_variants.POOL_UTILS_CPP, make_variants.POOL_UTILS_CPP_TEXT)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with pytest.raises(UnsupportedShape, match=r"^.*pool_utils\.cpp:26: not a conv2d halo \(called in pool code"):
        build_plan(Project(Checkout.open(root)))

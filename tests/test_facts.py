"""Facts first: declared types decide the spelling, evidence decides what the stride is, placement
keeps the config evaluated exactly as often as the call. Each test edits a copy of the rev-7136
fixture the way a branch might, and asserts the emitted bindings or the one-line refusal."""

import shutil

import pytest

from conftest import FIXTURES
from migrator.engine.checkout import Checkout
from migrator.engine.cpptypes import shape_of
from migrator.engine.project import Project
from migrator.errors import MigrateError
from migrator.recipe import names
from migrator.recipe.bindings import bind
from migrator.recipe.facts import Arg, SiteFacts
from migrator.recipe.plan import build_plan
from migrator.recipe.site import Expr

CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
CT = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"
SITE1 = ("        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
         "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n")


def plan_of(tmp_path, *edits):
    root = tmp_path / "t"
    shutil.copytree(FIXTURES / "rev-7136" / "before", root)
    for rel, old, new in edits:
        text = (root / rel).read_text()
        assert text.count(old) == 1, (rel, old)
        (root / rel).write_text(text.replace(old, new))
    return build_plan(Project(Checkout.open(root)))


def site1(plan):
    return next(s for s in plan.sites if s.path == CU and "auto_shard" in s.function)


def binding(site, field):
    return next(b.expr for b in site.bindings if b.field == field)


# ---- types decide the spelling ------------------------------------------------------------------
@pytest.mark.parametrize("type_text, kind", [
    ("const std::array<uint32_t, 2>&", "array"), ("std::pair<uint32_t, uint32_t>", "pair"),
    ("sliding_window::uint32_pair_t", "pair"), ("uint32_t", "scalar"), ("auto", "unknown"),
    ("std::pair<uint32_t, int>", "unknown"), ("const ConvDRAMParamters&", "struct"),
])
def test_shape_of_declared_types(type_text, kind):
    assert shape_of(type_text, names.TYPE_ALIASES).kind == kind


def _facts(stride: Expr | None) -> SiteFacts:
    def arg(role, text, type_text=""):
        return Arg(role, text, Expr(text, "test", type_text))
    args = {"shard_shape": arg("shard_shape", "s", "std::array<uint32_t, 2>"), "batch_size": arg("batch_size", "n"),
            "input_height": arg("input_height", "h"), "input_width": arg("input_width", "w"),
            "kernel_size": arg("kernel_size", "k", "std::array<uint32_t, 2>"),
            "dilation": arg("dilation", "d", "std::array<uint32_t, 2>"),
            "padding": arg("padding", "p", "std::array<uint32_t, 4>")}
    return SiteFacts("f.cpp", 1, "fn", "", args, (), stride, Expr("mem", "test"), Expr("pc", "test"), ("pc",),
                     "get_num_cores_nhw_from_parallel_config", None)


def test_bindings_are_a_pure_function_of_the_facts():
    fields = ["batch_size", "input_hw", "window_hw", "stride_hw", "padding", "dilation_hw", "num_cores_nhw",
              "core_range_set", "snap_to_tile"]
    bindings, warnings = bind(_facts(Expr("st", "test", "uint32_pair_t")), fields)
    got = {b.field: b.expr for b in bindings}
    assert got["stride_hw"] == "{st.first, st.second}"
    assert got["window_hw"] == "{k[0], k[1]}" and got["padding"] == "p" and got["input_hw"] == "{h, w}"
    assert warnings == []
    assert bind(_facts(Expr("st", "test", "std::array<uint32_t, 2>")), fields)[0][3].expr == "{st[0], st[1]}"
    with pytest.raises(MigrateError, match="not known to hold two integers"):
        bind(_facts(Expr("st", "test", "")), fields)  # a value of unknown type is never taken apart
    with pytest.raises(MigrateError, match="no convolution stride"):
        bind(_facts(None), fields)


def test_expression_arguments_are_held_in_a_local_of_the_parameter_type(tmp_path):
    plan = plan_of(tmp_path, (CU, SITE1, SITE1.replace("kernel_size, dilation,",
                                                       "kernel_size, is_mm_conv ? dilation : kernel_size,")))
    s = site1(plan)
    assert binding(s, "dilation_hw") == "{halo_dilation[0], halo_dilation[1]}"
    assert b"const std::array<uint32_t, 2> halo_dilation = is_mm_conv ? dilation : kernel_size;" in plan.new_contents[CU]


def test_a_braced_temporary_argument_gives_its_elements(tmp_path):
    plan = plan_of(tmp_path, (CU, SITE1, SITE1.replace("kernel_size, dilation,",
                                                       "std::array<uint32_t, 2>{3, 3}, dilation,")))
    assert binding(site1(plan), "window_hw") == "{3, 3}"


# ---- meaning, not names ------------------------------------------------------------------------------
def test_a_scalar_named_stride_is_not_the_convolution_stride(tmp_path):
    """A byte pitch called `stride` in scope at site 1: the stride is still threaded in, under a free
    name, and site 1 binds the threaded parameter."""
    plan = plan_of(tmp_path, (CU, SITE1, "        const uint32_t stride = input_width * 2;\n"
                              "        log_debug(tt::LogOp, \"row pitch {}\", stride);\n" + SITE1))
    name = plan.threads[0].param_name
    assert name != "stride"
    assert binding(site1(plan), "stride_hw") == f"{{{name}[0], {name}[1]}}"


def test_a_sliding_window_config_with_its_stride_set_is_used_instead_of_threading(tmp_path):
    plan = plan_of(tmp_path, (CU, SITE1, "        SlidingWindowConfig conv_window;\n"
                              "        conv_window.stride_hw = {2, 2};\n" + SITE1))
    assert binding(site1(plan), "stride_hw") == "{conv_window.stride_hw.first, conv_window.stride_hw.second}"
    assert not any(t.function == "determine_conv_config_for_auto_shard" for t in plan.threads)


def test_a_config_whose_stride_was_never_set_is_not_evidence(tmp_path):
    plan = plan_of(tmp_path, (CU, SITE1, "        SlidingWindowConfig conv_window;\n"
                              "        conv_window.window_hw = {3, 3};\n" + SITE1))
    assert any(t.function == "determine_conv_config_for_auto_shard" for t in plan.threads)


def test_the_ops_stride_parameter_beats_a_local_that_looks_like_one(tmp_path):
    plan_edit = (CT, "    const bool mm_conv = false;\n",
                 "    const bool mm_conv = false;\n    const std::array<uint32_t, 2> conv_stride = {1, 1};\n"
                 "    log_debug(tt::LogOp, \"{}\", conv_stride[0]);\n")
    # A local copy is weaker evidence than the op's own parameter: no ambiguity, `stride` wins.
    plan = plan_of(tmp_path, plan_edit, (CT, "        .is_transpose = true};", "        .is_transpose = false};"))
    assert any(c.expr.text == "stride" for t in plan.threads for c in t.callers if c.path == CT)


# ---- placement ------------------------------------------------------------------------------------
def test_a_call_in_a_loop_condition_is_refused_naming_the_loop(tmp_path):
    with pytest.raises(MigrateError, match=r"header of the `while` loop at line \d+"):
        plan_of(tmp_path, (CU, SITE1, "        uint32_t approx_input_size_per_core = 0;\n"
                           "        while (estimate_halo_output_elems(halo_input_shard_shape, batch_size, input_height, "
                           "input_width, kernel_size, dilation, padding) > approx_input_size_per_core) {\n"
                           "            approx_input_size_per_core++;\n        }\n"))


def test_a_call_on_one_side_of_a_conditional_builds_its_config_at_the_call(tmp_path):
    """Evaluated only when `is_mm_conv` is false: the config is built inside an immediately-invoked
    lambda at the call, so it is built exactly when the call was made."""
    plan = plan_of(tmp_path, (CU, SITE1, SITE1.replace("= estimate_halo_output_elems(",
                                                       "= is_mm_conv ? 0 : estimate_halo_output_elems(")))
    text = plan.new_contents[CU].decode()
    start = text.index("uint32_t approx_input_size_per_core = is_mm_conv ? 0 : [&] {")
    assert start < text.index("SlidingWindowConfig halo_config;", start) < text.index(
        "return sliding_window::calculate_precise_halo_output_elems(halo_config, halo_input_shard_shape);\n", start)


def test_a_second_site_with_the_same_config_name_is_checked_against_its_own_call(tmp_path):
    """Two calls in different blocks both get `halo_config`; each is checked at its own new call."""
    twin = SITE1.replace("approx_input_size_per_core", "approx_twin")
    plan = plan_of(tmp_path, (CU, SITE1, SITE1 + "        if (is_mm_conv) {\n" + twin.replace("\n        ", "\n            ")
                              .replace("        uint32_t", "            uint32_t", 1) + "            (void)approx_twin;\n        }\n"))
    names_ = [s.config_name for s in plan.sites if s.path == CU and "auto_shard" in s.function]
    assert names_ == ["halo_config", "halo_config"]


# ---- the transposed conv's caller ------------------------------------------------------------------
def test_a_transposed_conv_passes_the_stride_and_padding_of_the_conv_that_really_runs(tmp_path):
    """conv_transpose2d hands auto-shard its zero-inserted full input; the conv that runs on it after
    the transposed halo has stride 1 and no padding, so that is what it passes (exact, where its own
    stride and padding under-allocate; tests/test_transposed_path.py checks the numbers)."""
    plan = plan_of(tmp_path)
    caller = next(c for t in plan.threads for c in t.callers if c.path == CT)
    assert caller.expr.text == "{1, 1}"
    text = plan.new_contents[CT].decode()
    assert "            kernel_size,\n            {1, 1},\n            dilation,\n            {0, 0, 0, 0},\n" in text


def test_a_caller_without_a_transposed_halo_keeps_its_own_stride_and_padding(tmp_path):
    plan = plan_of(tmp_path, (CT, "        .is_transpose = true};", "        .is_transpose = false};"))
    caller = next(c for t in plan.threads for c in t.callers if c.path == CT)
    assert caller.expr.text == "stride"
    assert b"sliding_window::get_pair_n4_padding(padding),\n            groups," in plan.new_contents[CT]

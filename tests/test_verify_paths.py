"""The path check: the migrated C++ evaluated along every call path from the entry functions."""

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from migrator.engine.checkout import Checkout
from migrator.engine.project import Project
from migrator.engine.source import SourceFile
from migrator.recipe.plan import build_plan
from migrator.verify import specs as specs_mod
from migrator.verify.core import path_check, path_sources, refusal
from migrator.verify.pathcheck import check_sources, first_slice, read_sites
from migrator.verify.placement import ConvSpec

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "fixtures"
CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"

SPECS = [ConvSpec.from_row(r) for r in (
    [1, 64, 64, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, True],
    [1, 64, 64, 30, 90, 3, 3, 1, 1, 1, 1, 1, 1, 1, True],
    [2, 32, 48, 40, 24, 5, 3, 2, 1, 2, 1, 1, 1, 1, False],
    [1, 32, 32, 128, 128, 2, 2, 2, 2, 0, 0, 1, 1, 1, False],  # the transposed example
    [1, 64, 64, 56, 56, 1, 1, 1, 1, 0, 0, 1, 1, 1, True],  # a 1x1 matmul conv
)]


def _project(case):
    project = Project(Checkout.open(FIX / case / "before"))
    return project, build_plan(project)


@pytest.fixture(scope="module")
def migrated_7136():
    return _project("rev-7136")


@pytest.fixture(scope="module")
def hand_27f3():
    return _project("migrated-27f3")


@pytest.mark.parametrize("case", ["rev-7136", "migrated-27f3", "rev-5702"])
def test_unmodified_migrations_verify_clean_on_every_path(case):
    project, plan = _project(case)
    summaries = path_check(project, plan, SPECS, ["wormhole", "blackhole"], plan.model.estimate_variant)
    assert len(summaries) == 2
    assert refusal(summaries) is None
    for s in summaries:
        assert s["mismatches"] == 0 and s["path_errors"] == 0 and s["error"] is None, s["mismatch_examples"]
        assert s["evaluated"] > 0 and s["contexts"] == s["evaluated"]
    site1 = next(s for s in summaries if s["kind"] == "l1")
    entries = {p["entry"] for p in site1["paths"]}
    assert {"conv2d_L1", "conv2d_DRAM", "conv_transpose2d", "get_opt_block_config"} <= entries
    assert {p["kind"] for p in site1["paths"]} >= {"l1", "nested", "transposed"}
    assert site1["calls_per_conv"] == 3  # the auto-shard tries three layouts
    assert site1["max_op_trace_length"] > 0
    site2 = next(s for s in summaries if s["kind"] == "dram_slice")
    assert {p["kind"] for p in site2["paths"]} == {"dram_slice"}


def test_bindings_come_from_the_code_not_the_plan(migrated_7136):
    """Dropping the plan's bindings changes nothing: the check reads only the migrated text."""
    project, plan = migrated_7136
    for s in plan.sites:
        s.bindings = []
    summaries = path_check(project, plan, SPECS[:2], ["wormhole"], plan.model.estimate_variant)
    assert all(s["mismatches"] == 0 and s["path_errors"] == 0 for s in summaries)


def _mutated(project, plan, path, old, new):
    out = []
    for s in path_sources(project, plan):
        if s.path == path:
            assert s.data.count(old) == 1, old
            s = SourceFile.parse(s.path, s.data.replace(old, new))
        out.append(s)
    return out


def test_mismatch_names_path_field_and_both_values(migrated_7136):
    project, plan = migrated_7136
    srcs = _mutated(project, plan, CU, b"halo_config.stride_hw = {stride[0], stride[1]};",
                    b"halo_config.stride_hw = {dilation[0], dilation[1]};")
    res = check_sources(srcs, SPECS[:1], ["wormhole"])
    site1 = next(r for r in res if r.function == "determine_conv_config_for_auto_shard")
    bad = [p for p in site1.paths if p.mismatches]
    assert bad
    ex = bad[0].mismatch_examples[0]
    assert ex["fields"] == ["stride_hw"] and ex["values"]["stride_hw"] == [[1, 1], [2, 2]]
    assert "→ determine_conv_config_for_auto_shard (line" in bad[0].label


def test_transposed_residual_reported_per_shape(hand_27f3, migrated_7136):
    """Upstream's hand migration (the conv's own stride and padding at conv_transpose2d) is flagged and
    under-allocates on H=128, k=2, s=2, p=0; halo-migrate's ({1, 1}, {0, 0, 0, 0}) is exact there."""
    project, plan = migrated_7136
    ours = next(s for s in path_check(project, plan, SPECS[3:4], ["wormhole"], plan.model.estimate_variant)
                if s["kind"] == "l1")
    tp_ours = [p for p in ours["paths"] if p["kind"] == "transposed"]
    assert tp_ours and all(p["mismatches"] == 0 and p["transposed_residuals"]["count"] == 0 for p in tp_ours)
    project, plan = hand_27f3
    summaries = path_check(project, plan, SPECS[3:4], ["wormhole"], plan.model.estimate_variant)
    site1 = next(s for s in summaries if s["kind"] == "l1")
    tp = [p for p in site1["paths"] if p["kind"] == "transposed"]
    # upstream's own stride and padding at conv_transpose2d: the caller's description, reported, not failed
    assert tp and all(p["mismatches"] == 0 and p["caller_findings"] > 0 for p in tp)
    res = tp[0]["transposed_residuals"]
    assert res["count"] == 1 and res["under_allocating"] == 1 and "transposed halo" in res["reason"]
    ex = res["examples"][0]
    assert ex["spec"][3:11] == [128, 128, 2, 2, 2, 2, 0, 0]
    assert ex["transposed_halo"] - ex["call_site"] == ex["residual_elems"] > 0
    assert site1["transposed_under_allocating"] >= 1


def test_matmul_contexts_are_evaluated_with_old_and_new_accounting(migrated_7136):
    project, plan = migrated_7136
    summaries = path_check(project, plan, SPECS[4:5], ["wormhole"], plan.model.estimate_variant)
    site1 = next(s for s in summaries if s["kind"] == "l1")
    assert site1["evaluated"] == 3 and site1["matmul_contexts"] == 3
    direct = next(p for p in site1["paths"] if p["entry"] == "conv2d_L1")
    assert direct["matmul_contexts"] == 1
    assert direct["matmul_l1"]["old_bytes"] > 0 and direct["matmul_l1"]["new_bytes"] > 0
    assert "no halo op runs" in direct["matmul_l1"]["note"]


def test_unevaluable_expression_refuses(migrated_7136):
    project, plan = migrated_7136
    srcs = _mutated(project, plan, CU, b"halo_config.batch_size = batch_size;",
                    b"halo_config.batch_size = some_helper(batch_size);")
    res = check_sources(srcs, SPECS[:1], ["wormhole"])
    assert any(r.failed for r in res)
    from migrator.verify.pathcheck import site_summary

    why = refusal([site_summary(r, 3) for r in res])
    assert why and "could not evaluate" in why and "some_helper" in why


def test_zero_contexts_refuses(migrated_7136):
    project, plan = migrated_7136
    # a window larger than the input: no conv runs, so no context reaches either site on a regular path
    empty = [ConvSpec.from_row([1, 8, 8, 2, 2, 5, 5, 1, 1, 0, 0, 1, 1, 1, False])]
    summaries = path_check(project, plan, empty, ["wormhole"], plan.model.estimate_variant)
    assert all(p["evaluated"] == 0 for s in summaries for p in s["paths"] if p["kind"] != "transposed")
    summaries = path_check(project, plan, [], ["wormhole"], plan.model.estimate_variant)
    assert all(s["evaluated"] == 0 for s in summaries)
    assert "evaluated no context" in refusal(summaries)


def test_apply_refuses_a_wrong_binding(tmp_path, monkeypatch):
    """apply's numeric check runs the path check on the plan's new bytes: a wrong expression in
    the emitted text stops the apply with exit 2 and the path in the message."""
    import shutil

    from migrator import cli
    from migrator.recipe import plan as plan_mod

    dst = tmp_path / "t"
    shutil.copytree(FIX / "rev-7136" / "before", dst)
    real = plan_mod.build_plan

    def wrong(project, **options):
        p = real(project, **options)
        data = p.new_contents[CU]
        p.new_contents[CU] = data.replace(b"slice_halo_config.padding = slice_padding;",
                                          b"slice_halo_config.padding = params.padding_n4;")
        assert p.new_contents[CU] != data
        return p
    monkeypatch.setattr(plan_mod, "build_plan", wrong)
    err = io.StringIO()
    import contextlib

    with redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = cli.main(["apply", str(dst), "--dry-run", "--no-format"])
    assert rc == 2
    assert "numeric check failed" in err.getvalue() and "compute_l1_usage_for_slice" in err.getvalue()


def test_first_slice_geometry():
    s = ConvSpec.from_row([1, 64, 3, 224, 224, 7, 7, 2, 2, 3, 3, 1, 1, 1, True])
    h = first_slice(s, "DRAM_HEIGHT")
    # the last output row reads input rows up to 111*2 - 3 + 7 = 226: two rows of bottom padding
    assert h["input_hw"] == (224, 224) and h["padding"][:3] == (3, 2, 3)
    # output width 112 is rounded up to 128 (16 more columns x stride 2 of right padding)
    assert h["padding"][3] == 3 + 32 and h["output_hw"] == (112, 128)


def test_hand_migration_sites_are_read_from_text(hand_27f3):
    project, plan = hand_27f3
    sites = read_sites(path_sources(project, plan))
    assert [s.config for s in sites] == ["halo_config", "slice_halo_config"]
    assert "stride_hw" in sites[0].bindings and "padding" in sites[1].bindings


def test_verify_cli_json_has_path_fields():
    from migrator.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["verify", str(FIX / "migrated-27f3" / "before"), "--format", "json", "--grids", "wormhole"])
    doc = json.loads(buf.getvalue())
    assert rc == 0 and doc["ok"] and doc["why_not_ok"] is None and doc["path_errors"] == 0
    assert doc["contexts"] == sum(s["evaluated"] for s in doc["sites"]) > 0
    assert all(s["paths"] for s in doc["sites"])


def test_spec_cache_by_blob_id(tmp_path, monkeypatch):
    monkeypatch.setenv("HALO_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    root = FIX / "rev-7136" / "before"
    first, w1 = specs_mod.read_checkout_specs(root)
    assert len(list((tmp_path / "cache" / "sweep-specs").glob("*.json"))) == 2

    def no_parse(*a, **k):
        raise AssertionError("libcst parse on a cached blob")
    from migrator.verify import sweep_source

    monkeypatch.setattr(sweep_source.cst, "parse_module", no_parse)
    second, w2 = specs_mod.read_checkout_specs(root)
    assert second == first and w2 == w1
    # a damaged entry is ignored (and the file parsed again)
    for f in (tmp_path / "cache" / "sweep-specs").glob("*.json"):
        f.write_text("{not json")
    monkeypatch.undo()
    monkeypatch.setenv("HALO_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    third, _ = specs_mod.read_checkout_specs(root)
    assert third == first
    import subprocess

    data = b"parameters = {}\n"
    git = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True).stdout
    assert specs_mod.blob_id(data) == git.decode().strip()


# ---- older revisions (45ecf0a728 ... f843883541): their entry and slice code --------------------


@pytest.fixture(scope="module")
def migrated_45ec():
    return _project("rev-45ec")


def test_older_slice_code_is_judged_as_the_bound_it_is(migrated_45ec):
    """rev-45ec sizes a slice by its own approximation (no slice padding in scope): a config that
    covers the real slice is reported as the caller's bound, and nothing is failed."""
    project, plan = migrated_45ec
    summaries = path_check(project, plan, SPECS, ["wormhole"], plan.model.estimate_variant)
    assert refusal(summaries) is None
    site2 = next(s for s in summaries if s["line"] > 400)
    assert site2["evaluated"] > 0 and site2["mismatches"] == 0
    assert sum(p["caller_findings"] for p in site2["paths"]) > 0


def test_older_slice_code_still_fails_a_description_smaller_than_the_slice(migrated_45ec):
    project, plan = migrated_45ec
    srcs = _mutated(project, plan, CU, b"slice_halo_config.input_hw = {input_slice_height, input_slice_width};",
                    b"slice_halo_config.input_hw = {input_slice_height / 2, input_slice_width / 2};")
    res = check_sources(srcs, SPECS[:3], ["wormhole"])
    site2 = next(r for r in res if r.function == "calculate_conv_dram_slice_L1_usage")
    assert sum(p.mismatches for p in site2.paths) > 0
    assert any("input_hw" in p.mismatch_fields for p in site2.paths)


def test_an_unmodelled_call_in_a_branch_no_context_takes_does_not_stop_the_path(migrated_7136):
    """45ecf0a728's conv2d folds the input under `enable_kernel_stride_folding` with `ttnn::fold`,
    which the evaluator does not know: the path still evaluates, the branch being off by default."""
    project, plan = migrated_7136
    conv = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"
    text = next(s.data for s in path_sources(project, plan) if s.path == conv)
    anchor = b"    const bool folded = fold_input_tensor_if_required("
    assert text.count(anchor) == 1
    folded = (b"    if (conv_config.enable_kernel_stride_folding) {\n"
              b"        input_height = ttnn::fold_rows(input_tensor, stride[0]);\n    }\n")
    srcs = _mutated(project, plan, conv, anchor, folded + anchor)
    res = check_sources(srcs, SPECS[:1], ["wormhole"])
    site1 = next(r for r in res if r.function == "determine_conv_config_for_auto_shard")
    direct = next(p for p in site1.paths if p.label.startswith("conv2d_L1"))
    assert direct.evaluated > 0 and not direct.unmodelled and not direct.mismatches


AUTO_FOLD = b"""bool auto_enable_kernel_folding(
    std::optional<bool> enable_folding_,
    bool is_dram,
    uint32_t input_height,
    uint32_t input_width,
    std::array<uint32_t, 2>& kernel_size,
    std::array<uint32_t, 2>& stride,
    std::array<uint32_t, 4>& padding_n4) {
    if (enable_folding_.has_value()) {
        return enable_folding_.value();
    }
    if (is_dram && stride == kernel_size && padding_n4 == std::array<uint32_t, 4>{0, 0, 0, 0} &&
        input_height % stride[0] == 0 && input_width % stride[1] == 0) {
        log_debug(tt::LogOp, "Auto enabling kernel folding");
        return RULE;
    }
    return false;
}

"""
FOLDS = ConvSpec.from_row([1, 32, 32, 64, 64, 2, 2, 2, 2, 0, 0, 1, 1, 1, False])  # stride == kernel, no padding


def _auto_folding_tree(project, plan, rule=b"true"):
    """The rev-7136 fixture as tt-metal has it since #29993: the conv config's folding flag is unset by
    default and the tree decides (``rule``: what its auto_enable_kernel_folding returns for a conv it
    could fold); folding rewrites the caller's geometry through reference parameters."""
    conv = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"
    anchor = b"// Folds a kernel-sized, stride-sized window"
    srcs = _mutated(project, plan, conv, anchor, AUTO_FOLD.replace(b"RULE", rule) + anchor)
    own_rule = (b"    const bool no_padding = padding_n4 == std::array<uint32_t, 4>{0, 0, 0, 0};\n"
                b"    if (!conv_config.enable_kernel_stride_folding || !no_padding || stride != kernel_size) {\n")
    auto_rule = (b"    if (!auto_enable_kernel_folding(\n"
                 b"            conv_config.enable_kernel_stride_folding, true, input_height, input_width, kernel_size,\n"
                 b"            stride, padding_n4)) {\n")
    return [SourceFile.parse(s.path, s.data.replace(own_rule, auto_rule)) if s.path == conv else s for s in srcs]


def test_a_tree_that_folds_by_itself_runs_a_stride_equal_to_kernel_conv_as_a_matmul(migrated_7136):
    """The folded geometry reaches the site through the fold's own body (its returns and its writes
    to reference parameters), and the truth is the folded conv: they agree."""
    project, plan = migrated_7136
    res = check_sources(_auto_folding_tree(project, plan), [FOLDS, SPECS[0]], ["wormhole"])
    site1 = next(r for r in res if r.function == "determine_conv_config_for_auto_shard")
    direct = [p for p in site1.paths if p.label.startswith("conv2d_L1")]  # one per layout
    assert len(direct) == 3 and all(p.evaluated == 2 and not p.mismatches and not p.unmodelled for p in direct)
    assert all(p.matmul == 1 for p in direct)  # the folded conv: no halo op runs for it
    assert site1.folded_contexts == 3 and site1.matmul_contexts == 3
    # the same conv on a tree with a plain flag (left off) is not folded: a halo conv
    plain = check_sources(path_sources(project, plan), [FOLDS], ["wormhole"])
    direct = [p for p in next(r for r in plain if r.function == "determine_conv_config_for_auto_shard").paths
              if p.label.startswith("conv2d_L1")]
    assert all(p.evaluated == 1 and p.matmul == 0 and not p.mismatches for p in direct)


def test_a_tree_whose_own_folding_differs_from_the_runtime_rule_is_caught(migrated_7136):
    """The code is followed, not mirrored: a branch whose auto_enable_kernel_folding never folds keeps
    the conv's own geometry at the site, while the truth is the folded conv, so the check fails
    (a safe refusal) instead of agreeing with itself."""
    project, plan = migrated_7136
    res = check_sources(_auto_folding_tree(project, plan, rule=b"false"), [FOLDS], ["wormhole"])
    site1 = next(r for r in res if r.function == "determine_conv_config_for_auto_shard")
    assert sum(p.mismatches for p in site1.paths) > 0


def test_a_function_returning_from_its_branches_is_evaluated_from_its_body(migrated_7136):
    """`_returned`: nested `if`s with returns, the fall-through after an `if`, and a log call on the way."""
    project, plan = migrated_7136
    srcs = _auto_folding_tree(project, plan)
    from migrator.verify.paths import Compiler, Ctx, Index, entry_values

    comp = Compiler(Index(srcs))
    src, fdef = comp.index.defs["auto_enable_kernel_folding"][0]
    calls = {"unset, foldable": ((), True, (64, 64), (2, 2), (2, 2), (0, 0, 0, 0), True),
             "unset, padded": ((), True, (64, 64), (2, 2), (2, 2), (1, 1, 1, 1), False),
             "unset, not DRAM": ((), False, (64, 64), (2, 2), (2, 2), (0, 0, 0, 0), False),
             "set off": ((False,), True, (64, 64), (2, 2), (2, 2), (0, 0, 0, 0), False)}
    for label, (flag, dram, hw, k, st, pad, want) in calls.items():
        from migrator.verify.exits import statements as _stmts
        from migrator.verify.paths import Opt
        vals = {"enable_folding_": Opt(*flag), "is_dram": dram, "input_height": hw[0], "input_width": hw[1],
                "kernel_size": k, "stride": st, "padding_n4": pad}
        frame = comp.frame(src, fdef, {n: (lambda ctx, v=v: v) for n, v in vals.items()}, label=label)
        fn = comp._returned(_stmts(fdef.child_by_field_name("body")), frame)
        ctx = Ctx(FOLDS, "HEIGHT", "wormhole", entry_values(FOLDS, "wormhole"))
        assert fn(ctx) is want, label


def test_mutants_are_generated_alike_on_a_tree_that_folds_by_itself(migrated_7136):
    """The mutation score's candidates (in-scope names evaluated in probe contexts) must evaluate on a
    tree whose default conv config leaves folding unset, as they do on one with a plain flag."""
    from migrator.verify import mutants

    project, plan = migrated_7136
    threaded = {"determine_conv_config_for_auto_shard": {"stride"}}
    plain = mutants.generate(path_sources(project, plan), SPECS, threaded)
    folding = mutants.generate(_auto_folding_tree(project, plan), SPECS, threaded)
    assert len(plain) > 20

    def shape(ms):  # the folding tree has 20 more lines above the callers
        return [(re.sub(r":\d+", "", m.where), m.text) for m in ms]
    assert shape(folding) == shape(plain)


def test_a_recursive_function_is_not_followed_but_fails_where_it_is_evaluated():
    from migrator.verify.exits import statements as _stmts
    from migrator.verify.paths import Compiler, Ctx, Index, PathEvalError, entry_values

    src = SourceFile.parse("r.cpp", b"""static uint32_t halve_until(uint32_t x, uint32_t limit) {
    if (x <= limit) {
        return x;
    }
    return halve_until(x / 2, limit);
}
static void shrink(uint32_t& x) {
    if (x > 1) {
        x = x / 2;
        shrink(x);
    }
}
uint32_t small() { return halve_until(4, 8); }
uint32_t large() { return halve_until(64, 8); }
uint32_t shrunk() {
    uint32_t y = 64;
    shrink(y);
    return y;
}
""")
    comp = Compiler(Index([src]))
    ctx = Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole"))

    def value(fn_name):
        _, fdef = comp.index.defs[fn_name][0]
        return comp._returned(_stmts(fdef.child_by_field_name("body")), comp.frame(src, fdef, {}, label=fn_name))(ctx)

    assert value("small") == 4  # the base case needs no recursion
    for fn_name in ("large", "shrunk"):
        with pytest.raises(PathEvalError, match="recursive|unknown function"):
            value(fn_name)


def test_first_slice_of_a_cut_takes_the_remainder_in_whole_tiles():
    spec = ConvSpec.from_row([1, 32, 32, 200, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, False])  # output 200 x 64
    one = first_slice(spec, "DRAM_HEIGHT")
    assert one["input_hw"] == (200, 64) and one["padding"] == (1, 1, 1, 1) and one["output_hw"] == (200, 64)
    first = first_slice(spec, "DRAM_HEIGHT", 2)  # 7 tiles: 4 + 3; output rows 0..127 read input rows -1..128
    assert first["output_hw"] == (128, 64) and first["input_hw"] == (129, 64) and first["padding"] == (1, 0, 1, 1)
    last = first_slice(spec, "DRAM_HEIGHT", 2, index=1)  # rows 128..199 read input rows 127..199
    assert last["output_hw"] == (72, 64) and last["input_hw"] == (73, 64) and last["padding"] == (0, 1, 1, 1)


# ---- speed: results kept by content, paths spread over processes ------------------------------------


def test_path_check_result_is_reused_only_for_identical_inputs(tmp_path, monkeypatch, migrated_7136):
    from migrator.verify import core, pathcheck, result_cache

    monkeypatch.setenv("HALO_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    project, plan = migrated_7136
    first = path_check(project, plan, SPECS[:2], ["wormhole"], plan.model.estimate_variant)
    assert len(list((tmp_path / "cache" / "path-check").glob("*.json"))) == 1

    calls = []
    real = pathcheck.check_sources
    monkeypatch.setattr(pathcheck, "check_sources", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert path_check(project, plan, SPECS[:2], ["wormhole"], plan.model.estimate_variant) == first
    assert calls == []  # a hit: nothing evaluated
    # one more spec, another grid, or one changed byte of a source: evaluated again
    path_check(project, plan, SPECS[:3], ["wormhole"], plan.model.estimate_variant)
    path_check(project, plan, SPECS[:2], ["blackhole"], plan.model.estimate_variant)
    assert len(calls) == 2
    changed = [SourceFile.parse(s.path, s.data + b"\n") if s.path == CU else s for s in path_sources(project, plan)]
    monkeypatch.setattr(core, "path_sources", lambda *a: changed)
    path_check(project, plan, SPECS[:2], ["wormhole"], plan.model.estimate_variant)
    assert len(calls) == 3
    # a damaged entry is ignored
    for f in (tmp_path / "cache" / "path-check").glob("*.json"):
        f.write_text("{")
    assert result_cache.load(f.stem) is None


def test_paths_spread_over_processes_give_the_same_result(monkeypatch, migrated_7136):
    project, plan = migrated_7136
    sources = path_sources(project, plan)
    monkeypatch.setenv("HALO_MIGRATE_JOBS", "1")
    serial = [r.summary() for r in check_sources(sources, SPECS, ["wormhole", "blackhole"])]
    monkeypatch.setenv("HALO_MIGRATE_JOBS", "2")
    forked = [r.summary() for r in check_sources(sources, SPECS, ["wormhole", "blackhole"])]
    assert forked == serial and sum(s["contexts"] for s in serial) > 0


def test_a_helper_no_entry_calls_refuses_with_that_reason(migrated_7136):
    """No spec says what an uncalled helper's parameters hold: the check will not vouch for it, and says why."""
    project, plan = migrated_7136
    helper = SourceFile.parse("ttnn/cpp/ttnn/operations/conv/conv2d/conv_halo_budget.cpp", b"""
namespace ttnn::operations::conv {
uint32_t conv_halo_budget_bytes(std::array<uint32_t, 2> shard_shape, uint32_t batch_size, uint32_t input_h,
                                uint32_t input_w) {
    sliding_window::SlidingWindowConfig budget_config;
    budget_config.batch_size = batch_size;
    budget_config.input_hw = {input_h, input_w};
    budget_config.window_hw = {3, 3};
    budget_config.stride_hw = {1, 1};
    budget_config.padding = {1, 1, 1, 1};
    budget_config.dilation_hw = {1, 1};
    budget_config.num_cores_nhw = 1;
    budget_config.snap_to_tile = true;
    return sliding_window::calculate_precise_halo_output_elems(budget_config, shard_shape) * 2;
}
}  // namespace ttnn::operations::conv
""")
    res = check_sources(path_sources(project, plan) + [helper], SPECS[:1], ["wormhole"])
    from migrator.verify.pathcheck import site_summary

    why = refusal([site_summary(r, 3) for r in res])
    assert why and "conv_halo_budget_bytes" in why and "called from no modelled entry" in why, why


def test_each_read_of_a_written_variable_sees_exactly_the_writes_before_it():
    """Reads of one variable share the value after their common writes (compiled once per context);
    a read compiled before an earlier one, or inside a branch, still sees only its own writes."""
    from migrator.verify.exits import statements as _stmts
    from migrator.verify.paths import Compiler, Ctx, Index, entry_values

    src = SourceFile.parse("w.cpp", b"""uint32_t reads(uint32_t flag) {
    uint32_t x = 1;
    uint32_t a = x;
    x = x * 10;
    uint32_t b = x;
    if (flag > 0) {
        x += 5;
    }
    uint32_t c = x;
    x = x - 1;
    flag = flag + x;
    return a * 1000000 + b * 10000 + c * 100 + x + flag * 0;
}
uint32_t late_first(uint32_t flag) {
    uint32_t x = 2;
    uint32_t none = x;
    x = x + 1;
    uint32_t one = x;
    x = x * 3;
    uint32_t two = x;
    return two * 10000 + none * 100 + one;
}
""")
    comp = Compiler(Index([src]))
    ctx = Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole"))

    def value(fn_name, flag):
        _, fdef = comp.index.defs[fn_name][0]
        frame = comp.frame(src, fdef, {"flag": lambda ctx: flag}, label=fn_name)
        return comp._returned(_stmts(fdef.child_by_field_name("body")), frame)(
            Ctx(SPECS[0], "HEIGHT", "wormhole", ctx.entry))

    assert value("reads", 0) == 1 * 1000000 + 10 * 10000 + 10 * 100 + 9
    assert value("reads", 1) == 1 * 1000000 + 10 * 10000 + 15 * 100 + 14
    assert value("late_first", 0) == 9 * 10000 + 2 * 100 + 3


def test_modelled_objects_compare_by_value_or_not_at_all():
    """C++ `pc_a != pc_b` compares members; Python would compare identity and answer "different" for
    two equal configs built apart.  A model-backed object compares its value; any other object pair
    fails the evaluation instead of guessing."""
    from migrator.verify import placement as pm
    from migrator.verify.paths import BINOPS, Obj, PathEvalError, _wrap_pc

    grid = pm.CoreGrid.row_wise(8, pm.GRIDS["wormhole"])
    a, b = _wrap_pc(pm.ParallelConfig(grid, "HEIGHT")), _wrap_pc(pm.ParallelConfig(grid, "HEIGHT"))
    other = _wrap_pc(pm.ParallelConfig(pm.CoreGrid.row_wise(7, pm.GRIDS["wormhole"]), "HEIGHT"))
    assert a is not b and BINOPS["=="](a, b) and not BINOPS["!="](a, b)
    assert BINOPS["!="](a, other)
    with pytest.raises(PathEvalError, match="not modelled"):
        BINOPS["=="](Obj("Tensor"), Obj("Tensor"))
    assert BINOPS["=="](3, 3) and BINOPS["!="]("HEIGHT", "WIDTH")


def test_writes_the_evaluator_cannot_follow_fail_instead_of_reading_as_unchanged():
    """A lambda taking the variable by non-const reference, or assigning it through a by-reference
    capture where its call is not a statement of its own, changes it where the evaluator does not
    look: the read fails.  A lambda called as a statement is followed into its body (upstream
    45ecf0a728 calls `compute_l1_usage_for_slice` twice, and the first call assigns the captured
    `conv_config` the second one reads).  A lambda whose own local has the same name changes
    nothing outside."""
    from migrator.verify.exits import statements
    from migrator.verify.paths import Compiler, Ctx, Index, PathEvalError, entry_values

    src = SourceFile.parse("l.cpp", b"""uint32_t by_param(uint32_t h) {
    const auto round_to_tile = [](uint32_t& v) { v = v + 31; };
    uint32_t rows = h;
    round_to_tile(rows);
    return rows;
}
uint32_t by_capture(uint32_t h) {
    uint32_t rows = h;
    auto grow = [&]() { rows += 2; };
    grow();
    return rows;
}
uint32_t by_named_capture(uint32_t h) {
    uint32_t rows = h;
    auto grow = [&rows]() { rows = rows * 3; };
    grow();
    return rows;
}
uint32_t with_args(uint32_t h) {
    uint32_t rows = h;
    auto scale = [&](uint32_t k, bool skip) {
        if (skip) {
            return;
        }
        rows = rows * k;
    };
    scale(4, false);
    scale(100, true);
    const auto add = [&rows](uint32_t k) { rows = rows + k; };
    add(1);
    add(rows);
    return rows;
}
uint32_t in_condition(uint32_t h) {
    uint32_t rows = h;
    auto grow = [&]() { rows += 2; return true; };
    if (grow()) {
        h = 1;
    }
    return rows;
}
uint32_t in_expression(uint32_t h) {
    uint32_t rows = h;
    auto grow = [&]() { rows += 2; return rows; };
    rows = grow() + 1;
    return rows;
}
uint32_t twice_in_one(uint32_t h) {
    uint32_t rows = h;
    auto grow = [&]() { rows += 2; return rows; };
    auto a = grow(), b = grow();
    return rows;
}
uint32_t by_copy(uint32_t h) {
    uint32_t rows = h;
    auto grow = [rows]() mutable { rows = rows * 3; return rows; };
    grow();
    return rows;
}
uint32_t own_local(uint32_t h) {
    uint32_t rows = h;
    auto shadow = [&](uint32_t x) { uint32_t rows = x; rows = rows * 2; return rows; };
    shadow(rows);
    return rows;
}
""")
    comp = Compiler(Index([src]))

    def value(fn_name):
        _, fdef = comp.index.defs[fn_name][0]
        frame = comp.frame(src, fdef, {"h": lambda ctx: 5}, label=fn_name)
        ctx = Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole"))
        body = statements(fdef.child_by_field_name("body"))
        return comp.expr([c for c in body[-1].named_children][0], frame)(ctx)

    with pytest.raises(PathEvalError, match="round_to_tile.*non-const reference"):
        value("by_param")
    assert value("by_capture") == 7
    assert value("by_named_capture") == 15
    assert value("with_args") == (5 * 4 + 1) * 2  # the second `add` gets, and adds to, what the first left
    with pytest.raises(PathEvalError, match="grow.*captures it by reference"):
        value("in_condition")
    with pytest.raises(PathEvalError, match="grow.*captures it by reference"):
        value("in_expression")
    with pytest.raises(PathEvalError, match="written more than once"):
        value("twice_in_one")
    assert value("by_copy") == 5  # a captured copy changes nothing outside
    assert value("own_local") == 5


def test_a_declaration_under_a_case_label_hides_the_outer_name():
    from migrator.engine.scope import scope_at
    from migrator.verify.paths import Compiler, Ctx, Index, entry_values

    src = SourceFile.parse("c.cpp", b"""uint32_t f(uint32_t h) {
    uint32_t stride = h;
    switch (h) {
        case 0: break;
        default:
            const uint32_t stride = 7;
            uint32_t used = stride + 1;
            return used;
    }
    return stride;
}
""")
    (_, fdef), = Index([src]).defs["f"]
    use = next(n for n in cpp_walk(fdef) if n.type == "identifier" and src.text(n) == "stride"
               and n.parent.type == "binary_expression")
    seen = scope_at(src, use).get("stride")
    assert seen.kind == "local" and seen.initializer == "7"
    comp = Compiler(Index([src]))
    frame = comp.frame(src, fdef, {"h": lambda ctx: 5}, label="f")
    ctx = Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole"))
    assert comp.expr(use, frame)(ctx) == 7


def cpp_walk(node):
    from migrator.engine import cpp
    return cpp.walk(node)


def test_every_other_write_channel_fails_the_read():
    """Adversarial round 2 found writes the evaluator read as "unchanged": through a reference alias, a
    pointer, `std::swap`, a range-for or structured binding by reference, a method, a macro that assigns
    its argument, an assignment inside another declaration, a lambda run where it is written.  Each now
    fails the read; the controls (a const alias, `std::min`, a constructor, a function of elsewhere, a
    macro that only reads) still evaluate."""
    from migrator.verify.exits import statements
    from migrator.verify.paths import Compiler, Ctx, Index, PathEvalError, entry_values

    channels = {
        "alias": ("auto& r = rows; r = r + 1;", "a non-const reference"),
        "pointer": ("uint32_t* p = &rows; *p = 1;", "its address is taken"),
        "swap": ("uint32_t other = 9; std::swap(rows, other);", "`std::swap`"),
        "unqualified_swap": ("uint32_t other = 9; swap(rows, other);", "`swap`"),
        "range_for": ("for (auto& e : arr) { e = 1; } rows = arr[0];", "`& e`"),
        "binding": ("auto& [a, b] = arr; a = 7; rows = arr[0];", "a non-const reference"),
        "method": ("arr.fill(0); rows = arr[0];", "method `fill()`"),
        "transform": ("std::transform(arr.begin(), arr.end(), arr.begin(), [](uint32_t v) { return v; }); rows = arr[1];",
                      "`std::transform`"),
        "macro": ("ROUND_IN_PLACE(rows);", "`ROUND_IN_PLACE`"),
        "in_declaration": ("const bool changed = (rows = rows + 1) != 0;", "assigned inside"),
        "run_here": ("[&]() { rows = 1; }();", "called where it is written"),
        "handed_off": ("run_later([&]() { rows = 1; });", "handed to another function"),
    }
    controls = {
        "const_alias": ("const auto& r = rows; uint32_t copy = r;", 5),
        "min": ("rows = std::min<uint32_t>(rows, 100u);", 5),
        "constructor": ("Shape s = Shape(rows);", 5),
        "elsewhere": ("log_value(rows);", 5),
        "reading_macro": ("uint32_t m = MAX_OF(rows, 1);", 5),
    }
    body = "".join(f"uint32_t via_{k}(uint32_t h) {{\n    uint32_t rows = h;\n    std::array<uint32_t, 2> arr = {{h, h}};\n"
                   f"    {code}\n    return rows;\n}}\n" for k, (code, _) in {**channels, **controls}.items())
    src = SourceFile.parse("w.cpp", ("#define ROUND_IN_PLACE(v) ((v) = ((v) + 31) / 32 * 32)\n"
                                     "#define MAX_OF(a, b) ((a) > (b) ? (a) : (b))\n" + body).encode())
    comp = Compiler(Index([src]))

    def value(fn_name):
        _, fdef = comp.index.defs["via_" + fn_name][0]
        frame = comp.frame(src, fdef, {"h": lambda ctx: 5}, label=fn_name)
        ctx = Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole"))
        last = statements(fdef.child_by_field_name("body"))[-1]
        return comp.expr(last.named_children[0], frame)(ctx)

    for name, (_, why) in channels.items():
        with pytest.raises(PathEvalError, match=re.escape(why)):
            value(name)
    for name, (_, want) in controls.items():
        assert value(name) == want, name


def test_a_declaration_under_a_preprocessor_conditional_fails_the_read():
    """`#ifdef X const std::array<uint32_t, 4> padding = {0, 0, 0, 0}; #endif` hides the parameter only in
    some builds: which `padding` a read means depends on the build, so it fails."""
    from migrator.verify.exits import statements
    from migrator.verify.paths import Compiler, Ctx, Index, PathEvalError, entry_values

    src = SourceFile.parse("p.cpp", b"""uint32_t f(uint32_t padding) {
#ifdef NO_SIDE_PADDING
    const uint32_t padding = 0;
#endif
    return padding;
}
""")
    comp = Compiler(Index([src]))
    _, fdef = comp.index.defs["f"][0]
    frame = comp.frame(src, fdef, {"padding": lambda ctx: 5}, label="f")
    last = statements(fdef.child_by_field_name("body"))[-1]
    with pytest.raises(PathEvalError, match="declared under `#ifdef NO_SIDE_PADDING`"):
        comp.expr(last.named_children[0], frame)(Ctx(SPECS[0], "HEIGHT", "wormhole", entry_values(SPECS[0], "wormhole")))


def test_a_struct_member_that_failed_keeps_failing():
    """A designated-initializer struct evaluates a member on first read.  A member whose evaluation fails
    must fail on every read: its placeholder is not its value (a second read once saw `None`)."""
    from migrator.verify.paths import LazyStruct, PathEvalError

    def broken(ctx):
        raise PathEvalError("not modelled")

    s = LazyStruct({}, [("conv_config", broken), ("n", lambda ctx: 3)], ctx=None)
    for _ in range(2):
        with pytest.raises(PathEvalError):
            s["conv_config"]
    assert s["n"] == 3

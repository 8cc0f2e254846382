"""`verify`: placement model, evaluator, spec reading, per-site checks, broken bindings, output."""

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from migrator.engine.checkout import Checkout
from migrator.engine.project import Project
from migrator.recipe.plan import build_plan
from migrator.verify import placement as pm
from migrator.verify.core import site_from_plan, verify_plan, verify_site
from migrator.verify.evaluate import ConfigBuilder, EvalError, evaluate
from migrator.verify.from_code import derive_roles, sites_from_code
from migrator.verify.specs import collect_specs, default_specs, load_specs_file, read_checkout_specs, read_sweep_source

REPO = Path(__file__).resolve().parents[1]
BEFORE = REPO / "fixtures" / "rev-7136" / "before"
SHARED_SPECS = REPO.parent / "shared" / "data" / "conv2d_short_sweep_specs.json"
GRIDS = ("wormhole", "blackhole")


@pytest.fixture(scope="module")
def plan():
    return build_plan(Project(Checkout.open(BEFORE)))


@pytest.fixture(scope="module")
def shared_specs():
    if not SHARED_SPECS.is_file():
        pytest.skip("shared conv2d sweep specs not present")
    return load_specs_file(str(SHARED_SPECS))


def _site(plan, kind):
    sites = [site_from_plan(s) for s in plan.sites]
    return next(s for s in sites if s.kind == kind)


def _break(site, field, expr):
    site.bindings = [(f, expr if f == field else e, p) for f, e, p in site.bindings]
    return site


# ---- placement model --------------------------------------------------------------------------


def test_placement_height_resnet_layer():
    spec = pm.ConvSpec.from_row([1, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, True])
    pl = pm.place(spec, "HEIGHT", "wormhole")
    n = pl.parallel_config.grid.num_cores
    assert n == 49  # 98 tiles of output rows -> 49 cores (largest divisor <= 64 with little padding)
    assert pl.runtime_config.num_cores_nhw == n
    assert pl.runtime_shard_shape == (pm._round_up(56 * 56, n * 32) // n, 64)
    assert pl.runtime_config.padding == (1, 1, 1, 1)
    assert pl.runtime_config.stride_hw == (1, 1) and pl.runtime_config.snap_to_tile


def test_placement_block_and_width_core_counts():
    spec = pm.ConvSpec.from_row([1, 256, 256, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, True])
    blk = pm.place(spec, "BLOCK", "blackhole")
    assert pm.get_num_cores_nhw_from_parallel_config(blk.parallel_config) <= 10
    c = pm.get_num_cores_channels_from_parallel_config(blk.parallel_config)
    assert c <= 13 and blk.runtime_shard_shape[1] == pm._round_up(256, c * 8) // c
    wid = pm.place(spec, "WIDTH", "wormhole")
    assert wid.runtime_config.num_cores_nhw == 1
    assert wid.runtime_shard_shape[1] * wid.parallel_config.grid.num_cores >= 256


def test_placement_skips():
    with pytest.raises(pm.NotReached):
        pm.place(pm.ConvSpec.from_row([1, 64, 64, 56, 56, 1, 1, 1, 1, 0, 0, 1, 1, 1, True]), "HEIGHT", "wormhole")
    dw1d = pm.ConvSpec.from_row([1, 32, 32, 100, 1, 3, 1, 1, 1, 1, 0, 32, 1, 1, False])
    pm.place(dw1d, "HEIGHT", "wormhole")
    with pytest.raises(pm.NotReached):
        pm.place(dw1d, "BLOCK", "wormhole")


def test_placement_slice_dims_include_padding():
    spec = pm.ConvSpec.from_row([1, 32, 32, 20, 30, 3, 3, 1, 1, 2, 1, 1, 1, 1, False])
    pl = pm.place(spec, "HEIGHT", "wormhole", "dram_slice", slice_dims_include_padding=True)
    assert (pl.roles["input_height"], pl.roles["input_width"]) == (24, 32)
    assert pl.runtime_config.input_hw == (20, 30)


# ---- evaluator --------------------------------------------------------------------------------


def test_evaluator_forms():
    pc = pm.ParallelConfig(pm.CoreGrid.rect(4, 7), "BLOCK")
    mem = pm.MemoryConfig("BLOCK", pm.ShardSpec(pc.grid, (64, 32)))
    roles = {"params.stride": "stride", "pad": "padding", "pconf": "parallel_config", "mem": "memory_config"}
    values = {"stride": (2, 3), "padding": (1, 1, 2, 2), "parallel_config": pc, "memory_config": mem}
    assert evaluate("{params.stride[0], params.stride[1]}", roles, values) == (2, 3)
    assert evaluate("{params . stride[1], 4}", roles, values) == (3, 4)
    assert evaluate("pad", roles, values) == (1, 1, 2, 2)
    assert evaluate("get_num_cores_nhw_from_parallel_config(pconf)", roles, values) == 7
    assert evaluate("ttnn::operations::conv::get_num_cores_channels_from_parallel_config(pconf)", roles, values) == 4
    assert evaluate("get_num_cores_nhw_from_parallel_config(pconf) + 1", roles, values) == 8
    assert evaluate("(2 * 3) - 1", roles, values) == 5
    assert evaluate("mem.shard_spec().value().grid", roles, values) == pc.grid
    assert evaluate("mem.shard_spec().value().shape", roles, values) == (64, 32)
    assert evaluate("true", roles, values) is True
    assert evaluate("static_cast<uint32_t>(pad[2])", roles, values) == 2
    assert evaluate("0 - 1", roles, values) == 0xFFFFFFFF  # uint32 wrap


@pytest.mark.parametrize("expr", ["stride[0]", "mem.shard_spec().value().__class__", "os.system(1)",
                                  "mem.secret", "{1, 2", "pconf.grid.num_cores()"])
def test_evaluator_rejects(expr):
    pc = pm.ParallelConfig(pm.CoreGrid.rect(1, 1), "HEIGHT")
    mem = pm.MemoryConfig("HEIGHT", pm.ShardSpec(pc.grid, (32, 32)))
    with pytest.raises(EvalError):
        evaluate(expr, {"mem": "memory_config", "pconf": "parallel_config"},
                 {"memory_config": mem, "parallel_config": pc})


def test_config_builder_checks_shapes():
    with pytest.raises(EvalError):
        ConfigBuilder({"no_such_field": "1"}, "s", {"s": "shard_shape"})
    b = ConfigBuilder({"stride_hw": "1"}, "s", {"s": "shard_shape"})
    with pytest.raises(EvalError):
        b.build({"shard_shape": (1, 1)})


# ---- spec sources -----------------------------------------------------------------------------


def test_libcst_reads_fixture_sweeps():
    found, warnings = read_checkout_specs(BEFORE)
    forge = next(v for k, v in found.items() if k.endswith("conv2d_ttforge_sweep.py"))
    stride16 = pm.ConvSpec.from_row([1, 320, 320, 80, 80, 3, 3, 16, 16, 0, 0, 1, 1, 1, False])
    assert stride16 in forge  # from parameters and from failing_parameters (18-column rows)
    short = next(v for k, v in found.items() if k.endswith("conv2d_short_sweep.py"))
    assert short and all(isinstance(s, pm.ConvSpec) for s in short)
    assert any("conv1d" in w for w in warnings)  # 10-column conv1d suite: skipped with a warning


def test_sweep_reader_tolerates_odd_shapes():
    src = (
        "import ttnn\nparameters = {'a': {'input_specs': [[1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, True],"
        " [1, 2, 3], foo(), [1, 8, 8, 8, 8, 3, 3, 1, 1, x, 1, 1, 1, 1, True]]}, 'b': make()}\n"
        "failing_parameters = compute()\n"
    )
    specs, warnings = read_sweep_source(src, "t.py")
    assert len(specs) == 1 and len(warnings) == 3
    assert read_sweep_source("def (", "bad.py")[1]


def test_default_specs_bundled():
    specs = default_specs()
    assert 25 <= len(specs) <= 60 and len(set(specs)) == len(specs)
    s = collect_specs(None, None)
    assert len(s.specs) == len(specs)


# ---- per-site verification on the fixture ----------------------------------------------------


def test_fixture_sites_match_on_shared_specs(plan, shared_specs):
    assert len(shared_specs) == 1546
    summaries = verify_plan(plan, shared_specs, GRIDS)
    assert len(summaries) == 2
    for s in summaries:
        assert s["mismatches"] == 0, s["mismatch_examples"]
        assert s["evaluated"] + s["skipped"] == 1546 * 3 * 2
        assert s["evaluated"] > 4000
        assert s["ratio"]["min"] is not None and s["ratio"]["min"] <= s["ratio"]["median"] <= s["ratio"]["max"]
        assert isinstance(s["l1_saved_bytes"], int)
        assert {"file", "line", "evaluated", "mismatches", "under_allocations", "ratio", "l1_saved_bytes"} <= set(s)


def _broken_specs():
    # a handful of specs with stride > 1, padding, several cores
    rows = [[1, 64, 64, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, True],
            [1, 128, 64, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, True],
            [1, 32, 3, 224, 224, 7, 7, 2, 2, 3, 3, 1, 1, 1, True],
            [1, 64, 64, 30, 90, 3, 3, 1, 1, 1, 1, 1, 1, 1, True]]
    return [pm.ConvSpec.from_row(r) for r in rows] + default_specs()


@pytest.mark.parametrize("kind,field,expr,named", [
    ("l1", "stride_hw", "{1, 1}", "stride_hw"),
    ("dram_slice", "stride_hw", "{1, 1}", "stride_hw"),
    ("dram_slice", "padding", "params.padding_n4", "padding"),
    ("l1", "num_cores_nhw", "get_num_cores_nhw_from_parallel_config(input_parallel_config) + 1", "num_cores_nhw"),
    ("dram_slice", "num_cores_nhw", "get_num_cores_nhw_from_parallel_config(parallel_config) + 1", "num_cores_nhw"),
    ("l1", "input_hw", "{input_width, input_height}", "input_hw"),
    ("l1", "dilation_hw", "{1, 1}", "dilation_hw"),
])
def test_broken_bindings_are_caught(plan, kind, field, expr, named):
    site = _break(_site(plan, kind), field, expr)
    res = verify_site(site, _broken_specs(), GRIDS, plan.model.estimate_variant)
    assert res.error is None
    assert res.mismatches > 0
    assert named in res.mismatch_fields
    assert all(named in m["fields"] for m in res.mismatch_examples)


def test_unresolvable_binding_is_an_error(plan):
    site = _break(_site(plan, "l1"), "stride_hw", "{not_in_scope[0], 1}")
    res = verify_site(site, default_specs()[:3], GRIDS, plan.model.estimate_variant)
    assert res.error and "not_in_scope" in res.error


# ---- migrated code ------------------------------------------------------------------------------


def test_migrated_tree_read_back_and_verified(plan, tmp_path):
    dst = tmp_path / "after"
    shutil.copytree(BEFORE, dst)
    for rel, data in plan.new_contents.items():
        (dst / rel).write_bytes(data)
    after = build_plan(Project(Checkout.open(dst)))
    assert after.state == "migrated"
    sites = sites_from_code(Project(Checkout.open(dst)))
    assert len(sites) == 2
    planned = {s.line: s for s in plan.sites}
    for s in sites:
        assert s.bindings and dict((f, e) for f, e, _ in s.bindings).get("snap_to_tile") == "true"
        res = verify_site(s, _broken_specs(), GRIDS, after.model.estimate_variant)
        assert res.error is None and res.mismatches == 0 and res.evaluated > 0
    assert {s.kind for s in sites} == {"l1", "dram_slice"}
    # Padded slice sizes are visible in migrated code only through a `{0, 0, 0, 0}` padding; the exact
    # rewrite passes the slice's own padding instead, so the sizes' convention no longer matters.
    zero_padding = [p for p in planned.values()
                    if dict((b.field, b.expr) for b in p.bindings)["padding"] == "{0, 0, 0, 0}"]
    assert any(s.slice_dims_include_padding for s in sites) == bool(zero_padding)


def test_derive_roles_patterns():
    roles = derive_roles(["{params.stride[0], params.stride[1]}", "slice_padding",
                          "get_num_cores_nhw_from_parallel_config(parallel_config)",
                          "sliced_input_tensor_memory_config.shard_spec().value().grid",
                          "{input_slice_height, input_slice_width}"], "shard_shape")
    assert roles["params.stride"] == "stride" and roles["slice_padding"] == "slice_padding"
    assert roles["parallel_config"] == "parallel_config"
    assert roles["sliced_input_tensor_memory_config"] == "memory_config"
    assert roles["input_slice_height"] == "input_height" and roles["shard_shape"] == "shard_shape"
    assert "get_num_cores_nhw_from_parallel_config" not in roles


# ---- command ------------------------------------------------------------------------------------


def _run(argv):
    from migrator.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def test_json_output_has_required_keys():
    rc, out = _run(["verify", str(BEFORE), "--format", "json", "--grids", "wormhole"])
    assert rc == 0
    doc = json.loads(out)
    assert {"sites", "specs_evaluated", "estimate_variant", "l1_saved_bytes"} <= set(doc)
    assert doc["specs_evaluated"] > 30
    for s in doc["sites"]:
        assert {"file", "line", "function", "bindings", "evaluated", "mismatches", "under_allocations",
                "ratio"} <= set(s)
        assert set(s["ratio"]) == {"min", "median", "max"}
        assert all(set(b) == {"expr", "provenance"} for b in s["bindings"].values())


@pytest.mark.parametrize("fmt", ["text", "markdown", "github"])
def test_other_formats(fmt):
    rc, out = _run(["verify", str(BEFORE), "--format", fmt, "--grids", "blackhole"])
    assert rc == 0 and "conv2d_utils.cpp" in out


def test_bad_grid_and_bad_specs_exit_2(tmp_path):
    assert _run(["verify", str(BEFORE), "--grids", "grayskull"])[0] == 2
    bad = tmp_path / "specs.json"
    bad.write_text("{\"specs\": [[1, 2]]}")
    assert _run(["verify", str(BEFORE), "--specs", str(bad)])[0] == 2

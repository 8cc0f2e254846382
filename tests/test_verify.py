"""`verify`: placement model, spec reading, per-site checks, broken bindings, output."""

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
from migrator.verify.core import verify_plan
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


def _migrated(plan, tmp_path, old=b"", new=b""):
    """The fixture with the plan written into it, one binding optionally replaced (`old` -> `new`)."""
    dst = tmp_path / "after"
    shutil.copytree(BEFORE, dst)
    for rel, data in plan.new_contents.items():
        if old and old in data:
            data = data.replace(old, new, 1)
        (dst / rel).write_bytes(data)
    return dst


@pytest.mark.parametrize("old,new,named", [
    (b"halo_config.stride_hw = {stride[0], stride[1]}", b"halo_config.stride_hw = {1, 1}", "stride_hw"),
    (b"slice_halo_config.stride_hw = {params.stride[0], params.stride[1]}", b"slice_halo_config.stride_hw = {1, 1}",
     "stride_hw"),
    (b"halo_config.dilation_hw = {dilation[0], dilation[1]}", b"halo_config.dilation_hw = {1, 1}", "dilation_hw"),
])
def test_broken_bindings_in_migrated_code_are_caught(plan, tmp_path, old, new, named):
    """A wrong source written into the migrated text is found by reading that text back (nothing from the
    plan's binding choice is used)."""
    dst = _migrated(plan, tmp_path, old, new)
    after = build_plan(Project(Checkout.open(dst)))
    assert after.state == "migrated"
    summaries = verify_plan(after, _broken_specs(), GRIDS, checkout=Checkout.open(dst))
    broken = [s for s in summaries if s["mismatches"]]
    assert len(broken) == 1, [(s["file"], s["line"], s["mismatches"]) for s in summaries]
    assert named in broken[0]["mismatch_fields"]


def test_migrated_tree_read_back_and_verified(plan, tmp_path):
    dst = _migrated(plan, tmp_path)
    after = build_plan(Project(Checkout.open(dst)))
    assert after.state == "migrated" and not after.pending
    summaries = verify_plan(after, _broken_specs(), GRIDS, checkout=Checkout.open(dst))
    assert len(summaries) == len(plan.sites) == 2
    for s in summaries:
        assert s["bindings"]["snap_to_tile"]["expr"] == "true"
        assert s["mismatches"] == 0 and s["evaluated"] > 0, s


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

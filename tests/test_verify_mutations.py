"""Binding mutation score: every plausible wrong source substituted into the migrated text must make
the path check fail, unless it changes no value anywhere.

For each fixture, the migrated text (the tool's own migration of a pending fixture, or the hand
migration in ``migrated-27f3``) is mutated one substitution at a time (see
:mod:`migrator.verify.mutants`): each bound field gets every other in-scope candidate of a
compatible value, ``{1, 1}``, core count +-1, the whole input's padding at a slice; every threaded
argument at every caller gets every other candidate in the caller's scope.  The score is printed
and must be 100 %.
"""

from pathlib import Path

import pytest

from migrator.engine.checkout import Checkout
from migrator.engine.project import Project
from migrator.engine.source import SourceFile
from migrator.recipe.plan import build_plan
from migrator.verify import mutants
from migrator.verify.core import path_sources
from migrator.verify.placement import ConvSpec

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "fixtures"

# Few but varied: strided, padded, non-square, batched, dilated, a 1x1 matmul conv, stride != dilation.
SPECS = [ConvSpec.from_row(r) for r in (
    [1, 64, 64, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, True],
    [1, 64, 64, 30, 90, 3, 3, 1, 1, 1, 1, 1, 1, 1, True],
    [2, 32, 48, 40, 24, 5, 3, 2, 1, 2, 1, 1, 1, 1, False],
    [1, 32, 3, 224, 224, 7, 7, 2, 2, 3, 3, 1, 1, 1, True],
    [1, 128, 128, 28, 28, 3, 3, 1, 1, 2, 2, 1, 2, 2, True],
    [1, 64, 64, 56, 56, 1, 1, 1, 1, 0, 0, 1, 1, 1, True],
    [1, 256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1, 3, 3, True],
)]


def _sources(case: str):
    project = Project(Checkout.open(FIX / case / "before"))
    plan = build_plan(project)
    return path_sources(project, plan), {p: d for p, d in plan.originals.items()}


def _threaded(case: str, after):
    if case == "migrated-27f3":
        # the hand migration's own before: the same functions in the last pre-migration fixture
        before = {s.path: (FIX / "rev-7136" / "before" / s.path).read_bytes() for s in after
                  if (FIX / "rev-7136" / "before" / s.path).is_file()}
    else:
        _, before = _sources(case)
        before = {**{s.path: s.data for s in after}, **before}
    return mutants.threaded_params(before, after)


@pytest.mark.parametrize("case", ["rev-7136", "rev-5702", "migrated-27f3"])
def test_mutation_score_is_100_percent(case, capsys):
    after, _ = _sources(case)
    threaded = _threaded(case, after)
    assert threaded, "no threaded parameter found"
    results, summary = mutants.run(after, SPECS, ["wormhole"], threaded)
    with capsys.disabled():
        print(f"\n{case}: {summary['killed']} killed, {summary['survived']} survived, "
              f"{summary['equivalent']} equivalent of {summary['mutants']} mutants: score {summary['score']} %")
    survivors = [f"{r.mutant.where}: {r.mutant.original} -> {r.mutant.text}" for r in results if r.status == "survived"]
    assert summary["killed"] > 20
    assert not survivors, survivors
    assert summary["score"] == 100.0
    wheres = {r.mutant.where.split(" ")[0] for r in results if r.status == "killed"}
    assert {"site", "caller"} <= wheres  # both bound fields and threaded arguments were mutated and caught


def test_issue_examples_are_caught_on_the_hand_migration():
    """The three wrong sources the issue names, on upstream-shaped hand migration code."""
    after, _ = _sources("migrated-27f3")
    by_path = {s.path: s for s in after}
    cu = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
    cases = [
        (cu, b"slice_halo_config.padding = slice_padding;", b"slice_halo_config.padding = params.padding_n4;",
         "padding"),
        (cu, b"halo_config.core_range_set = halo_input_memory_config.shard_spec().value().grid;",
         b"halo_config.core_range_set = output_parallel_config.grid;", "core_range_set"),
    ]
    from migrator.verify.pathcheck import check_sources

    for path, old, new, field in cases:
        src = by_path[path]
        assert src.data.count(old) == 1
        mutated = [SourceFile.parse(s.path, s.data.replace(old, new)) if s.path == path else s for s in after]
        res = check_sources(mutated, SPECS, ["wormhole"])
        fields = {f for r in res for p in r.paths for f in p.mismatch_fields}
        assert field in fields, (field, fields)
    # a caller passing `dilation` where the threaded stride belongs
    conv = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"
    src = by_path[conv]
    old = b"            kernel_size,\n            stride,\n            dilation,"
    assert src.data.count(old) >= 1
    data = src.data.replace(old, b"            kernel_size,\n            dilation,\n            dilation,", 1)
    mutated = [SourceFile.parse(conv, data) if s.path == conv else s for s in after]
    res = check_sources(mutated, SPECS, ["wormhole"])
    # (the hand migration's transposed path is flagged already: upstream passes the conv's own stride there)
    bad = [p for r in res for p in r.paths if p.mismatches and p.kind != "transposed"]
    assert bad and all("stride_hw" in p.mismatch_fields for p in bad)
    assert any(p.entry == "conv2d_L1" for p in bad)
    assert all(m["values"]["stride_hw"][0] != m["values"]["stride_hw"][1] for p in bad for m in p.mismatch_examples)

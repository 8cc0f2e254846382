"""The outcome corpus (tests/outcome_corpus.py): every generated tree compiles, the grader has teeth, and the
tool's outcomes on the corpus are exactly what is known today: no new wrong outcome, and a case that became
correct must leave KNOWN_WRONG (so the set only shrinks)."""

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

import outcome_corpus as oc
from conftest import FIXTURES

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")

# Cases the tool currently gets wrong (exit 0 with a tree that does not compile or computes another size,
# a mention left behind, ...). `python benchmarks/outcome_corpus.py` prints each one's reason.
# Adversarial round 3 (a), the DRAM-slice site: the numeric check evaluates the slice loop's first iteration
# (one slice), so slice geometry a branch changes only for later slices is bound unchecked. Evaluating later
# iterations (a loop-carried state per iteration, the truth of slice k) is not built yet.
KNOWN_WRONG: set[str] = {
    "adv3a-interior-slice-end-extended-7136",  # extents grown for interior slices bound as the slice's
    "adv3a-interior-slice-end-extended-5702",  # the same on the 5702 loop
    "adv3a-hoisted-pads-accumulate",  # pad_right declared before the loop accumulates tile roundings
    "adv3a-previous-slice-rows-resident",  # a loop-carried start shrinks later slices' extents
}  # a new wrong outcome fails this test

CASES = {c.id: c for c in oc.cases()}


def test_corpus_covers_every_class_of_the_issue():
    classes = {c.cls for c in CASES.values()}
    for needed in ("pair-typed stride", "expression argument", "call under a case label", "call in a loop condition",
                   "loop whose variables change per iteration", "#define calls the estimate",
                   "#if/#else branches with their own locals", "local `stride` that is not the conv stride",
                   "conv stride under another name", "pool halo (not a conv2d halo)",
                   "second site with the same config name", "file that does not parse",
                   "default arguments on the threading target", "overload of the threading target"):
        assert needed in classes, needed
    assert len({c for c in classes if c.startswith("extra:")}) >= 4
    for c in CASES.values():
        assert c.expect in ("migrate", "refuse")
        assert not (c.refuse_only and c.expect == "migrate"), c.id


def test_every_structural_check_is_a_function():
    """A check factory that forgets `return check` yields None, which is only noticed when the tool migrates
    the case: then grading crashes instead of saying "wrong" (`threaded_calls_in` did, for three cases)."""
    broken = [(c.id, i) for c in CASES.values() for i, ch in enumerate(c.checks) if not callable(ch)]
    assert not broken


def test_every_generated_before_tree_compiles():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        errors = dict(zip(CASES, pool.map(oc.before_compile_errors, CASES.values())))
    assert {k: v for k, v in errors.items() if v} == {}


def test_every_case_changes_its_fixture():
    for c in CASES.values():
        if c.cls.startswith("control"):
            continue
        assert c.files != oc._base(c.base), c.id


# ---- the grader, on the reviewed golden migration (no tool run) -------------------------------

def _golden_after(case: oc.Case) -> dict[str, bytes]:
    after = dict(case.files)
    gold = FIXTURES / case.base / "after"
    for p in gold.rglob("*"):
        if p.is_file():
            after[str(p.relative_to(gold))] = p.read_bytes()
    return after


def _ok(rc=0, err=""):
    return SimpleNamespace(returncode=rc, stderr=err)


def test_grader_accepts_the_golden_migrations():
    for rev in ("rev-7136", "rev-45ec", "rev-5702"):
        case = CASES[f"control-{rev}"]
        g = oc._grade(case, _ok(), case.files, _golden_after(case))
        assert (g.grade, g.reason) == ("correct", ""), rev


@pytest.mark.parametrize("old, new, reason", [
    (b"halo_config.stride_hw = {stride[0], stride[1]};", b"halo_config.stride_hw = {1, 1};", "stride_hw"),
    (b"        halo_config.snap_to_tile = true;\n", b"", "snap_to_tile"),
    (b"slice_halo_config.padding = slice_padding;", b"slice_halo_config.padding = params.padding_n4;", "padding"),
    (b"calculate_precise_halo_output_elems(halo_config, halo_input_shard_shape)",
     b"calculate_precise_halo_output_elems(halo_config, {halo_input_shard_shape[0], 32})", "shard argument"),
    (b"halo_config.stride_hw = {stride[0], stride[1]};", b"halo_config.stride_hw = {stride[0], stride[0]};",
     "stride_hw"),
    (b"halo_config.stride_hw = {stride[0], stride[1]};", b"halo_config.stride_hw = {stride[0], stride[1]}; (",
     "does not compile"),
])
def test_grader_rejects_a_wrong_golden(old, new, reason):
    case = CASES["control-rev-7136"]
    after = _golden_after(case)
    assert after[oc.CU].count(old) == 1
    after[oc.CU] = after[oc.CU].replace(old, new)
    g = oc._grade(case, _ok(), case.files, after)
    assert g.grade == "wrong" and reason in g.reason, g


def test_grader_rejects_a_leftover_mention_and_a_second_threaded_parameter():
    case = CASES["control-rev-7136"]
    after = _golden_after(case)
    after[oc.CU] = after[oc.CU].replace(b"halo_config.snap_to_tile = true;",
                                        b"halo_config.snap_to_tile = true; // estimate_halo_output_elems\n"
                                        b"        (void)&estimate_halo_output_elems;", 1)
    assert "still mentions" in oc._grade(case, _ok(), case.files, after).reason
    after = _golden_after(case)
    after[oc.CH] = after[oc.CH].replace(b"    const std::array<uint32_t, 2>& stride,\n",
                                        b"    const std::array<uint32_t, 2>& stride,\n    uint32_t stride2,\n")
    assert "2 parameters threaded" in oc._threading(case, case.files, after)
    after = _golden_after(case)
    after[oc.CONV2D] = after[oc.CONV2D].replace(b"            stride,\n", b"            orig_stride,\n", 1)
    assert "threaded argument is 'orig_stride'" in oc._threading(case, case.files, after)
    assert oc._threading(case, case.files, _golden_after(case)) is None
    after = _golden_after(case)  # the golden passes the exact stride of the conv conv_transpose2d really runs
    text = after[oc.TRANSPOSE]
    assert text.count(b"            {1, 1},\n") == 1
    assert oc._threading(case, case.files, after) is None
    # ... and the transposed conv's own stride (upstream's choice) is accepted too
    after[oc.TRANSPOSE] = text.replace(b"            {1, 1},\n", b"            stride,\n")
    assert oc._threading(case, case.files, after) is None


def test_grader_refusals():
    case, before = CASES["control-rev-7136"], CASES["control-rev-7136"].files
    assert oc._grade(case, _ok(2, "halo-migrate: no\n"), before, before).grade == "safe refusal (gap)"
    refusable = CASES["truncated-cpp"]
    assert oc._grade(refusable, _ok(2, "x: no\n"), refusable.files, refusable.files).grade == "safe refusal"
    assert oc._grade(refusable, _ok(2, "x: no\nmore\n"), refusable.files, refusable.files).grade == "wrong"
    changed = dict(refusable.files, extra=b"x")
    assert "tree changed" in oc._grade(refusable, _ok(2, "x: no\n"), refusable.files, changed).reason
    assert oc._grade(refusable, _ok(1, "Traceback (most recent call last):\n"), refusable.files,
                     refusable.files).grade == "wrong"
    assert "no correct migration" in oc._grade(refusable, _ok(0), refusable.files, refusable.files).reason


def test_designated_initializers_and_introduced_locals_are_read_back():
    text = ("void f() {\n    const auto halo_stride = use ? a : b;\n"
            "    SlidingWindowConfig cfg{.batch_size = n, .stride_hw = {halo_stride[0], halo_stride[1]}};\n"
            "    cfg.snap_to_tile = true;  // conv\n"
            "    x = sliding_window::calculate_precise_halo_output_elems(cfg, shard);\n}\n")
    [r] = oc.rewritten_calls(text)
    assert r.fields == {"batch_size": "n", "stride_hw": "{halo_stride[0], halo_stride[1]}", "snap_to_tile": "true"}
    locals_ = oc._introduced_locals("void f() {}", text)
    oracle = oc.site("shard", batch_size="n", stride_hw=oc.pair_of("use ? a : b"), snap_to_tile="true")
    assert oc.check_site(oracle, r, locals_) is None
    oracle = oc.site("shard", stride_hw=oc.pair_of("a"))
    assert "stride_hw" in oc.check_site(oracle, r, locals_)


def test_placement_outside_a_loop_is_wrong():
    text = ("void f() {\n    SlidingWindowConfig cfg;\n    cfg.input_hw = {h, w};\n"
            "    while (h > 1 && calculate_precise_halo_output_elems(cfg, s) > 3) {\n        h /= 2;\n    }\n}\n")
    [r] = oc.rewritten_calls(text)
    assert "outside the loop" in oc._placement(oc.code_only(text), r)
    inside = ("void f() {\n    for (;;) {\n        SlidingWindowConfig cfg;\n"
              "        x = calculate_precise_halo_output_elems(cfg, s);\n    }\n}\n")
    [r] = oc.rewritten_calls(inside)
    assert oc._placement(oc.code_only(inside), r) is None


# ---- the tool under test on the whole corpus ---------------------------------------------------

def test_the_grader_fails_a_migrated_tree_edited_to_bind_stride_as_ones(tmp_path):
    """End to end through the real tool: the migrated tree is edited to bind stride as {1, 1}."""
    def break_stride(root: Path):
        cu = root / oc.CU
        text = cu.read_bytes()
        assert text.count(b"halo_config.stride_hw = {stride[0], stride[1]};") == 1
        cu.write_bytes(text.replace(b"halo_config.stride_hw = {stride[0], stride[1]};",
                                    b"halo_config.stride_hw = {1, 1};"))

    case = CASES["control-rev-7136"]
    assert oc.grade(case, workdir=tmp_path).grade == "correct"
    g = oc.grade(case, workdir=tmp_path / "again", edit_after=break_stride)
    assert g.grade == "wrong" and "stride_hw = '{1,1}'" in g.reason, g


def test_outcomes_on_the_corpus():
    results = oc.run_corpus(jobs=2)
    wrong = {c.id: g.reason for c, g in results if g.grade == "wrong"}
    counts = {k: sum(g.grade == k for _, g in results) for k in ("correct", "safe refusal", "safe refusal (gap)")}
    print(f"\n{len(results)} cases: {counts}, {len(wrong)} wrong")
    new = {k: v for k, v in wrong.items() if k not in KNOWN_WRONG}
    assert new == {}, "new wrong outcomes"
    fixed = KNOWN_WRONG - set(wrong)
    assert fixed == set(), f"now graded {[g.grade for c, g in results if c.id in fixed]}: remove from KNOWN_WRONG"
    assert KNOWN_WRONG <= set(CASES)

"""Every fixture case, OpenRewrite style: before → after exactly; already-right trees unchanged;
refusals write nothing; a second run over the result changes nothing."""

import pytest

from conftest import FIXTURES, case_meta, copy_tree, fixture_cases, snapshot
from golden import migrate_in_memory
from migrator.engine.checkout import Checkout
from migrator.engine.locate import find_occurrences
from migrator.engine.project import Project
from migrator.engine.source import SourceFile
from migrator.errors import MigrateError
from migrator.recipe.plan import build_plan

CASES = fixture_cases()


def test_there_are_enough_cases():
    assert len(CASES) >= 8, CASES


@pytest.mark.parametrize("case", CASES)
def test_fixture_case(case, tmp_path):
    meta = case_meta(case)
    before = FIXTURES / case / "before"
    if meta["expect"] == "migrate":
        new = migrate_in_memory(before, meta.get("with_test", False))
        after_dir = FIXTURES / case / "after"
        expected = {str(p.relative_to(after_dir)): p.read_bytes() for p in after_dir.rglob("*") if p.is_file()}
        assert sorted(new) == sorted(expected), "set of changed files differs from the golden"
        for rel in expected:
            assert new[rel] == expected[rel], f"{case}: {rel} differs from the golden after/"
            assert SourceFile.parse(rel, new[rel]).error_count() == 0 or rel.endswith((".py", ".txt"))
    elif meta["expect"] in ("nothing-to-do", "nothing-to-migrate"):
        plan = build_plan(Project(Checkout.open(before)))
        assert not plan.pending
        assert plan.state == {"nothing-to-do": "migrated", "nothing-to-migrate": "nothing-to-migrate"}[meta["expect"]]
    elif meta["expect"] == "refuse":
        with pytest.raises(MigrateError) as info:
            build_plan(Project(Checkout.open(before)))
        assert meta["refuse_reason_contains"] in info.value.message
    else:
        pytest.fail(f"unknown expectation {meta['expect']}")


@pytest.mark.parametrize("case", [c for c in CASES if case_meta(c)["expect"] == "migrate"])
def test_second_run_is_a_no_op_and_nothing_references_the_estimate(case, tmp_path):
    root = copy_tree(FIXTURES / case / "before", tmp_path / "t", git=False)
    with_test = case_meta(case).get("with_test", False)
    for rel, data in migrate_in_memory(root, with_test).items():
        (root / rel).write_bytes(data)
    plan = build_plan(Project(Checkout.open(root)), with_test=with_test)
    assert plan.state == "migrated"
    assert not plan.pending
    for path, data in snapshot(root).items():
        if path.endswith((".cpp", ".hpp", ".h")):
            src = SourceFile.parse(path, data)
            assert not find_occurrences(src, "estimate_halo_output_elems"), path

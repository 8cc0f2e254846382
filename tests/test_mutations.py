"""A fixed-seed slice of the mutation corpus (tests/mutations.py): every mutated tree is either
migrated cleanly (parses, no estimate left, idempotent, nothing lost) or refused cleanly (exit 2,
one line, nothing written). `python benchmarks/robustness.py` runs the whole corpus."""

import hashlib
from functools import lru_cache

import pytest

import mutations as M

FULL = 240
STEP = 6  # 40 trees in CI


@lru_cache(maxsize=1)
def full_corpus():
    return list(M.corpus(FULL))


def test_corpus_is_big_deterministic_and_uses_every_mutation():
    a = full_corpus()
    b = list(M.corpus(FULL))
    assert len(a) >= 200
    digest = lambda ms: hashlib.sha256(b"".join(  # noqa: E731
        m.name.encode() + b"".join(k.encode() + v for k, v in sorted(m.files.items())) for m in ms)).hexdigest()
    assert digest(a) == digest(b)
    used = {name for m in a for name in m.applied}
    assert used == set(M.MUTATIONS), set(M.MUTATIONS) - used
    assert {m.case for m in a} == set(M.CASES)
    assert len({m.name for m in a}) == len(a)


def test_a_different_seed_gives_a_different_corpus():
    assert [m.name for m in M.corpus(20, seed=1)] != [m.name for m in M.corpus(20, seed=2)]


@pytest.mark.parametrize("name", sorted(M.MUTATIONS))
def test_mutation_fails_loudly_when_its_target_is_missing(name):
    import random

    files = {"README.md": b"nothing here\n"}
    with pytest.raises(M.TargetMissing):
        M.MUTATIONS[name](files, random.Random(0))


@pytest.mark.parametrize("index", range(0, FULL, STEP))
def test_mutated_tree_migrates_or_refuses_cleanly(index, tmp_path):
    mutant = full_corpus()[index]
    root = mutant.write(tmp_path / "t")
    outcome = M.check_tree(root)
    detail = f"{mutant.name}: {'; '.join(mutant.descriptions)} -> {outcome.status}: {outcome.reason}"
    assert not outcome.traceback, detail
    assert not outcome.unintended_write, detail
    assert not outcome.lost_change, detail
    assert outcome.status in ("migrated", "refused"), detail

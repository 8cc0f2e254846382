"""The migrated fixtures compile (g++ -std=c++20 -fsyntax-only -Wall -Werror against the fixtures'
own stub headers), and the formatted result is clang-format clean on every changed line with the
checkout's own .clang-format: the patch a maintainer gets builds under tt-metal's -Werror."""

import shutil
import subprocess

import pytest

from conftest import FIXTURES, case_meta, copy_tree, fixture_cases
from golden import migrate_in_memory
from migrator.engine.formatting import changed_line_ranges, clang_format_binary, format_changed_lines

MIGRATE = [c for c in fixture_cases() if case_meta(c)["expect"] == "migrate"]


def compile_errors(root):
    errors = []
    for path in sorted(root.rglob("*.cpp")):
        cmd = ["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Werror", "-I", str(root / "ttnn/cpp"),
               "-I", str(path.parent), str(path)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            errors.append(f"{path.relative_to(root)}:\n{res.stderr[:1500]}")
    return errors


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
@pytest.mark.parametrize("case", MIGRATE)
def test_before_and_after_compile(case, tmp_path):
    root = copy_tree(FIXTURES / case / "before", tmp_path / "t", git=False)
    assert compile_errors(root) == [], "the fixture itself must compile"
    for rel, data in migrate_in_memory(root, case_meta(case).get("with_test", False)).items():
        (root / rel).write_bytes(data)
    assert compile_errors(root) == []


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
def test_a_wrong_rewrite_would_not_compile(tmp_path):
    """The compile check has teeth: the naive binding upstream's seed plan had does not compile."""
    root = copy_tree(FIXTURES / "rev-7136" / "before", tmp_path / "t", git=False)
    for rel, data in migrate_in_memory(root).items():
        data = data.replace(b"get_num_cores_nhw_from_parallel_config(input_parallel_config)",
                            b"input_parallel_config.num_cores_nhw")
        (root / rel).write_bytes(data)
    assert any("num_cores_nhw" in e for e in compile_errors(root))


@pytest.mark.skipif(clang_format_binary() is None, reason="clang-format not installed")
@pytest.mark.parametrize("case", ["rev-7136", "rev-45ec", "third-site"])
def test_changed_lines_are_clang_format_clean(case, tmp_path):
    root = copy_tree(FIXTURES / case / "before", tmp_path / "t", git=False)
    originals = {}
    new = migrate_in_memory(root)
    for rel in new:
        originals[rel] = (root / rel).read_bytes()
    formatted, notes = format_changed_lines(root, originals, new)
    assert notes == []
    exe = clang_format_binary()
    for rel, data in formatted.items():
        ranges = changed_line_ranges(originals[rel], data)
        (root / rel).write_bytes(data)
        args = [exe, "--dry-run", "-Werror", f"--style=file:{root / '.clang-format'}"]
        args += [f"--lines={a}:{b}" for a, b in ranges] + [str(root / rel)]
        res = subprocess.run(args, capture_output=True, text=True)
        assert res.returncode == 0, f"{rel}: {res.stderr[:1500]}"
    # lines the migration did not touch stay byte-identical
    for rel, data in formatted.items():
        before_lines = set(originals[rel].splitlines())
        unchanged = [ln for ln in new[rel].splitlines() if ln in before_lines]
        assert all(ln in data.splitlines() for ln in unchanged[:50])


def test_pinned_clang_format_version_is_read_from_the_checkout(tmp_path):
    from migrator.engine.formatting import pinned_version

    assert pinned_version(FIXTURES / "rev-7136" / "before") == "19.1.4"
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/pre-commit/mirrors-clang-format\n    rev: v17.0.6\n")
    assert pinned_version(tmp_path) == "17.0.6"
    assert pinned_version(tmp_path / "missing") is None

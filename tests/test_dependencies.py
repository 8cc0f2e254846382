"""Our dependency ranges co-install with tt-metal's development environment: every pin tt-metal's
requirements-dev (and build-system) holds on a package we install is inside our range
(tests/data/ttmetal_dev_pins.json, read from tt-metal at 45ecf0a728, dbbc742d10, 7136cb56bb)."""

import json
import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

PINS = json.loads((REPO / "tests" / "data" / "ttmetal_dev_pins.json").read_text(encoding="utf-8"))
ALL_PINS = [(rev, p) for rev, pins in PINS["revisions"].items() for p in pins]


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10: the three arrays this test needs, read by hand
        text = (REPO / "pyproject.toml").read_text(encoding="utf-8")

        def array(key):
            body = re.search(rf"^{key}\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
            return re.findall(r'"([^"]+)"', re.sub(r"#.*", "", body))

        return {"project": {"dependencies": array("dependencies"), "optional-dependencies": {"test": array("test")}},
                "build-system": {"requires": array("requires")}}
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def our_requirements() -> dict[str, Requirement]:
    doc = _pyproject()
    reqs = [*doc["project"]["dependencies"], *doc["project"]["optional-dependencies"]["test"],
            *doc["build-system"]["requires"]]
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def _installed(name: str) -> Version | None:
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("rev,pin", ALL_PINS, ids=[f"{rev}-{p['name']}" for rev, p in ALL_PINS])
def test_tt_metal_pin_is_inside_our_range(rev, pin):
    ours = our_requirements().get(canonicalize_name(pin["name"]))
    assert ours is not None, f"{pin['name']} is recorded but we do not depend on it: the data is stale"
    theirs = SpecifierSet(pin["spec"])
    exact = [s.version for s in theirs if s.operator == "=="]
    if exact:
        assert ours.specifier.contains(exact[0], prereleases=True), \
            f"tt-metal {rev} pins {pin['name']}{pin['spec']}; our range {ours.specifier} excludes it"
    else:  # a range on both sides: the version installed here satisfies both, so they overlap
        have = _installed(pin["name"])
        assert have is not None and have in ours.specifier and have in theirs, (rev, pin, str(ours.specifier))


def test_exact_pins_are_only_where_a_reason_holds():
    """tree-sitter(-cpp): grammar ABI and parse trees; clang-format: tt-metal pins the same version."""
    exact = {name for name, r in our_requirements().items() if any(s.operator == "==" for s in r.specifier)}
    assert exact == {"tree-sitter", "tree-sitter-cpp", "clang-format"}
    pinned_by_tt_metal = {canonicalize_name(p["name"]): p["spec"] for _, p in ALL_PINS}
    assert pinned_by_tt_metal["clang-format"] == str(our_requirements()["clang-format"].specifier)
    assert "tree-sitter" not in pinned_by_tt_metal and "tree-sitter-cpp" not in pinned_by_tt_metal


def test_the_data_covers_every_recorded_revision():
    assert set(PINS["revisions"]) == {"45ecf0a728", "dbbc742d10", "7136cb56bb"}
    for pins in PINS["revisions"].values():
        assert {p["name"] for p in pins} >= {"gitpython", "clang-format", "pytest"}
        for p in pins:
            SpecifierSet(p["spec"])  # well-formed


def test_installed_versions_satisfy_our_ranges():
    for name, req in our_requirements().items():
        have = _installed(name)
        if have is not None and name not in ("setuptools", "wheel"):  # build-only: not in the runtime env
            assert have in req.specifier, f"{name} {have} installed, {req.specifier} required"

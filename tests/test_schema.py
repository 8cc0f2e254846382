"""The JSON Schemas in migrator/schema/ describe what `plan`/`check`/`verify --format json` really print."""

import copy
import json
from importlib import resources

import pytest

from conftest import REPO, run_cli

jsonschema = pytest.importorskip("jsonschema")

CASES = ["rev-7136", "migrated-27f3", "pre-estimate", "third-site", "rev-45ec"]
SCHEMA_DIR = REPO / "migrator" / "schema"


def load(name):
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def validator(name):
    schema = load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(name, doc):
    return sorted(e.message for e in validator(name).iter_errors(doc))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """{(case, command): (exit code, parsed JSON)} for every case, run once on a copy of the fixture."""
    from conftest import FIXTURES, copy_tree

    base = tmp_path_factory.mktemp("schema")
    out = {}
    for case in CASES:
        root = copy_tree(FIXTURES / case / "before", base / case, git=False)
        for command in ("plan", "check", "verify"):
            rc, stdout, stderr = run_cli(command, root, "--format", "json")
            assert rc in (0, 1), f"{command} {case}: exit {rc}: {stderr}"
            out[case, command] = rc, json.loads(stdout)
    return out


# ---- the schemas themselves -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plan", "verify"])
def test_schema_is_valid_draft_2020_12(name):
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


def _undescribed(node, where="#"):
    """Paths of property / $defs entries without a description (a `true` placeholder is fine)."""
    missing = []
    if isinstance(node, dict):
        for key in ("properties", "$defs"):
            for name, sub in node.get(key, {}).items():
                path = f"{where}/{key}/{name}"
                if isinstance(sub, dict):
                    described = "description" in sub or ("$ref" in sub and len(sub) == 1 and key == "properties")
                    if not described:
                        missing.append(path)
                missing += _undescribed(sub, path)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                missing += _undescribed(node[key], f"{where}/{key}")
        for i, sub in enumerate(node.get("prefixItems", [])):
            missing += _undescribed(sub, f"{where}/prefixItems/{i}")
        for i, sub in enumerate(node.get("allOf", [])):
            missing += _undescribed(sub, f"{where}/allOf/{i}")
    return missing


@pytest.mark.parametrize("name", ["plan", "verify"])
def test_every_field_is_described(name):
    schema = load(name)
    assert schema.get("description")
    assert _undescribed(schema) == []
    # a bare {"$ref": ...} property is described by the definition it points to
    for path in _refs_only(schema):
        target = schema["$defs"][path.rsplit("/", 1)[-1]]
        assert target.get("description"), path


def _refs_only(node):
    out = []
    if isinstance(node, dict):
        for sub in node.get("properties", {}).values():
            if isinstance(sub, dict) and set(sub) == {"$ref"}:
                out.append(sub["$ref"])
        for v in node.values():
            out += _refs_only(v)
    elif isinstance(node, list):
        for v in node:
            out += _refs_only(v)
    return out


def test_plan_schema_is_generated_from_the_models():
    """migrator/schema/plan.schema.json is what the typed models generate (`python -m migrator.document`)."""
    from migrator.recipes import get
    from migrator.report import plan_schema

    assert load("plan") == plan_schema(get("halo-precise"))


def test_every_recipe_plan_schema_is_valid_and_described():
    from migrator.recipes import all_recipes
    from migrator.report import plan_schema

    for recipe in all_recipes():
        schema = plan_schema(recipe)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert _undescribed(schema) == [], recipe.name


@pytest.mark.parametrize("name", ["plan", "verify"])
def test_schema_ships_as_package_data(name):
    ref = resources.files("migrator").joinpath("schema", f"{name}.schema.json")
    assert json.loads(ref.read_text(encoding="utf-8")) == load(name)


# ---- real output validates --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["plan", "check"])
def test_plan_and_check_json_validate(outputs, case, command):
    rc, doc = outputs[case, command]
    assert errors("plan", doc) == []
    if command == "check":
        assert rc == (1 if doc["pending"] else 0)


@pytest.mark.parametrize("case", CASES)
def test_verify_json_validates(outputs, case):
    rc, doc = outputs[case, "verify"]
    assert errors("verify", doc) == []
    assert rc == (0 if doc["ok"] else 1)


def test_cases_cover_every_state(outputs):
    states = {doc["state"] for (_, command), (_, doc) in outputs.items() if command == "plan"}
    assert {"pending", "migrated", "nothing-to-migrate"} <= states
    assert any(doc["sites"] for (_, c), (_, doc) in outputs.items() if c == "verify")
    assert any(not doc["sites"] for (_, c), (_, doc) in outputs.items() if c == "plan")


def test_verify_with_one_grid_validates(tree):
    root = tree("rev-7136", git=False)
    rc, out, err = run_cli("verify", root, "--format", "json", "--grids", "blackhole")
    assert rc == 0, err
    doc = json.loads(out)
    assert list(doc["grids"]) == ["blackhole"]
    assert errors("verify", doc) == []


def test_verify_mismatch_document_validates(tree):
    """A migrated tree with a wrong binding: exit 1, ok false, and the mismatch examples still fit the schema."""
    root = tree("migrated-27f3", git=False)
    cpp = root / "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
    text = cpp.read_text()
    assert "halo_config.stride_hw = {stride[0], stride[1]};" in text
    cpp.write_text(text.replace("halo_config.stride_hw = {stride[0], stride[1]};", "halo_config.stride_hw = {1, 1};"))
    rc, out, err = run_cli("verify", root, "--format", "json")
    assert rc == 1, err
    doc = json.loads(out)
    assert doc["ok"] is False and doc["mismatches"] > 0
    assert any(s["mismatch_examples"] for s in doc["sites"])
    assert errors("verify", doc) == []


# ---- broken documents are rejected ------------------------------------------------------------


def _plan_doc(outputs):
    return copy.deepcopy(outputs["rev-7136", "plan"][1])


def _verify_doc(outputs):
    return copy.deepcopy(outputs["rev-7136", "verify"][1])


def test_plan_schema_rejects_missing_sites(outputs):
    doc = _plan_doc(outputs)
    del doc["sites"]
    assert any("'sites' is a required property" in m for m in errors("plan", doc))


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(state="done"),
    lambda d: d.update(pending="yes"),
    lambda d: d.update(surprise=1),
    lambda d: d.update(tool="other-tool"),
    lambda d: d.update(estimate_variant="V9"),
    lambda d: d["sites"][0].update(line=0),
    lambda d: d["sites"][0]["bindings"].pop("stride_hw"),
    lambda d: d["sites"][0]["bindings"]["padding"].pop("provenance"),
    lambda d: d["sites"][0]["bindings"].update({"not a field": {"expr": "1", "provenance": ""}}),
    lambda d: d["threading"][0]["callers"][0].update(line="90"),
    lambda d: d["files"][0].update(insertions=-1),
], ids=["state", "pending-type", "extra-field", "tool", "variant", "line-0", "binding-missing",
        "binding-shape", "binding-name", "caller-line-type", "negative-insertions"])
def test_plan_schema_rejects_broken_documents(outputs, mutate):
    doc = _plan_doc(outputs)
    mutate(doc)
    assert errors("plan", doc)


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("ok"),
    lambda d: d.update(sites=None),
    lambda d: d.update(layouts=["DIAGONAL"]),
    lambda d: d.update(grids={"grayskull": [12, 9]}),
    lambda d: d.update(estimate_variant_used="V3 (by structure)"),
    lambda d: d["sites"][0].update(kind="sram"),
    lambda d: d["sites"][0]["ratio"].pop("median"),
    lambda d: d["sites"][0]["under_allocation_examples"][0].update(spec=[1, 2, 3]),
    lambda d: d["sites"][0]["under_allocation_examples"][0].update(extra=True),
    lambda d: d["sites"][0]["tile_rounding"].update(affected=-1),
], ids=["missing-ok", "sites-null", "layout", "grid", "variant-used", "kind", "ratio", "spec-length",
        "example-extra", "negative-count"])
def test_verify_schema_rejects_broken_documents(outputs, mutate):
    doc = _verify_doc(outputs)
    assert doc["sites"][0]["under_allocation_examples"], "fixture should show under-allocations"
    mutate(doc)
    assert errors("verify", doc)


def test_plan_document_is_not_a_verify_document(outputs):
    assert errors("verify", _plan_doc(outputs))
    assert errors("plan", _verify_doc(outputs))

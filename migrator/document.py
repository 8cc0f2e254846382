"""Typed JSON documents: the models the reports serialize are dataclasses, and their JSON Schema (Draft 2020-12)
is generated from the same classes, so the document and its schema cannot drift apart. A field says what it
means and its constraints through `doc(...)`; a nested dataclass becomes a `$defs` entry (its docstring is the
description); a shared scalar (`PATH`, `LINE`, ...) is a `Def`.

`python -m migrator.document` rewrites `migrator/schema/plan.schema.json` (the default recipe's plan document)
from the models; a test checks the committed file is what the models generate."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union


@dataclass(frozen=True)
class Def:
    """A named scalar definition shared by several fields (`#/$defs/<name>`)."""

    name: str
    schema: dict


PATH = Def("path", {"description": "File path relative to `root`, with forward slashes.", "type": "string",
                    "minLength": 1})
LINE = Def("line", {"description": "1-based line number in the file as it is now.", "type": "integer", "minimum": 1})
CPP_IDENTIFIER = Def("cpp_identifier", {"description": "A C++ identifier.", "type": "string",
                                        "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"})


def doc(description: str = "", *, default=dataclasses.MISSING, default_factory=dataclasses.MISSING, **schema) -> Any:
    """A documented field. `schema`: JSON Schema keywords for it (`minimum`, `minLength`, `pattern`, `const`,
    `enum`, ...), plus `json_name` (the key when it is not a Python name, e.g. "lambda"), `ref` (a Def), and for
    a dict of models `required_keys` ({key: description}) and `key_ref` (a Def the keys must match)."""
    kwargs = {}
    if default is not dataclasses.MISSING:
        kwargs["default"] = default
    if default_factory is not dataclasses.MISSING:
        kwargs["default_factory"] = default_factory
    return field(metadata={"doc": description, **schema}, **kwargs)


def json_name(f: dataclasses.Field) -> str:
    return f.metadata.get("json_name", f.name)


# ---- serializing ---------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A model as plain JSON data (keys in field order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {json_name(f): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


# ---- the schema ------------------------------------------------------------------------------------------


_META = {"doc", "json_name", "ref", "required_keys", "key_ref"}


class SchemaBuilder:
    def __init__(self) -> None:
        self.defs: dict[str, dict] = {}

    def ref(self, d: Def) -> dict:
        self.defs.setdefault(d.name, d.schema)
        return {"$ref": f"#/$defs/{d.name}"}

    def model(self, cls) -> dict:
        """`cls` as a `$defs` entry; returns the `$ref` to it."""
        name = getattr(cls, "__schema_name__", cls.__name__.lower())
        if name not in self.defs:
            self.defs[name] = {}  # reserve (recursion)
            self.defs[name] = {"description": " ".join((cls.__doc__ or "").split()), **self.object(cls)}
        return {"$ref": f"#/$defs/{name}"}

    def object(self, cls, extra: dict | None = None, after: str | None = None) -> dict:
        hints = typing.get_type_hints(cls)
        props: dict[str, dict] = {}
        for f in dataclasses.fields(cls):
            props[json_name(f)] = self.field(f, hints[f.name])
            if extra and f.name == after:
                props.update(extra)
        return {"type": "object", "additionalProperties": False, "required": list(props), "properties": props}

    def field(self, f: dataclasses.Field, tp) -> dict:
        meta = f.metadata
        if "ref" in meta:
            out = self.ref(meta["ref"])
            return {"description": meta["doc"], **out} if meta.get("doc") else out
        out = self.type(tp, meta)
        described = {"description": meta["doc"]} if meta.get("doc") else {}
        if set(out) == {"$ref"} and not described:
            return out
        return {**described, **out, **{k: v for k, v in meta.items() if k not in _META}}

    def type(self, tp, meta=None) -> dict:
        meta = meta or {}
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if "const" in meta:
            return {}
        if origin in (Union, types.UnionType) and type(None) in args:
            inner = self.type(next(a for a in args if a is not type(None)))
            return {**inner, "type": [inner["type"], "null"]}
        if origin is list:
            return {"type": "array", "items": self.type(args[0])}
        if origin is dict:
            out: dict = {"type": "object"}
            if "key_ref" in meta:
                out["propertyNames"] = self.ref(meta["key_ref"])
            if "required_keys" in meta:
                item = self.type(args[1])
                out["required"] = list(meta["required_keys"])
                out["properties"] = {k: {**item, "description": d} for k, d in meta["required_keys"].items()}
            out["additionalProperties"] = self.type(args[1])
            return out
        if dataclasses.is_dataclass(tp):
            return self.model(tp)
        if isinstance(tp, Def):
            return self.ref(tp)
        return {bool: {"type": "boolean"}, int: {"type": "integer"}, str: {"type": "string"}}[tp]


def document_schema(cls, schema_id: str, title: str, description: str, extra_cls=None, after: str | None = None,
                    overrides: dict | None = None) -> dict:
    """The schema of the document `cls` (a dataclass), with `extra_cls`'s fields inserted after the field
    `after` (a recipe's own fields of a generic document); `overrides` replaces keywords of top-level fields."""
    b = SchemaBuilder()
    extra = b.object(extra_cls)["properties"] if extra_cls is not None else None
    body = b.object(cls, extra, after)
    for name, kw in (overrides or {}).items():
        body["properties"][name].update(kw)
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, "title": title,
           "description": description, **body}
    if b.defs:
        out["$defs"] = b.defs
    return out


def plan_schema(recipe) -> dict:
    from migrator.report import plan_schema as build

    return build(recipe)


SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


def write_schemas() -> list[Path]:
    """Regenerate the committed schema files from the models."""
    from migrator.cli import DEFAULT_RECIPE
    from migrator.recipes import get

    out = SCHEMA_DIR / "plan.schema.json"
    out.write_text(json.dumps(plan_schema(get(DEFAULT_RECIPE)), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [out]


if __name__ == "__main__":
    for p in write_schemas():
        print(f"wrote {p}")

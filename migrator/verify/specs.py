"""Conv specs for verify: the checkout's own sweep files, a bundled default set, and ``--specs FILE``.

Sweep files are read with libcst and never imported or executed.  From every module-level
``parameters = {suite: {"input_specs": [...]}}`` and ``failing_parameters* = [...]`` the 15 first
columns of each entry are taken ([batch_size, output_channels, input_channels, input_height,
input_width, kernel_height, kernel_width, stride_h, stride_w, pad_h, pad_w, groups, dilation_h,
dilation_w, bias]); they must be plain int/bool literals.  Trailing columns (e.g. the forge
suite's ``[int(ttnn.TILE_LAYOUT), "dram", ...]`` triples) are ignored.  Entries of any other shape
(conv1d suites with 10 columns, computed entries) are skipped with one warning per list.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from migrator.errors import MigrateError
from migrator.verify import kept
from migrator.verify.placement import SPEC_COLUMNS, ConvSpec

SWEEP_DIR = "tests/sweep_framework/sweeps/conv2d"


class SpecsError(MigrateError):
    kind = "bad specs"


@dataclass
class SpecSet:
    specs: List[ConvSpec] = field(default_factory=list)
    sources: Dict[str, int] = field(default_factory=dict)  # source label -> specs taken from it
    warnings: List[str] = field(default_factory=list)

    def add(self, label: str, specs: Sequence[ConvSpec]) -> None:
        seen = set(self.specs)
        new = 0
        for s in specs:
            if s not in seen:
                seen.add(s)
                self.specs.append(s)
                new += 1
        self.sources[label] = self.sources.get(label, 0) + len(specs)


def read_sweep_source(text: str, label: str) -> Tuple[List[ConvSpec], List[str]]:
    """Specs and warnings from one sweep file's source text (never executed).  libcst is imported
    only here: a run whose sweep files are all in the blob-id cache never pays for it."""
    from migrator.verify.sweep_source import read_sweep_source as read

    return read(text, label)


def sweep_files(root: Path) -> List[Path]:
    base = Path(root) / SWEEP_DIR
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*.py") if p.is_file() and not p.is_symlink())


# ---- cache of parsed sweep files, keyed by git blob id ------------------------------------------------
#
# A full libcst parse of tt-metal's two conv2d sweep files takes seconds; their content rarely
# changes.  The specs read from one file are stored under the user's cache directory, keyed by the
# file's git blob id (the same id `git hash-object` prints) and the reader's version, so a second
# run, on any checkout with the same file, reads a small JSON file instead (`sweep-specs/` of the
# tool's cache directory, see :mod:`migrator.verify.kept`); a malformed entry is ignored.

READER_VERSION = 1
LABEL = "\x00label\x00"
CACHE_KIND = "sweep-specs"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _cache_name(blob: str) -> str:
    return f"v{READER_VERSION}-{blob}.json"


def _cache_read(blob: str, label: str) -> Optional[Tuple[List[ConvSpec], List[str]]]:
    doc = kept.read(CACHE_KIND, _cache_name(blob))
    if doc is None:
        return None
    try:
        specs = [ConvSpec.from_row(r) for r in doc["specs"]]
        warnings = [str(w).replace(LABEL, label) for w in doc["warnings"]]
        return specs, warnings
    except (ValueError, KeyError, TypeError):
        return None


def _cache_write(blob: str, label: str, specs: Sequence[ConvSpec], warnings: Sequence[str]) -> None:
    kept.write(CACHE_KIND, _cache_name(blob), {
        "reader_version": READER_VERSION, "specs": [s.as_list() for s in specs],
        "warnings": [w.replace(label, LABEL) for w in warnings]})


def read_sweep_bytes(data: bytes, label: str) -> Tuple[List[ConvSpec], List[str]]:
    """``read_sweep_source`` through the blob-id cache."""
    blob = blob_id(data)
    hit = _cache_read(blob, label)
    if hit is not None:
        return hit
    specs, warnings = read_sweep_source(data.decode("utf-8"), label)
    _cache_write(blob, label, specs, warnings)
    return specs, warnings


def read_checkout_specs(root: Path) -> Tuple[Dict[str, List[ConvSpec]], List[str]]:
    found: Dict[str, List[ConvSpec]] = {}
    warnings: List[str] = []
    for p in sweep_files(root):
        rel = p.relative_to(root).as_posix()
        try:
            data = p.read_bytes()
            data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{rel}: unreadable ({exc}); skipped")
            continue
        specs, w = read_sweep_bytes(data, rel)
        warnings += w
        if specs:
            found[rel] = specs
    return found, warnings


# ---- JSON spec files ----------------------------------------------------------------------------


def parse_specs_json(doc, label: str) -> List[ConvSpec]:
    if not isinstance(doc, dict) or not isinstance(doc.get("specs"), list):
        raise SpecsError(f"{label}: expected a JSON object with a \"specs\" list")
    cols = doc.get("columns") or list(SPEC_COLUMNS)
    if not isinstance(cols, list):
        raise SpecsError(f"{label}: \"columns\" must be a list")
    missing = [c for c in SPEC_COLUMNS if c not in cols]
    if missing:
        raise SpecsError(f"{label}: columns missing: {', '.join(missing)}")
    idx = [cols.index(c) for c in SPEC_COLUMNS]
    out = []
    for i, row in enumerate(doc["specs"]):
        try:
            vals = [row[j] for j in idx]
            if not all(isinstance(v, (int, bool)) for v in vals):
                raise TypeError
            out.append(ConvSpec.from_row(vals))
        except (TypeError, IndexError, KeyError, ValueError):
            raise SpecsError(f"{label}: spec #{i} is not a row of {len(cols)} int/bool values") from None
    return out


def load_specs_file(path: str) -> List[ConvSpec]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecsError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecsError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_specs_json(doc, path)


def default_specs() -> List[ConvSpec]:
    text = resources.files("migrator.specs").joinpath("default_specs.json").read_text(encoding="utf-8")
    return parse_specs_json(json.loads(text), "migrator/specs/default_specs.json")


def collect_specs(root: Optional[Path], extra_file: Optional[str] = None, *, defaults: bool = True,
                  checkout_specs: bool = True) -> SpecSet:
    out = SpecSet()
    if checkout_specs and root is not None:
        found, warnings = read_checkout_specs(Path(root))
        out.warnings += warnings
        for rel, specs in found.items():
            out.add(rel, specs)
    if defaults:
        out.add("default specs (bundled)", default_specs())
    if extra_file:
        out.add(extra_file, load_specs_file(extra_file))
    return out

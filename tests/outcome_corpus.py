"""A corpus that grades outcomes (issue 9, item 7).

Every case is a variant of a fixture tree (`fixtures/<rev>/before`) that carries one of the local changes
engineers keep on branches, plus an *oracle* written by hand, independent of the tool's binding logic:

- `expect`: "migrate" (the code can be migrated, so a refusal is a known gap) or "refuse" (the issue allows a
  refusal here: a per-iteration loop, a macro, a pool halo, a file that does not parse, ...). A "refuse" case
  that has site oracles may also be migrated, and the migration is then graded like any other; a case with
  `refuse_only` must be refused.
- `sites`: for each file, the rewritten calls of `calculate_precise_halo_output_elems` in text order, each with
  the acceptable spellings of its key `SlidingWindowConfig` fields and of its shard-shape argument.
- `checks`: extra structural facts (no second stride parameter threaded next to one that carries the value, ...).

`grade(case, repo)` runs `python -m migrator apply ROOT` (PYTHONPATH=repo) on a git-initialized copy and returns
`Grade("correct" | "safe refusal" | "safe refusal (gap)" | "wrong", reason)`:

- correct: exit 0, every `.cpp` of the migrated tree passes the fixtures' stub-header compile
  (`g++ -std=c++20 -fsyntax-only -Wall -Werror`, once per preprocessor variant the case declares), every oracle
  holds on the config blocks parsed back from the migrated text (`NAME.field = expr;` or designated
  initializers; whitespace normalized; a local the tool introduced is inlined), and no mention of the estimate
  remains outside comments and string literals;
- safe refusal: exit 2, exactly one stderr line, the tree byte-identical (tracked and untracked files), and the
  case allows a refusal; the same on a case that should migrate is "safe refusal (gap)";
- wrong: everything else.

Every generated *before* tree compiles with the stub headers (`before_compile_errors`), except files a case
lists in `no_compile` (a truncated file is the point of its case).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import AUTO, CH, CU, EST, _calls, _match_close, load_case, write_tree  # noqa: E402

_TEMPLATES = {"array", "pair", "optional", "variant", "vector", "tuple", "map", "unordered_map", "function", "span",
              "max", "min", "make_pair", "make_tuple", "get", "numeric_limits", "common_type_t", "basic_string"}


def _split_args(text: str, open_i: int, close_i: int) -> list[tuple[int, int]]:
    """Top-level comma-separated spans between two brackets; `<...>` counts as a bracket after a known
    template name or a `*_cast`, so `std::array<uint32_t, 2>` stays one argument."""
    out, depth, angle, start, i = [], 0, [], open_i + 1, open_i + 1
    while i < close_i:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = close_i if i < 0 else i
            continue
        if text.startswith("/*", i):
            i = text.find("*/", i) + 2
            continue
        if c in "\"'":
            q, j = c, i + 1
            while j < close_i and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "<":
            m = re.search(r"(\w+)\s*$", text[start:i])
            if m and (m.group(1) in _TEMPLATES or m.group(1).endswith("_cast")):
                angle.append(depth)
        elif c == ">" and angle and angle[-1] == depth and text[i - 1] != "-":
            angle.pop()
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0 and not angle:
            out.append((start, i))
            start = i + 1
        i += 1
    out.append((start, close_i))
    return out

REPO = Path(__file__).resolve().parents[1]
PRECISE = "calculate_precise_halo_output_elems"
CPP_EXT = (".cpp", ".hpp", ".h", ".cc", ".cxx", ".inl")
DEFAULT = "<default>"  # a field left unassigned keeps the struct's default
CONV2D = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp"
PREP = "ttnn/cpp/ttnn/operations/conv/conv2d/prepare_conv2d_weights.cpp"
TRANSPOSE = "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp"
HEADER_LINE = "// halo-migrate test fixture, written from scratch (not tt-metal code).\n"


# ---- normalization and the oracle vocabulary -----------------------------------------------------

def norm(expr: str) -> str:
    """Whitespace-insensitive spelling: runs of blanks collapse, and none stay next to punctuation."""
    s = re.sub(r"\s+", " ", expr.strip())
    s = re.sub(r"\s*([^\w\s])\s*", r"\1", s)
    return _strip_redundant_parens(s)


def _strip_redundant_parens(s: str) -> str:
    """`(name)` → `name` (not a call), `{(a + b), c}` → `{a+b,c}`, and an expression wrapped whole."""
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"(?<![\w)\]>])\(([\w.]+(?:(?:::|->)[\w.]+)*)\)", r"\1", s)
        while s.startswith("(") and _closing(s, 0) == len(s) - 1:
            s = s[1:-1]
        s = _strip_element_parens(s)
    return s


def _closing(s: str, i: int) -> int:
    depth = 0
    for j in range(i, len(s)):
        if s[j] in "([{":
            depth += 1
        elif s[j] in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _strip_element_parens(s: str) -> str:
    """Inside a top-level brace list, drop parens that wrap one whole element."""
    if not (s.startswith("{") and _closing(s, 0) == len(s) - 1):
        return s
    parts, depth, start = [], 0, 1
    for j in range(1, len(s) - 1):
        c = s[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(s[start:j])
            start = j + 1
    parts.append(s[start:len(s) - 1])
    out = []
    for p in parts:
        while p.startswith("(") and _closing(p, 0) == len(p) - 1:
            p = p[1:-1]
        out.append(p)
    return "{" + ",".join(out) + "}"


def one_of(*spellings: str) -> frozenset[str]:
    return frozenset(s if s == DEFAULT else norm(s) for s in spellings)


def pair_of(base: str) -> frozenset[str]:
    """`{b[0], b[1]}` with `b` parenthesized when it is not a postfix expression."""
    simple = re.fullmatch(r"[\w.:]+(?:\(\))?", base) is not None
    b = base if simple else f"({base})"
    return one_of(f"{{{b}[0], {b}[1]}}", f"{{{b}.at(0), {b}.at(1)}}")


NOT_A_POOL = {f: one_of(DEFAULT, "false") for f in ("ceil_mode", "is_avg_pool", "is_transpose", "is_bilinear")}
PADDING = one_of("padding", "{padding[0], padding[1], padding[2], padding[3]}")


def site(shard, **fields) -> dict:
    out = {"shard": one_of(*shard) if isinstance(shard, (list, tuple)) else one_of(shard), "fields": dict(NOT_A_POOL)}
    for k, v in fields.items():
        out["fields"][k] = v if isinstance(v, frozenset) or callable(v) else (
            one_of(*v) if isinstance(v, (list, tuple)) else one_of(v))
    return out


def with_(base: dict, shard=None, **fields) -> dict:
    out = {"shard": base["shard"] if shard is None else (one_of(*shard) if isinstance(shard, (list, tuple))
                                                          else one_of(shard)),
           "fields": dict(base["fields"])}
    for k, v in fields.items():
        out["fields"][k] = v if isinstance(v, frozenset) or callable(v) else (
            one_of(*v) if isinstance(v, (list, tuple)) else one_of(v))
    return out


SITE1 = site("halo_input_shard_shape",
             batch_size="batch_size", input_hw="{input_height, input_width}",
             window_hw=pair_of("kernel_size"), stride_hw=pair_of("stride"), padding=PADDING,
             dilation_hw=pair_of("dilation"),
             num_cores_nhw=["get_num_cores_nhw_from_parallel_config(input_parallel_config)",
                            "opt_conv_op_parallel_config.num_cores_nhw"],
             snap_to_tile="true")
SITE2 = site("shard_shape",
             batch_size="params.batch_size", input_hw="{slice_input_hw[0], slice_input_hw[1]}",
             window_hw=pair_of("params.kernel_size"), stride_hw=pair_of("params.stride"), padding="slice_padding",
             dilation_hw=pair_of("params.dilation"),
             num_cores_nhw="get_num_cores_nhw_from_parallel_config(parallel_config)", snap_to_tile="true")
SITE1_A = with_(SITE1, shard="halo_input_memory_config.shard_spec().value().shape")  # rev-45ec / rev-5702
SITE2_45EC = with_(SITE2, input_hw="{input_slice_height, input_slice_width}", padding="params.padding_n4")
BASE_SITES = {"rev-7136": [SITE1, SITE2], "rev-5702": [SITE1_A, SITE2], "rev-45ec": [SITE1_A, SITE2_45EC]}
# A helper the corpus writes: every value is a parameter or a local of the helper itself.
HELPER = site("shard_shape",
              batch_size="batch_size", input_hw="{input_h, input_w}", window_hw=pair_of("kernel_size"),
              stride_hw=pair_of("stride"), padding=PADDING, dilation_hw=pair_of("dilation"),
              num_cores_nhw=["get_num_cores_nhw_from_parallel_config(parallel_config)",
                             "conv::get_num_cores_nhw_from_parallel_config(parallel_config)"],
              snap_to_tile="true")


@dataclass
class Case:
    id: str
    cls: str                    # failure class (issue list, or "extra: ...")
    files: dict[str, bytes] = field(repr=False)
    expect: str                 # "migrate" | "refuse"
    sites: dict[str, list[dict]] = field(default_factory=dict, repr=False)
    note: str = ""
    refuse_only: bool = False   # any migration is wrong (no correct migration exists at that site)
    no_compile: frozenset[str] = frozenset()
    defines: tuple[tuple[str, ...], ...] = ((),)  # one compile per tuple of -D flags
    checks: list[Callable[["Case", dict, dict], str | None]] = field(default_factory=list, repr=False)
    thread_args: frozenset[str] = frozenset({"stride", "params.stride"})
    base: str = "rev-7136"
    refuse_hint: str = ""       # a refusal line should match this (reported as "imprecise" when it does not)

    def write(self, root: Path) -> Path:
        return write_tree(root, self.files)


# ---- text editing ----------------------------------------------------------------------------

class Edit:
    """Exact text replacements on a copy of a fixture tree; each must match exactly `count` times."""

    def __init__(self, base: str):
        self.base = base
        self.files = dict(_base(base))

    def text(self, rel: str) -> str:
        return self.files[rel].decode()

    def sub(self, rel: str, old: str, new: str, count: int = 1) -> "Edit":
        text = self.text(rel)
        found = text.count(old)
        if found != count:
            raise AssertionError(f"{self.base}:{rel}: {old[:60]!r} found {found} times, want {count}")
        self.files[rel] = text.replace(old, new).encode()
        return self

    def add(self, rel: str, text: str) -> "Edit":
        assert rel not in self.files, rel
        self.files[rel] = text.encode()
        return self

    def auto_shard_param(self, decl_param: str, arg_for: Callable[[str, str], str]) -> "Edit":
        """A parameter the branch already threads into determine_conv_config_for_auto_shard, right after
        `kernel_size` (declaration and definition), and an argument in every caller (`arg_for(rel, text)`)."""
        self.sub(CH, "    const std::array<uint32_t, 2>& kernel_size,\n",
                 f"    const std::array<uint32_t, 2>& kernel_size,\n    {decl_param},\n")
        self.sub(CU, "    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& dilation,\n",
                 f"    const std::array<uint32_t, 2>& kernel_size,\n    {decl_param},\n"
                 "    const std::array<uint32_t, 2>& dilation,\n")
        for rel in sorted(self.files):
            if not rel.endswith(".cpp") or AUTO not in self.text(rel):
                continue
            text = self.text(rel)
            for s, o, c in reversed(_calls(text, AUTO)):
                spans = _split_args(text, o, c)
                a, b = spans[15]  # kernel_size
                arg = text[a:b]
                ind = re.match(r"\s*", arg).group(0)
                text = text[:b] + "," + ind + arg_for(rel, arg.strip()) + text[b:]
            self.files[rel] = text.encode()
        return self


_BASES: dict[str, dict[str, bytes]] = {}


def _base(case: str) -> dict[str, bytes]:
    if case not in _BASES:
        _BASES[case] = load_case(case)
    return _BASES[case]


def _stride_arg(rel: str, kernel_arg: str) -> str:
    return "params.stride" if kernel_arg.startswith("params.") else "stride"


SITE1_CALL = ("        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
              "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n")
SITE1_ARGS = "halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding"
SITE1_CALL_A = ("        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
                "            halo_input_memory_config.shard_spec().value().shape,\n")
SITE2_PAD = "                                             params.padding_n4) *\n"


def helper_file(fn: str, params: list[str], body: str, includes: str = "", namespace="ttnn::operations::conv") -> str:
    ps = ",\n".join("    " + p for p in params)
    return (f"{HEADER_LINE}\n#include <array>\n#include <cstdint>\n#include <utility>\n\n"
            f'#include "ttnn/operations/conv/conv2d/conv2d_utils.hpp"\n{includes}\n'
            f"namespace {namespace} {{\n\n// Halo L1 a branch-local helper budgets for.\nuint32_t {fn}(\n{ps}) {{\n"
            f"{body}}}\n\n}}  // namespace {namespace}\n")


HELPER_PARAMS = ["const std::array<uint32_t, 2>& kernel_size", "STRIDE", "const std::array<uint32_t, 4>& padding",
                 "const std::array<uint32_t, 2>& dilation", "uint32_t batch_size", "uint32_t input_h",
                 "uint32_t input_w", "const sliding_window::ParallelConfig& parallel_config",
                 "const MemoryConfig& input_memory_config"]
HELPER_DIR = "ttnn/cpp/ttnn/operations/conv/conv2d/"


def helper_case(stride_param: str, body: str, fn="conv_halo_budget_bytes", extra_params=()) -> Edit:
    e = Edit("rev-7136")
    params = [stride_param if p == "STRIDE" else p for p in HELPER_PARAMS] + list(extra_params)
    e.add(HELPER_DIR + "conv2d_halo_budget.cpp", helper_file(fn, params, body))
    return e


def helper_body(call_args="shard_shape, batch_size, input_h, input_w, kernel_size, dilation, padding",
                pre="", log_stride="stride") -> str:
    return (f"    auto shard_shape = input_memory_config.shard_spec().value().shape;\n{pre}"
            f"    const uint32_t halo_elems = estimate_halo_output_elems({call_args});\n"
            f'    log_debug(tt::LogOp, "halo {{}} elements, stride {{}}", halo_elems, {log_stride});\n'
            "    return halo_elems * 2;\n")


HELPER_REL = HELPER_DIR + "conv2d_halo_budget.cpp"


# ---- structural checks a case can add --------------------------------------------------------

def auto_shard_params(text: str) -> list[str]:
    m = re.search(r"^Conv2dConfig\s+" + AUTO + r"\s*\(", text, re.M)
    if not m:
        return []
    o = m.end() - 1
    c = _match_close(text, o)
    return [norm(text[a:b]) for a, b in _split_args(text, o, c)]


def no_param_added(case: Case, before: dict, after: dict) -> str | None:
    """The stride already reaches determine_conv_config_for_auto_shard: nothing may be threaded next to it."""
    b, a = auto_shard_params(before[CH].decode()), auto_shard_params(after[CH].decode())
    if a != b:
        extra = [p for p in a if p not in b]
        return f"a parameter was threaded next to the one that carries the stride: {extra}"
    return None


# conv_transpose2d sizes the stride-1 conv that runs over its zero-inserted input: upstream passes the transposed
# conv's own `stride` there (an approximation, facts §2), the exact value is {1, 1}; both are accepted.
TRANSPOSE_STRIDES = frozenset({"{1, 1}", "std::array<uint32_t, 2>{1, 1}"})


def _threading(case: Case, before: dict, after: dict) -> str | None:
    """Generic: at most one parameter added to the auto-shard function, and every caller passes the
    caller's own conv stride there (`case.thread_args`)."""
    if CH not in before or CH not in after:
        return None
    b, a = auto_shard_params(before[CH].decode()), auto_shard_params(after[CH].decode())
    if len(a) == len(b):
        return None
    if len(a) != len(b) + 1:
        return f"{len(a) - len(b)} parameters threaded into {AUTO}"
    idx = next(i for i in range(len(a)) if i >= len(b) or a[i] != b[i])
    for rel, data in sorted(after.items()):
        if not rel.endswith(".cpp") or AUTO.encode() not in data:
            continue
        text = data.decode("utf-8", "surrogateescape")
        for s, o, c in _calls(text, AUTO):
            args = [norm(text[x:y]) for x, y in _split_args(text, o, c)]
            if len(args) <= idx:  # (fewer arguments than parameters is fine where the rest have defaults)
                return f"{rel}: a call of {AUTO} passes {len(args)} arguments, none for the new parameter"
            allowed = case.thread_args | (TRANSPOSE_STRIDES if rel == TRANSPOSE else frozenset())
            if args[idx] not in {norm(t) for t in allowed}:
                return f"{rel}:{text.count(chr(10), 0, s) + 1}: threaded argument is {args[idx]!r}"
    return None


# ---- the generators: one per failure class, 1–4 variants each --------------------------------

def gen_pair_stride():
    """A `stride` of type std::pair<uint32_t, uint32_t> / uint32_pair_t: `.first/.second`, not `[0]/[1]`."""
    pair_ok = one_of("{stride.first, stride.second}", "stride")
    e = Edit("rev-7136").auto_shard_param("const std::pair<uint32_t, uint32_t>& stride",
                                          lambda rel, k: "{params.stride[0], params.stride[1]}" if k.startswith(
                                              "params.") else "{stride[0], stride[1]}")
    yield Case("pair-stride-std-pair-param", "pair-typed stride", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=pair_ok), SITE2]}, checks=[no_param_added],
               note="auto-shard already takes `const std::pair<uint32_t, uint32_t>& stride`")
    e = Edit("rev-7136").auto_shard_param("sliding_window::uint32_pair_t stride",
                                          lambda rel, k: "{params.stride[0], params.stride[1]}" if k.startswith(
                                              "params.") else "{stride[0], stride[1]}")
    yield Case("pair-stride-uint32_pair_t-param", "pair-typed stride", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=pair_ok), SITE2]}, checks=[no_param_added],
               note="auto-shard already takes `sliding_window::uint32_pair_t stride` by value")
    # ConvDRAMParamters::stride as a pair: site 2 and the slice loop read .first/.second
    e = Edit("rev-7136")
    e.sub(CH, "    std::array<uint32_t, 2> stride;\n", "    std::pair<uint32_t, uint32_t> stride;\n")
    e.sub(CU, "params.stride[0]", "params.stride.first", count=2)
    e.sub(CU, "params.stride[1]", "params.stride.second", count=3)
    yield Case("pair-stride-dram-params-member", "pair-typed stride", e.files, "migrate",
               {CU: [SITE1, with_(SITE2, stride_hw=one_of("{params.stride.first, params.stride.second}",
                                                          "params.stride"))]},
               thread_args=frozenset({"stride", "{params.stride.first, params.stride.second}",
                                      "{params.stride.first,params.stride.second}"}),
               note="ConvDRAMParamters::stride is a std::pair; site 2 and the auto-shard caller in the lambda see a pair")
    e = helper_case("const sliding_window::uint32_pair_t& stride", helper_body(log_stride="stride.first"))
    yield Case("pair-stride-helper-uint32_pair_t", "pair-typed stride", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, stride_hw=pair_ok)]},
               note="a branch helper whose stride parameter is a uint32_pair_t")


def gen_expression_args():
    """Arguments that are expressions: ternary, call, braced std::array temporary, arithmetic."""
    e = Edit("rev-7136").sub(CU, SITE1_CALL, SITE1_CALL.replace(
        "kernel_size, dilation, padding);",
        "kernel_size,\n            is_mm_conv ? std::array<uint32_t, 2>{1, 1} : dilation, padding);"))
    yield Case("expr-ternary-dilation", "expression argument", e.files, "migrate",
               {CU: [with_(SITE1, dilation_hw=pair_of("is_mm_conv ? std::array<uint32_t, 2>{1, 1} : dilation")),
                     SITE2]},
               note="site 1 passes `is_mm_conv ? std::array<uint32_t, 2>{1, 1} : dilation` (precedence trap)")
    e = Edit("rev-7136")
    e.sub(CU, "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {",
          "static std::array<uint32_t, 4> halo_padding(const std::array<uint32_t, 4>& padding, bool is_mm_conv) {\n"
          "    return is_mm_conv ? std::array<uint32_t, 4>{0, 0, 0, 0} : padding;\n}\n\n"
          "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {")
    e.sub(CU, SITE1_CALL, SITE1_CALL.replace("dilation, padding);", "dilation,\n"
                                             "            halo_padding(padding, is_mm_conv));"))
    yield Case("expr-call-padding", "expression argument", e.files, "migrate",
               {CU: [with_(SITE1, padding=one_of(
                   "halo_padding(padding, is_mm_conv)",
                   *[("{" + ", ".join(f"{p}[{i}]" for i in range(4)) + "}") for p in
                     ("halo_padding(padding, is_mm_conv)", "(halo_padding(padding, is_mm_conv))")])), SITE2]},
               note="padding argument is a call of a file-local function")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, SITE1_CALL.replace(
        "kernel_size, dilation", "std::array<uint32_t, 2>{kernel_size[0], kernel_size[1]},\n            dilation"))
    yield Case("expr-array-temporary-kernel", "expression argument", e.files, "migrate",
               {CU: [with_(SITE1, window_hw=pair_of("kernel_size") | pair_of(
                   "std::array<uint32_t, 2>{kernel_size[0], kernel_size[1]}") | one_of(
                   "{std::array<uint32_t, 2>{kernel_size[0], kernel_size[1]}[0], "
                   "std::array<uint32_t, 2>{kernel_size[0], kernel_size[1]}[1]}")), SITE2]},
               note="kernel argument is a braced std::array<uint32_t, 2>{...} temporary (type name is not a variable)")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, SITE1_CALL.replace(
        "batch_size, input_height, input_width,",
        "conv_is_1d_deptwise ? 1 : batch_size,\n            input_height,\n"
        "            conv_is_1d_deptwise ? input_width * batch_size : input_width,"))
    yield Case("expr-ternary-scalars", "expression argument", e.files, "migrate",
               {CU: [with_(SITE1, batch_size="conv_is_1d_deptwise ? 1 : batch_size",
                           input_hw="{input_height, conv_is_1d_deptwise ? input_width * batch_size : input_width}"),
                     SITE2]},
               note="scalar arguments are conditional expressions")


def gen_case_label():
    """The call directly under a `case` label (jump to case label crosses initialization)."""
    switch = (
        "        uint32_t approx_input_size_per_core = 0;\n"
        "        switch (shard_layout) {\n"
        "            case TensorMemoryLayout::HEIGHT_SHARDED:\n"
        "                approx_input_size_per_core = estimate_halo_output_elems(\n"
        f"                    {SITE1_ARGS});\n"
        "                break;\n"
        "            default:\n"
        "                // Width and block shards: the halo is never bigger than twice the shard.\n"
        "                approx_input_size_per_core = 2 * halo_input_shard_shape[0] * halo_input_shard_shape[1];\n"
        "                break;\n"
        "        }\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, switch)
    yield Case("case-label-direct", "call under a case label", e.files, "migrate", {CU: [SITE1, SITE2]},
               note="`case HEIGHT_SHARDED: x = estimate(...); break; default: ...`")
    two = switch.replace(
        "            default:\n                // Width and block shards: the halo is never bigger than twice the shard.\n"
        "                approx_input_size_per_core = 2 * halo_input_shard_shape[0] * halo_input_shard_shape[1];\n",
        "            case TensorMemoryLayout::BLOCK_SHARDED:\n"
        "                approx_input_size_per_core = estimate_halo_output_elems(\n"
        f"                    {SITE1_ARGS}) +\n"
        "                                             halo_input_shard_shape[1];\n"
        "                break;\n"
        "            default:\n                approx_input_size_per_core = 0;\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, two)
    yield Case("case-label-two-labels", "call under a case label", e.files, "migrate",
               {CU: [SITE1, SITE1, SITE2]}, note="two case labels, each with a call directly under it")
    e = Edit("rev-45ec")
    e.sub(CU, SITE1_CALL_A + "            batch_size,\n            input_height,\n            input_width,\n"
              "            kernel_size,\n            dilation,\n            padding);\n",
          "        uint32_t approx_input_size_per_core = 0;\n"
          "        switch (shard_layout) {\n"
          "            case TensorMemoryLayout::WIDTH_SHARDED: approx_input_size_per_core = 0; break;\n"
          "            default:\n"
          "                approx_input_size_per_core = estimate_halo_output_elems(\n"
          "                    halo_input_memory_config.shard_spec().value().shape,\n"
          "                    batch_size, input_height, input_width, kernel_size, dilation, padding);\n"
          "        }\n")
    yield Case("case-label-default-45ec", "call under a case label", e.files, "migrate",
               {CU: [SITE1_A, SITE2_45EC]}, base="rev-45ec",
               note="rev-45ec shape: the call directly under `default:` after another label")


def gen_loops():
    """A call in a loop condition, or in a loop whose variables change per iteration."""
    cond = (
        "        uint32_t approx_input_size_per_core = 0;\n"
        "        uint32_t halo_rows = input_height;\n"
        "        // Shrink the rows the halo covers until its estimate fits next to the CBs.\n"
        "        while (halo_rows > 1 && estimate_halo_output_elems(\n"
        "                                    halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size,\n"
        "                                    dilation, padding) * input_datum_size > l1_usage.CB_allocation_size) {\n"
        "            halo_rows /= 2;\n"
        "        }\n"
        "        approx_input_size_per_core = halo_rows * input_width * halo_input_shard_shape[1];\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, cond)
    yield Case("loop-condition-while", "call in a loop condition", e.files, "refuse",
               {CU: [with_(SITE1, input_hw="{halo_rows, input_width}"), SITE2]},
               note="the estimate is in a while condition whose `halo_rows` halves each iteration")
    per_iter = (
        "        uint32_t approx_input_size_per_core = 0;\n"
        "        for (uint32_t extra_rows = 0; extra_rows < kernel_size[0]; extra_rows++) {\n"
        "            // The halo of a shard that also covers `extra_rows` rows of the next image.\n"
        "            approx_input_size_per_core = std::max(\n"
        "                approx_input_size_per_core,\n"
        "                estimate_halo_output_elems(\n"
        "                    halo_input_shard_shape, batch_size, input_height + extra_rows, input_width, kernel_size,\n"
        "                    dilation, padding));\n"
        "        }\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, per_iter)
    yield Case("loop-for-per-iteration", "loop whose variables change per iteration", e.files, "refuse",
               {CU: [with_(SITE1, input_hw="{input_height + extra_rows, input_width}"), SITE2]},
               note="for loop: the loop variable is in an argument")
    hoist_trap = (
        "        uint32_t approx_input_size_per_core = 0;\n"
        "        uint32_t halo_width = input_width;\n"
        "        uint32_t tries = 0;\n"
        "        do {\n"
        "            approx_input_size_per_core = estimate_halo_output_elems(\n"
        "                halo_input_shard_shape, batch_size, input_height, halo_width, kernel_size, dilation, padding);\n"
        "            halo_width = tt::div_up(halo_width, 2u);\n"
        "            tries++;\n"
        "        } while (tries < 3 && approx_input_size_per_core * input_datum_size > l1_usage.CB_allocation_size);\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, hoist_trap)
    yield Case("loop-do-while-outer-var", "loop whose variables change per iteration", e.files, "refuse",
               {CU: [with_(SITE1, input_hw="{input_height, halo_width}"), SITE2]},
               note="do/while: `halo_width` is declared before the loop and changed inside it (hoisting trap)")
    ranged = helper_body(
        call_args="shard, batch_size, input_h, input_w, kernel_size, dilation, padding",
        pre="").replace(
        "    const uint32_t halo_elems = estimate_halo_output_elems(shard, batch_size, input_h, input_w, kernel_size, "
        "dilation, padding);\n",
        "    uint32_t halo_elems = 0;\n"
        "    for (const auto& [n, h] : std::array<std::pair<uint32_t, uint32_t>, 2>{{{batch_size, input_h}, "
        "{1, input_h * batch_size}}}) {\n"
        "        const std::array<uint32_t, 2> shard = {shard_shape[0], shard_shape[1]};\n"
        "        halo_elems = std::max(halo_elems, estimate_halo_output_elems(shard, n, h, input_w, kernel_size, "
        "dilation, padding));\n"
        "    }\n")
    e = helper_case("const std::array<uint32_t, 2>& stride", ranged)
    yield Case("loop-range-for-structured", "loop whose variables change per iteration", e.files, "refuse",
               {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, shard="shard", batch_size="n",
                                                        input_hw="{h, input_w}")]},
               note="range-for with a structured binding: batch and height come from the loop element")


def gen_macro():
    """A #define whose body calls the estimate (invisible to the parser)."""
    e = Edit("rev-7136")
    e.sub(CU, "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;",
          "// Halo estimate for the shard the enclosing scope is sizing.\n"
          "#define CONV_HALO_ELEMS(shard) \\\n"
          "    estimate_halo_output_elems(shard, batch_size, input_height, input_width, kernel_size, dilation, padding)\n"
          "\nnamespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;")
    e.sub(CU, SITE1_CALL, "        uint32_t approx_input_size_per_core = CONV_HALO_ELEMS(halo_input_shard_shape);\n")
    yield Case("macro-body-used", "#define calls the estimate", e.files, "refuse", {CU: [SITE1, SITE2]},
               note="site 1 calls a function-like macro whose body calls the estimate")
    e = Edit("rev-7136")
    e.sub(CH, "uint32_t estimate_halo_output_elems(",
          "// Kept for out-of-tree ops that still size their halo the old way.\n"
          "#define TTNN_CONV_ESTIMATE_HALO(...) ::ttnn::operations::conv::estimate_halo_output_elems(__VA_ARGS__)\n\n"
          "uint32_t estimate_halo_output_elems(")
    yield Case("macro-body-unused-header", "#define calls the estimate", e.files, "refuse", {CU: [SITE1, SITE2]},
               note="an unused forwarding macro in the header: deleting the estimate leaves a dangling macro")


def gen_ifelse():
    """Calls under #if/#else where a branch declares its own locals."""
    own = (
        "#if defined(TTNN_HALO_TILE_PADDED_SHARDS)\n"
        "        const std::array<uint32_t, 2> padded_shard_shape = {\n"
        "            tt::round_up(halo_input_shard_shape[0], tt::constants::TILE_HEIGHT), halo_input_shard_shape[1]};\n"
        "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
        "            padded_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n"
        "#else\n" + SITE1_CALL + "#endif\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, own)
    yield Case("ifelse-branch-local-shard", "#if/#else branches with their own locals", e.files, "migrate",
               {CU: [with_(SITE1, shard="padded_shard_shape"), SITE1, SITE2]},
               defines=((), ("-DTTNN_HALO_TILE_PADDED_SHARDS",)),
               note="#if branch declares padded_shard_shape and calls with it; #else calls as upstream")
    own2 = (
        "#ifdef TTNN_HALO_NO_HEIGHT_PADDING\n"
        "        const std::array<uint32_t, 4> halo_padding = {0, 0, padding[2], padding[3]};\n"
        "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
        "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, halo_padding);\n"
        "#else\n"
        "        const uint32_t halo_batch = std::max(batch_size, 1u);\n"
        "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
        "            halo_input_shard_shape, halo_batch, input_height, input_width, kernel_size, dilation, padding);\n"
        "#endif\n")
    e = Edit("rev-7136").sub(CU, SITE1_CALL, own2)
    yield Case("ifelse-both-branches-own-locals", "#if/#else branches with their own locals", e.files, "migrate",
               {CU: [with_(SITE1, padding=one_of("halo_padding", "{halo_padding[0], halo_padding[1], "
                                                 "halo_padding[2], halo_padding[3]}")),
                     with_(SITE1, batch_size="halo_batch"), SITE2]},
               defines=((), ("-DTTNN_HALO_NO_HEIGHT_PADDING",)),
               note="#ifdef/#else, each branch with its own local that feeds a different field")


def gen_stride_not_conv_stride():
    """A local named `stride` that is not the convolution's stride."""
    e = Edit("rev-7136")
    e.sub(CU, "        auto halo_input_shard_shape = halo_input_memory_config.shard_spec().value().shape;\n",
          "        auto halo_input_shard_shape = halo_input_memory_config.shard_spec().value().shape;\n"
          "        // Byte pitch between two sticks of the halo input.\n"
          "        const uint32_t stride = halo_input_shard_shape[1] * input_datum_size;\n")
    e.sub(CU, '            "L1 usage for {}: Input {}, Output {}, CBs {}, Halo Output : {}",\n',
          '            "L1 usage for {}: Input {} (pitch {}), Output {}, CBs {}, Halo Output : {}",\n')
    e.sub(CU, "            halo_input_memory_config.shard_spec().value().shape,\n            l1_usage.tensor",
          "            halo_input_memory_config.shard_spec().value().shape,\n            stride,\n            l1_usage.tensor")

    def threaded_not_the_pitch(expr: str) -> str | None:
        m = re.fullmatch(r"\{(\w+)\[0\],\1\[1\]\}", expr) or re.fullmatch(r"\{(\w+)\.at\(0\),\1\.at\(1\)\}", expr)
        if not m:
            return f"not a two-element access of one array: {expr}"
        if m.group(1) == "stride":
            return "bound to the byte-pitch local `stride`"
        return None
    yield Case("stride-local-byte-pitch-site1", "local `stride` that is not the conv stride", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=threaded_not_the_pitch), SITE2]},
               note="a `const uint32_t stride` byte pitch in the site-1 lambda; the conv stride must be threaded "
                    "under a free name")
    e = Edit("rev-7136")
    e.sub(CU, "        uint32_t input_size = shard_shape[0] * shard_shape[1] * input_datum_size;\n",
          "        const uint32_t stride = shard_shape[1] * input_datum_size;  // bytes per stick\n"
          "        uint32_t input_size = shard_shape[0] * stride;\n")
    yield Case("stride-local-byte-pitch-site2", "local `stride` that is not the conv stride", e.files, "migrate",
               {CU: [SITE1, SITE2]}, note="a byte-pitch `stride` local next to site 2, where params.stride is the conv stride")
    e = Edit("rev-5702")
    e.sub(CU, "        uint32_t input_size = shard_shape[0] * shard_shape[1] * input_datum_size;\n",
          "        const uint32_t stride = shard_shape[1] * input_datum_size;  // bytes per stick\n"
          "        uint32_t input_size = shard_shape[0] * stride;\n")
    yield Case("stride-local-byte-pitch-site2-5702", "local `stride` that is not the conv stride", e.files, "migrate",
               {CU: BASE_SITES["rev-5702"]}, base="rev-5702", note="same on the rev-5702 shape")
    body = helper_body(pre="    const uint32_t stride = shard_shape[1] * 2;  // bytes per stick\n",
                       log_stride="stride")
    e = helper_case("const std::array<uint32_t, 2>& conv_stride", body.replace(
        "    auto shard_shape", "    log_debug(tt::LogOp, \"conv stride {}\", conv_stride);\n    auto shard_shape"))
    yield Case("stride-local-shadows-helper", "local `stride` that is not the conv stride", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, stride_hw=pair_of("conv_stride"))]},
               note="helper with `conv_stride` parameter and a byte-pitch `stride` local")


def gen_stride_other_name():
    """The conv stride in scope under another name: use it, never thread a second one."""
    e = Edit("rev-7136").auto_shard_param("const std::array<uint32_t, 2>& conv_stride", _stride_arg)
    yield Case("conv-stride-param-renamed", "conv stride under another name", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=pair_of("conv_stride")), SITE2]}, checks=[no_param_added],
               note="the branch already threads the stride into auto-shard as `conv_stride`")
    e = Edit("rev-7136")
    e.sub(CH, "Conv2dConfig " + AUTO + "(",
          "// The window a conv slides over its input.\nstruct ConvWindow {\n    std::array<uint32_t, 2> kernel;\n"
          "    std::array<uint32_t, 2> stride;\n};\n\nConv2dConfig " + AUTO + "(")
    e.auto_shard_param("const ConvWindow& window",
                       lambda rel, k: f"ConvWindow{{{k}, {'params.stride' if k.startswith('params.') else 'stride'}}}")
    yield Case("conv-stride-struct-member", "conv stride under another name", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=pair_of("window.stride")), SITE2]}, checks=[no_param_added],
               note="auto-shard takes `const ConvWindow& window` whose `.stride` is the conv stride")
    e = Edit("rev-7136").auto_shard_param(
        "const sliding_window::SlidingWindowConfig& conv_window",
        lambda rel, k: ("sliding_window::SlidingWindowConfig{.stride_hw = {params.stride[0], params.stride[1]}}"
                        if k.startswith("params.") else
                        "sliding_window::SlidingWindowConfig{.stride_hw = {stride[0], stride[1]}}"))
    yield Case("conv-stride-swc-member", "conv stride under another name", e.files, "migrate",
               {CU: [with_(SITE1, stride_hw=one_of("conv_window.stride_hw",
                                                   "{conv_window.stride_hw.first, conv_window.stride_hw.second}")),
                     SITE2]}, checks=[no_param_added],
               note="auto-shard takes a whole SlidingWindowConfig `conv_window`; its .stride_hw is the stride")
    e = helper_case("const std::array<uint32_t, 2>& conv_stride", helper_body(log_stride="conv_stride"))
    yield Case("conv-stride-helper-param", "conv stride under another name", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, stride_hw=pair_of("conv_stride"))]},
               note="helper whose stride parameter is `conv_stride`: nothing to thread")


POOL_HPP = "ttnn/cpp/ttnn/operations/pool/generic/generic_pools.hpp"
POOL_CPP = "ttnn/cpp/ttnn/operations/pool/generic/generic_pools.cpp"
POOL_UTILS = "ttnn/cpp/ttnn/operations/pool/pool_utils.cpp"


def _pool_invoke() -> str:
    return f"""{HEADER_LINE}
#include <array>
#include <cstdint>
#include <optional>
#include <variant>

#include "ttnn/operations/conv/conv2d/conv2d_utils.hpp"
#include "ttnn/operations/pool/generic/device/pool_op.hpp"
#include "ttnn/operations/sliding_window/sliding_window.hpp"

namespace ttnn::operations::pool {{

// L1 a pool's halo needs per core, checked before the op shards its input.
static uint32_t pool2d_halo_l1(
    const Tensor& input_tensor,
    Pool2DType pool_type,
    uint32_t batch_size,
    uint32_t input_h,
    uint32_t input_w,
    std::array<uint32_t, 2> kernel_size,
    std::array<uint32_t, 2> stride,
    std::variant<std::array<uint32_t, 2>, std::array<uint32_t, 4>> padding,
    std::optional<std::array<uint32_t, 2>> dilation = std::nullopt,
    bool ceil_mode = false,
    const Layout output_layout = Layout::ROW_MAJOR) {{
    std::array<uint32_t, 4> padding_4d = sliding_window::get_pair_n4_padding(padding);
    const bool is_out_tiled = output_layout == Layout::TILE;
    const std::array<uint32_t, 2> dilation_hw = dilation.value_or(std::array<uint32_t, 2>{{1, 1}});
    const sliding_window::ParallelConfig parallel_config{{
        .grid = input_tensor.memory_config().shard_spec().value().grid,
        .shard_scheme = input_tensor.memory_config().memory_layout(),
        .shard_orientation = input_tensor.memory_config().shard_spec().value().orientation}};
    const MemoryConfig& input_memory_config = input_tensor.memory_config();
    auto shard_shape = input_memory_config.shard_spec().value().shape;
    const uint32_t halo_elems = conv::estimate_halo_output_elems(
        shard_shape, batch_size, input_h, input_w, kernel_size, dilation_hw, padding_4d);
    log_debug(
        tt::LogOp,
        "pool halo: {{}} elements on {{}} cores, stride {{}}, ceil {{}}, tiled {{}}, avg {{}}",
        halo_elems,
        conv::get_num_cores_nhw_from_parallel_config(parallel_config),
        stride,
        ceil_mode,
        is_out_tiled,
        pool_type == Pool2DType::AVG_POOL2D);
    return halo_elems * 2;
}}

uint32_t max_pool2d_halo_l1(const Tensor& input_tensor, uint32_t batch_size, uint32_t input_h, uint32_t input_w) {{
    return pool2d_halo_l1(input_tensor, Pool2DType::MAX_POOL2D, batch_size, input_h, input_w, {{3, 3}}, {{2, 2}},
                          std::array<uint32_t, 2>{{1, 1}}, std::nullopt, true, Layout::TILE);
}}

}}  // namespace ttnn::operations::pool
"""


def gen_pool():
    """Calls in pool code: the pool's halo has ceil_mode, snap_to_tile = is_out_tiled and is_avg_pool."""
    pool_fields = dict(
        batch_size="batch_size", input_hw="{input_h, input_w}", window_hw=pair_of("kernel_size"),
        stride_hw=pair_of("stride"), padding=one_of("padding_4d", "{padding_4d[0], padding_4d[1], padding_4d[2], "
                                                    "padding_4d[3]}"),
        dilation_hw=pair_of("dilation_hw"),
        num_cores_nhw=["conv::get_num_cores_nhw_from_parallel_config(parallel_config)",
                       "get_num_cores_nhw_from_parallel_config(parallel_config)"],
        snap_to_tile=["is_out_tiled", "output_layout == Layout::TILE"], ceil_mode="ceil_mode",
        is_avg_pool="pool_type == Pool2DType::AVG_POOL2D")
    e = Edit("rev-7136").add(POOL_CPP, _pool_invoke())
    yield Case("pool-generic-pools", "pool halo (not a conv2d halo)", e.files, "refuse",
               {CU: [SITE1, SITE2], POOL_CPP: [site("shard_shape", **pool_fields)]},
               note="generic_pools.cpp: ceil_mode, is_out_tiled and pool_type in scope; conv defaults are wrong")
    pu = f"""{HEADER_LINE}
#include <array>
#include <cstdint>

#include "ttnn/operations/conv/conv2d/conv2d_utils.hpp"
#include "ttnn/operations/pool/generic/device/pool_op.hpp"

namespace ttnn::operations::pool {{

// L1 of a max pool's halo, for the auto-shard search (pool inputs are bfloat16).
uint32_t calculate_pool_halo_l1(
    const std::array<uint32_t, 2>& kernel_size,
    const std::array<uint32_t, 2>& stride,
    const std::array<uint32_t, 4>& padding,
    const std::array<uint32_t, 2>& dilation,
    uint32_t batch_size,
    uint32_t input_h,
    uint32_t input_w,
    bool ceil_mode,
    bool is_out_tiled,
    const sliding_window::ParallelConfig& parallel_config,
    const MemoryConfig& input_memory_config) {{
    auto shard_shape = input_memory_config.shard_spec().value().shape;
    const uint32_t halo_elems =
        conv::estimate_halo_output_elems(shard_shape, batch_size, input_h, input_w, kernel_size, dilation, padding);
    log_debug(
        tt::LogOp,
        "Pool halo: {{}} elements per core on {{}} cores (stride {{}}, ceil {{}}, tiled {{}})",
        halo_elems,
        conv::get_num_cores_nhw_from_parallel_config(parallel_config),
        stride,
        ceil_mode,
        is_out_tiled);
    return halo_elems * 2;
}}

}}  // namespace ttnn::operations::pool
"""
    e = Edit("rev-7136").add(POOL_UTILS, pu)
    yield Case("pool-utils-max-pool", "pool halo (not a conv2d halo)", e.files, "refuse",
               {CU: [SITE1, SITE2], POOL_UTILS: [site(
                   "shard_shape", **dict(pool_fields, padding=PADDING, dilation_hw=pair_of("dilation"),
                                         snap_to_tile="is_out_tiled", is_avg_pool=one_of(DEFAULT, "false")))]},
               note="pool_utils.cpp (max pool): ceil_mode and is_out_tiled are parameters")
    sys.path.insert(0, str(REPO / "fixtures"))
    import make_variants

    e = Edit("rev-7136")
    for rel, text in ((make_variants.POOL_UTILS_HPP, make_variants.POOL_UTILS_HPP_TEXT),
                      (make_variants.POOL_UTILS_CPP, make_variants.POOL_UTILS_CPP_TEXT)):
        e.files[rel] = text.encode()
    assert b"estimate_halo_output_elems" in e.files[make_variants.POOL_UTILS_CPP]
    yield Case("pool-utils-no-pool-facts", "pool halo (not a conv2d halo)", e.files, "refuse",
               {CU: [SITE1, SITE2]}, refuse_only=True,
               note="pool_utils.cpp with no ceil_mode / output layout in scope: a pool halo cannot be built with "
                    "conv defaults (the pool call the `third-site` fixture used to have)")


def gen_same_config_name():
    """A second site whose config name equals the first site's."""
    e = Edit("rev-7136")
    e.sub(CU, "        log_trace(\n            tt::LogOp,\n            \"L1 usage for {}:",
          "        if (conv_config.enable_act_double_buffer) {\n"
          "            // Double-buffered activations: the halo holds two shards.\n"
          "            const std::array<uint32_t, 2> db_shard_shape = {2 * halo_input_shard_shape[0], "
          "halo_input_shard_shape[1]};\n"
          "            approx_input_size_per_core = estimate_halo_output_elems(\n"
          "                db_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding);\n"
          "        }\n\n"
          "        log_trace(\n            tt::LogOp,\n            \"L1 usage for {}:")
    yield Case("same-name-nested-block", "second site with the same config name", e.files, "migrate",
               {CU: [SITE1, with_(SITE1, shard="db_shard_shape"), SITE2]},
               note="a second call in a nested block right after site 1")
    body = helper_body(call_args="shard_shape, n, in_h, in_w, k, d, pads")
    e = Edit("rev-7136").add(HELPER_REL, helper_file(
        "conv_halo_budget_bytes",
        ["const std::array<uint32_t, 2>& k", "const std::array<uint32_t, 2>& stride", "const std::array<uint32_t, 4>& pads",
         "const std::array<uint32_t, 2>& d", "uint32_t n", "uint32_t in_h", "uint32_t in_w",
         "const sliding_window::ParallelConfig& parallel_config", "const MemoryConfig& input_memory_config"],
        body.replace("    auto shard_shape = input_memory_config.shard_spec().value().shape;\n",
                     "    auto shard_shape = input_memory_config.shard_spec().value().shape;\n"
                     "    const uint32_t halo_input_shard_shape = shard_shape[0];\n"
                     "    log_debug(tt::LogOp, \"rows {}\", halo_input_shard_shape);\n")))
    yield Case("same-name-other-function", "second site with the same config name", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [site(
                   "shard_shape", batch_size="n", input_hw="{in_h, in_w}", window_hw=pair_of("k"),
                   stride_hw=pair_of("stride"), padding=one_of("pads", "{pads[0], pads[1], pads[2], pads[3]}"),
                   dilation_hw=pair_of("d"),
                   num_cores_nhw="get_num_cores_nhw_from_parallel_config(parallel_config)", snap_to_tile="true")]},
               note="a helper whose names differ from site 1's (k, d, pads, n) and that reuses the name "
                    "`halo_input_shard_shape` for a scalar")


def gen_truncated():
    """A file that mentions the estimate but does not parse."""
    wip = helper_file("conv_halo_budget_bytes", [p.replace("STRIDE", "const std::array<uint32_t, 2>& stride")
                                                 for p in HELPER_PARAMS], helper_body())
    cut = wip[:wip.index("    log_debug(")]
    e = Edit("rev-7136").add(HELPER_REL, cut)
    yield Case("truncated-cpp", "file that does not parse", e.files, "refuse", {CU: [SITE1, SITE2]},
               refuse_only=True, no_compile=frozenset({HELPER_REL}),
               note="a work-in-progress .cpp cut off after its estimate call")
    hrel = HELPER_DIR + "conv2d_halo_budget.hpp"
    text = (f"{HEADER_LINE}\n#pragma once\n\n#include \"conv2d_utils.hpp\"\n\nnamespace ttnn::operations::conv {{\n\n"
            "inline uint32_t halo_budget(const std::array<uint32_t, 2>& shard, uint32_t n, uint32_t h, uint32_t w) {\n"
            "    return estimate_halo_output_elems(shard, n, h, w, {3, 3}, {1, 1}, {1, 1, 1")
    e = Edit("rev-7136").add(hrel, text)
    yield Case("truncated-header-unincluded", "file that does not parse", e.files, "refuse", {CU: [SITE1, SITE2]},
               refuse_only=True, note="a header nobody includes yet, cut off inside the estimate's arguments")


def gen_defaults_overloads():
    """Default arguments and overloads on the threading target."""
    e = Edit("rev-7136")
    e.sub(CH, "    uint32_t groups,\n    bool enable_bias,\n    const DeviceComputeKernelConfig& compute_config);\n\n"
              "// Everything",
          "    uint32_t groups = 1,\n    bool enable_bias = false,\n"
          "    const DeviceComputeKernelConfig& compute_config = DeviceComputeKernelConfig());\n\n// Everything")
    text = e.text(PREP)
    s, o, c = _calls(text, AUTO)[0]
    spans = _split_args(text, o, c)
    e.files[PREP] = (text[:spans[17][1]] + ")" + text[c + 1:]).encode()  # drop groups, bias, compute config
    yield Case("default-args-after-insertion", "default arguments on the threading target", e.files, "migrate",
               {CU: [SITE1, SITE2]}, note="the last three parameters have defaults and one caller omits them; "
                                          "the stride goes before them, which is legal")
    e = Edit("rev-7136")
    e.sub(CH, "    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& dilation,\n"
              "    const std::array<uint32_t, 4>& padding,\n    uint32_t groups,\n    bool enable_bias,\n"
              "    const DeviceComputeKernelConfig& compute_config);\n\n// Everything",
          "    const std::array<uint32_t, 2>& kernel_size = {1, 1},\n"
          "    const std::array<uint32_t, 2>& dilation = {1, 1},\n"
          "    const std::array<uint32_t, 4>& padding = {0, 0, 0, 0},\n    uint32_t groups = 1,\n"
          "    bool enable_bias = false,\n"
          "    const DeviceComputeKernelConfig& compute_config = DeviceComputeKernelConfig());\n\n// Everything")
    yield Case("default-args-from-kernel", "default arguments on the threading target", e.files, "refuse",
               {CU: [SITE1, SITE2]},
               note="every parameter from kernel_size on has a default: a stride without one cannot follow it "
                    "(refuse naming the default argument, or thread where legal)")
    e = Edit("rev-7136")
    e.sub(CH, "uint32_t estimate_halo_output_elems(",
          "// DRAM-slice callers pass their whole parameter block.\n"
          "Conv2dConfig determine_conv_config_for_auto_shard(const ConvDRAMParamters& params, "
          "uint32_t output_height, uint32_t output_width);\n\nuint32_t estimate_halo_output_elems(")
    e.sub(CU, "static Conv2dSliceConfig determine_conv2d_slice_config(",
          "Conv2dConfig determine_conv_config_for_auto_shard(\n"
          "    const ConvDRAMParamters& params, uint32_t output_height, uint32_t output_width) {\n"
          "    return determine_conv_config_for_auto_shard(\n"
          "        params.conv_config,\n        params.mm_conv,\n        params.batch_size,\n"
          "        params.in_channels,\n        params.out_channels,\n        output_height,\n        output_width,\n"
          "        params.kernel_size[1],\n        params.input_height,\n        params.input_width,\n"
          "        params.compute_grid,\n        params.input_layout,\n        params.input_datatype,\n"
          "        params.output_datatype,\n        std::nullopt,\n        params.kernel_size,\n"
          "        params.dilation,\n        params.padding_n4,\n        params.groups,\n        params.enable_bias,\n"
          "        params.compute_kernel_config);\n}\n\n"
          "static Conv2dSliceConfig determine_conv2d_slice_config(")
    yield Case("overload-forwarding", "overload of the threading target", e.files, "refuse",
               {CU: [SITE1, SITE2]},
               note="a second overload (params block) forwards to the threading target: thread through it "
                    "(params.stride) or refuse naming the overload")


# ---- more classes a real branch could carry ---------------------------------------------------

def gen_extra():
    e = Edit("rev-7136")
    e.sub(CH, "uint32_t estimate_halo_output_elems(",
          "// Halo elements of the default 3x3, stride-1, pad-1 conv on a shard.\n"
          "inline uint32_t default_halo_elems(const std::array<uint32_t, 2>& shard, uint32_t n, uint32_t h, uint32_t w);\n"
          "\nuint32_t estimate_halo_output_elems(")
    text = e.text(CH)
    text = text.replace("}  // namespace ttnn::operations::conv",
                        "inline uint32_t default_halo_elems(const std::array<uint32_t, 2>& shard, uint32_t n, "
                        "uint32_t h, uint32_t w) {\n"
                        "    return estimate_halo_output_elems(shard, n, h, w, {3, 3}, {1, 1}, {1, 1, 1, 1});\n}\n\n"
                        "}  // namespace ttnn::operations::conv")
    e.files[CH] = text.encode()
    yield Case("extra-inline-in-header-literals", "extra: call in a header inline function with literal arguments",
               e.files, "refuse",
               {CU: [SITE1, SITE2], CH: [site("shard", batch_size="n", input_hw="{h, w}", window_hw="{3, 3}",
                                              padding="{1, 1, 1, 1}", dilation_hw="{1, 1}", stride_hw="{1, 1}",
                                              snap_to_tile="true")]}, refuse_only=True,
               note="no parallel config in scope (num_cores_nhw unknown) and no stride at all: nothing exact can be "
                    "built there")
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL, SITE1_CALL.replace("estimate_halo_output_elems(", "halo_estimate(")
          .replace("        uint32_t approx", "        namespace cv = ttnn::operations::conv;\n"
                   "        constexpr auto halo_estimate = [](auto&&... args) {\n"
                   "            return cv::estimate_halo_output_elems(args...);\n        };\n        uint32_t approx"))
    yield Case("extra-generic-lambda-forwarder", "extra: estimate forwarded through a generic lambda", e.files,
               "refuse", {CU: [SITE1, SITE2]}, refuse_only=True,
               note="site 1 calls a forwarding lambda; the estimate's only call has no bindable arguments")
    e = Edit("rev-7136")
    e.sub(CU, "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;",
          "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;\n"
          "// Kept so a debug build can compare the two halo sizes.\n"
          "[[maybe_unused]] static uint32_t (*const legacy_halo_estimate)(\n"
          "    std::array<uint32_t, 2>, uint32_t, uint32_t, uint32_t, std::array<uint32_t, 2>, std::array<uint32_t, 2>,\n"
          "    std::array<uint32_t, 4>) = &estimate_halo_output_elems;")
    yield Case("extra-address-taken", "extra: the estimate's address is taken", e.files, "refuse",
               {CU: [SITE1, SITE2]}, refuse_only=True,
               note="a function pointer to the estimate: deleting the estimate breaks it; no call to migrate")
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL,
          "        const bool halo_is_needed = !(kernel_size[0] == 1 && kernel_size[1] == 1);\n"
          "        uint32_t approx_input_size_per_core =\n"
          "            halo_is_needed ? estimate_halo_output_elems(\n"
          f"                                 {SITE1_ARGS})\n"
          "                           : halo_input_shard_shape[0] * halo_input_shard_shape[1];\n")
    yield Case("extra-call-in-ternary-branch", "extra: call in one branch of a conditional expression", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="`cond ? estimate(...) : shard_elems` (the config is pure, so building it unconditionally is fine)")
    body = helper_body(pre="    const auto [stride_h, stride_w] = stride_hw;\n", log_stride="stride_h")
    body = body.replace('log_debug(tt::LogOp, "halo {} elements, stride {}", halo_elems, stride_h);',
                        'log_debug(tt::LogOp, "halo {} elements, stride {}x{}", halo_elems, stride_h, stride_w);')
    e = helper_case("std::pair<uint32_t, uint32_t> stride_hw", body)
    yield Case("extra-structured-binding-stride", "extra: stride as two scalars from a structured binding", e.files,
               "migrate", {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, stride_hw=one_of(
                   "{stride_h, stride_w}", "stride_hw", "{stride_hw.first, stride_hw.second}"))]},
               note="`const auto [stride_h, stride_w] = stride_hw;` with stride_hw a std::pair parameter")
    body = helper_body(pre="    auto conv_stride = std::make_pair(stride_h, stride_w);\n", log_stride="conv_stride.first")
    e = Edit("rev-7136").add(HELPER_REL, helper_file(
        "conv_halo_budget_bytes",
        [p for p in HELPER_PARAMS if p != "STRIDE"] + ["uint32_t stride_h", "uint32_t stride_w"], body))
    yield Case("extra-auto-pair-stride", "extra: `auto` stride resolved through its initializer", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [with_(HELPER, stride_hw=one_of(
                   "{conv_stride.first, conv_stride.second}", "conv_stride", "{stride_h, stride_w}"))]},
               note="`auto conv_stride = std::make_pair(stride_h, stride_w);`")
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL, SITE1_CALL.replace("        uint32_t approx_input_size_per_core = estimate_halo_output_elems(",
                                             "        using conv::estimate_halo_output_elems;\n"
                                             "        uint32_t approx_input_size_per_core = estimate_halo_output_elems("))
    yield Case("extra-block-using-declaration", "extra: block-scope using-declaration of the estimate", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="`using conv::estimate_halo_output_elems;` right before site 1 (must go with the estimate)")
    e = helper_case("const std::array<uint32_t, 2>& stride", helper_body())
    yield Case("extra-clean-helper", "extra: a new well-formed call site (control)", e.files, "migrate",
               {CU: [SITE1, SITE2], HELPER_REL: [HELPER]},
               note="a helper with every value as a parameter, nothing unusual")


def _in_function(e: Edit, rel: str, fn: str, old: str, new: str, count: int = 1) -> Edit:
    """`Edit.sub`, limited to the body of the function whose definition line names `fn(`."""
    text = e.text(rel)
    m = re.search(r"^[A-Za-z_][^\n;=(]*?\b" + fn + r"\(\n", text, re.M)
    assert m, (rel, fn)
    end = text.find("\n}\n", m.end())
    body = text[m.start():end]
    found = body.count(old)
    if found != count:
        raise AssertionError(f"{rel}:{fn}: {old[:60]!r} found {found} times, want {count}")
    e.files[rel] = (text[:m.start()] + body.replace(old, new) + text[end:]).encode()
    return e


def threaded_by_function(before: dict, after: dict, rel: str) -> list[tuple[str, str]]:
    """(enclosing function, argument for the parameter the migration added) of every call of the
    auto-shard function in `rel`, in text order; [] when nothing was threaded."""
    b, a = auto_shard_params(before[CH].decode()), auto_shard_params(after[CH].decode())
    if len(a) != len(b) + 1:
        return []
    idx = next(i for i in range(len(a)) if i >= len(b) or a[i] != b[i])
    out = []
    text = after.get(rel, b"").decode("utf-8", "surrogateescape")
    for s, o, c in _calls(text, AUTO):
        fns = list(re.finditer(r"^[A-Za-z_][^\n;=(]*?\b(\w+)\(\n", text[:s], re.M))
        args = [norm(text[x:y]) for x, y in _split_args(text, o, c)]
        out.append((fns[-1].group(1) if fns else "", args[idx] if idx < len(args) else "<none>"))
    return out


def threaded_arg_in(rel: str, fn: str, allowed: frozenset[str] | None = None, forbidden: frozenset[str] = frozenset(),
                    what: str = "") -> Callable[[Case, dict, dict], str | None]:
    """A check: every auto-shard call in function `fn` of `rel` passes one of `allowed` (none of `forbidden`)
    for the threaded stride."""
    def check(case: Case, before: dict, after: dict) -> str | None:
        got = [a for f, a in threaded_by_function(before, after, rel) if f == fn]
        if not got and CH in after and auto_shard_params(after[CH].decode()) != auto_shard_params(before[CH].decode()):
            return f"{rel}: no threaded argument found in {fn}"
        for a in got:
            if allowed is not None and a not in {norm(x) for x in allowed}:
                return f"{rel}:{fn}: threaded {a!r}, expected one of {sorted(allowed)} ({what})"
            if a in {norm(x) for x in forbidden}:
                return f"{rel}:{fn}: threaded {a!r} ({what})"
        return None
    return check


L1_AUTO_IF = "    if (!conv_config.shard_layout.has_value() && !input_tensor.is_sharded()) {\n"
SITE1_LAMBDA_TAIL = "        auto halo_input_shard_shape = halo_input_memory_config.shard_spec().value().shape;\n"


def gen_adversarial_locals():
    """Local edits near the call sites that the path evaluator has to follow: a helper returning from
    if/else, a value changed through a non-const reference (in the site's function or in a caller), a
    `stride` shadowed in a nested block, a local written in a loop or a switch before the call, a default
    argument and an early return on the path."""
    # 1. A helper that returns the padding from if/else branches, used only for the halo estimate's caller:
    #    depthwise convs get no top/bottom padding (the old estimate never read it).
    e = Edit("rev-7136")
    e.sub(CONV2D, "static uint32_t conv_output_dim(",
          "// The padding auto-shard sizes the halo with: the old estimate only reads the left/right padding, so\n"
          "// depthwise convs drop the top/bottom rows.\n"
          "static std::array<uint32_t, 4> auto_shard_padding(const std::array<uint32_t, 4>& padding_n4, bool depthwise) {\n"
          "    if (depthwise) {\n"
          "        return {0, 0, padding_n4[2], padding_n4[3]};\n"
          "    } else {\n"
          "        return padding_n4;\n"
          "    }\n}\n\nstatic uint32_t conv_output_dim(")
    _in_function(e, CONV2D, "conv2d_L1", "            dilation,\n            padding_n4,\n",
                 "            dilation,\n            auto_shard_padding(padding_n4, groups == in_channels && groups > 1),\n")
    yield Case("adv-helper-ifelse-padding", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [with_(SITE1, padding=lambda f: "bound to the auto-shard parameter `padding`, which conv2d_L1 "
                           "fills with depthwise convs' top/bottom padding dropped" if f in (
                               norm("padding"), norm("{padding[0], padding[1], padding[2], padding[3]}")) else None),
                     SITE2]},
               note="conv2d_L1 passes auto_shard_padding(...) (if/else returns) to auto-shard: for depthwise convs "
                    "the site's `padding` is not the padding the halo op runs with")

    # 2. A named function with a non-const reference rounds the height the estimate is given to tiles.
    e = Edit("rev-7136")
    e.sub(CU, "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {",
          "// Rounds a row or column count up to whole tiles, in place.\n"
          "static void round_to_tile(uint32_t& v) { v = tt::round_up(v, tt::constants::TILE_HEIGHT); }\n\n"
          "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {")
    e.sub(CU, SITE1_LAMBDA_TAIL + SITE1_CALL,
          SITE1_LAMBDA_TAIL +
          "        uint32_t halo_rows = input_height;\n"
          "        round_to_tile(halo_rows);\n"
          "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          "            halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding);\n")
    yield Case("adv-byref-function-rounds-height", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [with_(SITE1, input_hw="{input_height, input_width}"), SITE2]},
               note="halo_rows is rounded up to tiles by `static void round_to_tile(uint32_t& v)` before the call")

    # 3. A nested block declares its own `stride` and assigns it: the parameter is untouched.
    e = Edit("rev-7136")
    _in_function(e, CONV2D, "conv2d_L1", "    const uint32_t output_height =\n",
                 "    {\n"
                 "        // The input's element strides (row, pixel), for the log only.\n"
                 "        std::array<uint32_t, 2> stride{};\n"
                 "        stride[0] = input_width * in_channels;\n"
                 "        stride[1] = in_channels;\n"
                 "        log_debug(tt::LogOp, \"conv2d_L1: element strides {}\", stride);\n"
                 "    }\n\n"
                 "    const uint32_t output_height =\n")
    yield Case("adv-nested-block-shadow-written", "extra: adversarial locals near a site", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               note="a nested block in conv2d_L1 declares `std::array<uint32_t, 2> stride{}` and assigns its "
                    "elements; the conv stride parameter is unchanged after the block")

    # 4. A default argument and an early return on the path: conv2d_L1 returns before auto-shard for
    #    1x1 stride-1 convs unless asked not to (a defaulted parameter of a helper).
    e = Edit("rev-7136")
    e.sub(CONV2D, "static uint32_t conv_output_dim(",
          "// A 1x1, stride-1, unpadded conv is a matmul and needs no halo (unless the caller wants one sized).\n"
          "static bool skips_halo(const std::array<uint32_t, 2>& kernel_size, const std::array<uint32_t, 2>& stride,\n"
          "                       const std::array<uint32_t, 4>& padding_n4, bool size_anyway = false) {\n"
          "    if (size_anyway) {\n        return false;\n    }\n"
          "    return kernel_size == std::array<uint32_t, 2>{1, 1} && stride == std::array<uint32_t, 2>{1, 1} &&\n"
          "           padding_n4 == std::array<uint32_t, 4>{0, 0, 0, 0};\n}\n\nstatic uint32_t conv_output_dim(")
    _in_function(e, CONV2D, "conv2d_L1", L1_AUTO_IF,
                 "    if (skips_halo(kernel_size, stride, padding_n4)) {\n"
                 "        return weight_tensor;\n    }\n\n" + L1_AUTO_IF)
    yield Case("adv-default-arg-early-return", "extra: adversarial locals near a site", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               note="conv2d_L1 returns before auto-shard when skips_halo(...) (a defaulted 4th parameter, if/else "
                    "returns) holds: only some convs reach the site from conv2d_L1")

    # 5. A non-const reference helper that can change the stride, called in conv2d_L1 before auto-shard
    #    (it clamps a stride longer than the image; no real conv has one).
    e = Edit("rev-7136")
    e.sub(CONV2D, "static uint32_t conv_output_dim(",
          "// A stride longer than the image steps past it in one go: clamp it to the image.\n"
          "static void clamp_stride_to_input(std::array<uint32_t, 2>& stride, uint32_t input_height, "
          "uint32_t input_width) {\n"
          "    if (stride[0] > input_height) {\n        stride[0] = input_height;\n    }\n"
          "    if (stride[1] > input_width) {\n        stride[1] = input_width;\n    }\n}\n\n"
          "static uint32_t conv_output_dim(")
    _in_function(e, CONV2D, "conv2d_L1", "    const uint32_t output_height =\n",
                 "    clamp_stride_to_input(stride, input_height, input_width);\n\n    const uint32_t output_height =\n")
    yield Case("adv-byref-clamp-stride-caller", "extra: adversarial locals near a site", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               note="conv2d_L1 calls `void clamp_stride_to_input(std::array<uint32_t, 2>& stride, ...)` (two ifs) "
                    "after folding; the conv and its halo use the clamped `stride`")

    # 6. A nested block holds the auto-shard call and declares its own `stride` (element strides) first.
    e = Edit("rev-7136")
    _in_function(e, CONV2D, "conv2d_L1", L1_AUTO_IF,
                 L1_AUTO_IF + "        // Element strides of one input row and of one pixel.\n"
                 "        const std::array<uint32_t, 2> stride = {input_width * in_channels, in_channels};\n"
                 "        log_debug(tt::LogOp, \"conv2d_L1: auto-shard, element strides {}\", stride);\n")
    yield Case("adv-block-local-shadows-stride", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [SITE1, SITE2]},
               checks=[threaded_arg_in(CONV2D, "conv2d_L1", forbidden=frozenset({"stride"}),
                                       what="inside the `if` block `stride` is the element-stride local")],
               note="the block around conv2d_L1's auto-shard call declares `std::array<uint32_t, 2> stride` "
                    "(element strides), hiding the parameter at the call")

    # 7. A local written inside a for loop before the call (it ends up equal to batch_size).
    e = Edit("rev-7136")
    e.sub(CU, SITE1_LAMBDA_TAIL + SITE1_CALL,
          SITE1_LAMBDA_TAIL +
          "        // Images the halo spans: every image of the batch.\n"
          "        uint32_t halo_batch = 0;\n"
          "        for (uint32_t image = 0; image < batch_size; image++) {\n"
          "            halo_batch++;\n"
          "        }\n"
          "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          "            halo_input_shard_shape, halo_batch, input_height, input_width, kernel_size, dilation, padding);\n")
    yield Case("adv-loop-written-local", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [with_(SITE1, batch_size=["halo_batch", "batch_size"]), SITE2]},
               note="`halo_batch` is counted up in a for loop before the call (equal to batch_size when it ends)")

    # 8. A local written under a switch before the call.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_LAMBDA_TAIL + SITE1_CALL,
          SITE1_LAMBDA_TAIL +
          "        std::array<uint32_t, 4> halo_padding = padding;\n"
          "        switch (shard_layout) {\n"
          "            case TensorMemoryLayout::WIDTH_SHARDED:\n"
          "                // Every width-sharded core holds whole rows: the left/right padding is its own.\n"
          "                halo_padding = {padding[0], padding[1], padding[2], padding[3]};\n"
          "                break;\n"
          "            default: break;\n"
          "        }\n"
          "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          "            halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, "
          "halo_padding);\n")
    yield Case("adv-switch-written-local", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [with_(SITE1, padding=one_of("halo_padding", "padding", "{padding[0], padding[1], padding[2], "
                                                 "padding[3]}", "{halo_padding[0], halo_padding[1], halo_padding[2], "
                                                 "halo_padding[3]}")), SITE2]},
               note="`halo_padding` is reassigned under `case WIDTH_SHARDED:` (to the same four values)")

    # 9. A default argument added to a function on the path, omitted by the site's function.
    e = Edit("rev-7136")
    e.sub(CH, "    bool is_mm_conv,\n    const std::optional<MemoryConfig>& input_memory_config);",
          "    bool is_mm_conv,\n    const std::optional<MemoryConfig>& input_memory_config = std::nullopt);")
    e.sub(CU, "            get_input_channels_alignment(shard_layout, input_layout, is_mm_conv, input_memory_config);",
          "            get_input_channels_alignment(shard_layout, input_layout, is_mm_conv);")
    yield Case("adv-default-arg-on-path", "extra: adversarial locals near a site", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               note="get_input_channels_alignment's memory config gets a default (std::nullopt) and the auto-shard "
                    "lambda omits it: the halo input shard it sizes is computed with the default")


def _indented(block: str, by: int) -> str:
    """`block` with every non-empty line indented by `by` more spaces."""
    return "".join((" " * by + ln) if ln.strip() else ln for ln in block.splitlines(keepends=True))


def _l1_auto_shard_block(e: Edit) -> str:
    """conv2d_L1's `if (...) { conv_config = determine_conv_config_for_auto_shard(...); }` statement, as text."""
    text = e.text(CONV2D)
    a = text.index(L1_AUTO_IF, text.index("Tensor conv2d_L1(\n"))
    return text[a:text.index("\n    }\n", a) + len("\n    }\n")]


def _prep_auto_shard_call(e: Edit) -> str:
    """get_opt_block_config's one `conv_config = determine_conv_config_for_auto_shard(...);` statement."""
    text = e.text(PREP)
    a = text.index("    conv_config = " + AUTO + "(\n")
    return text[a:text.index(");\n", a) + len(");\n")]


UNIT_STRIDES = TRANSPOSE_STRIDES  # {1, 1} spelled as a braced list or as a std::array temporary


def folded_call_check(case: Case, before: dict, after: dict) -> str | None:
    """adv-second-call-folded-literal: in get_opt_block_config the first auto-shard call (the folded 1x1 conv)
    gets a {1, 1} stride and the second (the upstream call) gets `stride`; every other caller its own stride."""
    got = threaded_by_function(before, after, PREP)
    mine = [a for f, a in got if f == "get_opt_block_config"]
    if not got:
        if CH in after and auto_shard_params(after[CH].decode()) != auto_shard_params(before[CH].decode()):
            return f"{PREP}: no threaded argument found in get_opt_block_config"
        return None
    if len(mine) != 2:
        return f"{PREP}: {len(mine)} auto-shard calls in get_opt_block_config, expected 2"
    if mine[0] not in {norm(x) for x in UNIT_STRIDES}:
        return (f"{PREP}:get_opt_block_config: the folded call (kernel {{1, 1}}, folded input) is given "
                f"{mine[0]!r} for the stride, expected {{1, 1}}: the folded conv runs with stride 1")
    if mine[1] != norm("stride"):
        return f"{PREP}:get_opt_block_config: the unfolded call is given {mine[1]!r}, expected 'stride'"
    for rel in sorted(after):
        if rel == PREP or not rel.endswith(".cpp"):
            continue
        for fn, a in threaded_by_function(before, after, rel):
            ok = {"stride", "params.stride"} | (UNIT_STRIDES if rel == TRANSPOSE else frozenset())
            if a not in {norm(x) for x in ok}:
                return f"{rel}:{fn}: threaded {a!r}"
    return None


def gen_adversarial_wrong():
    """The four adversarial local edits the tool once migrated wrongly (exit 0, a wrong value bound); see
    the notes of each case. A correct migration or a refusal is acceptable for each, as its `expect` says."""
    # 1. conv2d_L1 copies the stride and folds the copy: `stride` stays the requested (unfolded) stride, while
    #    the folded kernel/height/width reach auto-shard and the halo op gets `conv_stride`.
    e = Edit("rev-7136")
    _in_function(e, CONV2D, "conv2d_L1", "    auto orig_stride = stride;\n",
                 "    // `stride` stays the stride the caller asked for; the conv runs with `conv_stride`.\n"
                 "    std::array<uint32_t, 2> conv_stride = stride;\n")
    _in_function(e, CONV2D, "conv2d_L1",
                 "in_channels, kernel_size, stride, padding_n4, conv_config);",
                 "in_channels, kernel_size, conv_stride, padding_n4, conv_config);")
    _in_function(e, CONV2D, "conv2d_L1", "kernel_size[0], stride[0], dilation[0]);",
                 "kernel_size[0], conv_stride[0], dilation[0]);")
    _in_function(e, CONV2D, "conv2d_L1", "kernel_size[1], stride[1], dilation[1]);",
                 "kernel_size[1], conv_stride[1], dilation[1]);")
    _in_function(e, CONV2D, "conv2d_L1", "kernel_size[1] == 1 && stride[0] == stride[1] && groups == 1 &&",
                 "kernel_size[1] == 1 && conv_stride[0] == conv_stride[1] && groups == 1 &&")
    _in_function(e, CONV2D, "conv2d_L1", "        stride,\n        orig_stride,\n",
                 "        conv_stride,\n        stride,\n")
    _in_function(e, CONV2D, "conv2d_L1", "        .stride_hw = {stride[0], stride[1]},\n",
                 "        .stride_hw = {conv_stride[0], conv_stride[1]},\n")
    yield Case("adv-fold-into-copy-l1", "extra: adversarial locals near a site", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride", "conv_stride"}),
               checks=[threaded_arg_in(CONV2D, "conv2d_L1", allowed=frozenset({"conv_stride"}),
                                       what="conv2d_L1 folds `conv_stride` (a copy) and passes the folded kernel "
                                            "and input to auto-shard; `stride` is the unfolded stride")],
               note="conv2d_L1 folds a copy, `conv_stride`, with kernel_size/input_height/input_width; the halo op "
                    "gets `conv_stride`, while `stride` keeps the requested stride (it differs when folding is on)")

    # 2. A `stride` declared under a `default:` label of a switch hides the parameter at the auto-shard call.
    #    No plain name for the folded conv stride is in scope there: `orig_stride` is the stride before folding.
    #    fold_input_tensor_if_required writes stride = {1, 1} exactly when it returns true (`folded`) and leaves
    #    it alone otherwise, so `folded ? std::array<uint32_t, 2>{1, 1} : orig_stride` is the parameter's value
    #    at that call; it is the one correct spelling the oracle accepts (a refusal is expected).
    e = Edit("rev-7136")
    block = _l1_auto_shard_block(e)
    _in_function(e, CONV2D, "conv2d_L1", block,
                 "    switch (input_tensor.layout()) {\n"
                 "        case Layout::TILE:\n"
                 "            // A tiled input keeps the shard layout it came with.\n"
                 "            break;\n"
                 "        default:\n"
                 "            // Element strides of one input row and of one pixel (row-major input).\n"
                 "            const std::array<uint32_t, 2> stride = {input_width * in_channels, in_channels};\n"
                 "            log_debug(tt::LogOp, \"conv2d_L1: row-major input, element strides {}\", stride);\n"
                 + _indented(block, 8) +
                 "    }\n")
    folded_stride = frozenset({"folded ? std::array<uint32_t, 2>{1, 1} : orig_stride",
                               "folded ? std::array<uint32_t, 2>({1, 1}) : orig_stride",
                               "folded ? decltype(orig_stride){1, 1} : orig_stride"})
    yield Case("adv-case-local-shadows-stride", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | folded_stride,
               checks=[threaded_arg_in(CONV2D, "conv2d_L1", allowed=folded_stride,
                                       what="under `default:` the name `stride` is the case-local element strides "
                                            "{W*C, C}; `orig_stride` is the unfolded stride")],
               note="a `const std::array<uint32_t, 2> stride` (element strides) declared under `default:` of a "
                    "switch hides conv2d_L1's stride parameter at the auto-shard call; only "
                    "`folded ? std::array<uint32_t, 2>{1, 1} : orig_stride` spells the folded stride there")

    # 3. A local lambda with a `uint32_t&` parameter rounds the height and width the estimate is given.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_LAMBDA_TAIL + SITE1_CALL,
          SITE1_LAMBDA_TAIL +
          "        // Budget the halo as if the image were tile-aligned in both dimensions.\n"
          "        const auto round_to_tile = [](uint32_t& v) { v = tt::round_up(v, tt::constants::TILE_HEIGHT); };\n"
          "        uint32_t halo_rows = input_height;\n"
          "        uint32_t halo_cols = input_width;\n"
          "        round_to_tile(halo_rows);\n"
          "        round_to_tile(halo_cols);\n"
          "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          "            halo_input_shard_shape, batch_size, halo_rows, halo_cols, kernel_size, dilation, padding);\n")
    yield Case("adv-byref-lambda-rounds-hw", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [with_(SITE1, input_hw="{input_height, input_width}"), SITE2]},
               note="halo_rows/halo_cols are rounded up to tiles by a local lambda `[](uint32_t& v)` before the "
                    "call; the halo op gets {input_height, input_width}")

    # 4. get_opt_block_config gets a second auto-shard call for the folded conv (1x1 kernel literal, folded
    #    input): its stride is {1, 1}, not `stride`.
    e = Edit("rev-7136")
    call = _prep_auto_shard_call(e)
    folded_call = call
    for old, new in (("        mm_conv,\n", "        true,\n"),
                     ("        in_channels,\n", "        in_channels * stride[0] * stride[1],\n"),
                     ("        kernel_size[1],\n", "        1,\n"),
                     ("        input_height,\n", "        input_height / stride[0],\n"),
                     ("        input_width,\n", "        input_width / stride[1],\n"),
                     ("        kernel_size,\n", "        std::array<uint32_t, 2>{1, 1},\n"),
                     ("        dilation,\n", "        std::array<uint32_t, 2>{1, 1},\n"),
                     ("        padding,\n", "        std::array<uint32_t, 4>{0, 0, 0, 0},\n")):
        assert folded_call.count(old) == 1, old
        folded_call = folded_call.replace(old, new)
    e.sub(PREP, call,
          "    if (conv_config.enable_kernel_stride_folding && stride == kernel_size &&\n"
          "        padding == std::array<uint32_t, 4>{0, 0, 0, 0}) {\n"
          "        // The weights are laid out for the folded conv: a 1x1, stride-1 conv over the folded input.\n"
          + _indented(folded_call, 4) +
          "    } else {\n"
          + _indented(call, 4) +
          "    }\n")
    yield Case("adv-second-call-folded-literal", "extra: adversarial locals near a site", e.files, "refuse",
               {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | UNIT_STRIDES,
               checks=[folded_call_check],
               note="get_opt_block_config calls auto-shard twice: for the folded conv (kernel, dilation and padding "
                    "literals, folded input; stride {1, 1}) when folding applies, else the upstream call")



def _site1_with(pre: str, call_args: str) -> Edit:
    """rev-7136 with `pre` (statements) inserted right before site 1's call, whose arguments become `call_args`."""
    e = Edit("rev-7136")
    e.sub(CU, SITE1_LAMBDA_TAIL + SITE1_CALL,
          SITE1_LAMBDA_TAIL + pre +
          "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          f"            {call_args});\n")
    return e


def _not(*bad: str, why: str) -> Callable[[str], str | None]:
    """A field oracle that accepts anything but the given spellings (each one binds a value the halo op does
    not get)."""
    bad_n = {norm(b) for b in bad}

    def check(expr: str) -> str | None:
        return f"bound {expr!r}: {why}" if expr in bad_n else None
    return check


def gen_adversarial_round2_a():
    """Round 2 (a): writes the path evaluator may not see (a reference alias, a pointer, std::swap, a range-for
    or structured binding by reference, a method, a function taking a pointer, a function-like macro, an
    assignment inside another declaration's initializer), a cap no checked spec reaches, a local declared under
    #ifdef, an existing auto-shard `stride` parameter fed a stride that is not the halo op's, and one order trap
    (a copy taken before a reassignment, which migrates correctly). In every other case the
    estimate is given a value that differs from what the halo op gets; binding it is wrong. The same edits with a
    plain assignment (`halo_rows = round_up(...)`, a swap through a temporary) are refused by the numeric check."""
    real_hw = "{input_height, input_width}"
    # 1. A reference alias rounds the rows the estimate is given.
    e = _site1_with("        // Budget the halo for whole tiles of rows.\n"
                    "        uint32_t halo_rows = input_height;\n"
                    "        auto& rows = halo_rows;\n"
                    "        rows = tt::round_up(rows, tt::constants::TILE_HEIGHT);\n",
                    "halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding")
    yield Case("adv2a-ref-alias-rounds-rows", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`auto& rows = halo_rows; rows = tt::round_up(rows, TILE_HEIGHT);` before the call: the estimate "
                    "gets the rounded rows, the halo op input_height")

    # 2. std::swap of the two extents the estimate is given, for width-sharded layouts.
    e = _site1_with("        uint32_t halo_h = input_height;\n"
                    "        uint32_t halo_w = input_width;\n"
                    "        if (shard_layout == TensorMemoryLayout::WIDTH_SHARDED) {\n"
                    "            // Width shards walk the image column by column.\n"
                    "            std::swap(halo_h, halo_w);\n"
                    "        }\n",
                    "halo_input_shard_shape, batch_size, halo_h, halo_w, kernel_size, dilation, padding")
    yield Case("adv2a-std-swap-hw", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`std::swap(halo_h, halo_w)` under `if (WIDTH_SHARDED)`: the estimate gets {W, H} there")

    # 3. A write through a pointer.
    e = _site1_with("        uint32_t halo_w = input_width;\n"
                    "        uint32_t* const cols = &halo_w;\n"
                    "        *cols = tt::round_up(*cols, tt::constants::TILE_WIDTH);\n",
                    "halo_input_shard_shape, batch_size, input_height, halo_w, kernel_size, dilation, padding")
    yield Case("adv2a-pointer-write-cols", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`uint32_t* const cols = &halo_w; *cols = round_up(*cols, TILE_WIDTH);`")

    # 4. A range-for by reference rounds both extents held in an array.
    e = _site1_with("        std::array<uint32_t, 2> halo_hw = {input_height, input_width};\n"
                    "        for (auto& extent : halo_hw) {\n"
                    "            extent = tt::round_up(extent, tt::constants::TILE_HEIGHT);\n"
                    "        }\n",
                    "halo_input_shard_shape, batch_size, halo_hw[0], halo_hw[1], kernel_size, dilation, padding")
    yield Case("adv2a-range-for-ref-rounds", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`for (auto& extent : halo_hw) extent = round_up(extent, 32);` writes halo_hw's elements")

    # 5. A method writes the padding the estimate is given.
    e = _site1_with("        std::array<uint32_t, 4> halo_padding = padding;\n"
                    "        if (shard_layout == TensorMemoryLayout::WIDTH_SHARDED) {\n"
                    "            // Every width-sharded core holds whole padded rows already: budget no extra padding.\n"
                    "            halo_padding.fill(0);\n"
                    "        }\n",
                    "halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, "
                    "halo_padding")
    yield Case("adv2a-array-fill-padding", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, padding=PADDING), SITE2]},
               note="`halo_padding.fill(0)` under `if (shard_layout == WIDTH_SHARDED)`: a method call writes the "
                    "array the estimate is given")


    # 6. A cap no sweep spec reaches: every checked conv (transposed ones included) has fewer than 4096 rows,
    #    so the capped local equals input_height on every checked path; a taller image's halo op still gets
    #    input_height.
    e = _site1_with("        // Very tall images: the halo of one shard never spans more than 4096 image rows.\n"
                    "        const uint32_t halo_rows = std::min(input_height, 4096u);\n",
                    "halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding")
    yield Case("adv2a-min-cap-beyond-specs", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`const uint32_t halo_rows = std::min(input_height, 4096u);` is equal to input_height on every "
                    "spec the numeric check runs , not on an 8192-row image")

    # 7. A local declared under #ifdef hides the captured `padding` at the call.
    e = _site1_with("#ifdef TTNN_HALO_NO_SIDE_PADDING\n"
                    "        // Experiment: budget the halo as if the image had no left/right padding.\n"
                    "        const std::array<uint32_t, 4> padding = {0, 0, 0, 0};\n"
                    "#endif\n",
                    "halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, padding")
    yield Case("adv2a-ifdef-local-shadows-padding", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, padding=_not(
                   "padding", "{padding[0], padding[1], padding[2], padding[3]}",
                   why="with -DTTNN_HALO_NO_SIDE_PADDING `padding` at the call is the local {0, 0, 0, 0}, the "
                       "halo op gets the conv's padding")), SITE2]},
               defines=((), ("-DTTNN_HALO_NO_SIDE_PADDING",)),
               note="`#ifdef TTNN_HALO_NO_SIDE_PADDING const std::array<uint32_t, 4> padding = {0, 0, 0, 0}; #endif` "
                    "right before the call, inside the lambda that captures the parameter `padding`")

    # 8. A named function that writes through a pointer parameter.
    e = _site1_with("        uint32_t halo_rows = input_height;\n"
                    "        round_rows_to_tile(&halo_rows);\n",
                    "halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding")
    e.sub(CU, "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {",
          "// Rounds a row count up to whole tiles, in place.\n"
          "static void round_rows_to_tile(uint32_t* rows) { *rows = tt::round_up(*rows, tt::constants::TILE_HEIGHT); }\n\n"
          "bool is_1d_conv(uint32_t kernel_width, uint32_t image_width) {")
    yield Case("adv2a-pointer-param-function", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`static void round_rows_to_tile(uint32_t* rows)` called as `round_rows_to_tile(&halo_rows)`")

    # 9. An assignment inside another declaration's initializer.
    e = _site1_with("        uint32_t halo_rows = input_height;\n"
                    "        const bool rows_rounded = (halo_rows = tt::round_up(halo_rows, tt::constants::TILE_HEIGHT)) "
                    "!= input_height;\n"
                    "        log_trace(tt::LogOp, \"halo rows rounded to tiles: {}\", rows_rounded);\n",
                    "halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding")
    yield Case("adv2a-assign-in-decl-initializer", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`const bool rows_rounded = (halo_rows = round_up(halo_rows, 32)) != input_height;`")

    # 10. The branch already passes a stride into auto-shard; conv2d_L1 passes a copy clamped to the kernel by
    #     std::transform, so the auto-shard parameter `stride` is not the stride the halo op gets.
    e = Edit("rev-7136").auto_shard_param("const std::array<uint32_t, 2>& stride", _stride_arg)
    _in_function(e, CONV2D, "conv2d_L1", "            kernel_size,\n            stride,\n",
                 "            kernel_size,\n            shard_stride,\n")
    _in_function(e, CONV2D, "conv2d_L1", L1_AUTO_IF,
                 "    // Auto-shard budgets the rows a window reads: a stride longer than the kernel skips the rest.\n"
                 "    std::array<uint32_t, 2> shard_stride = stride;\n"
                 "    std::transform(shard_stride.begin(), shard_stride.end(), kernel_size.begin(), shard_stride.begin(),\n"
                 "                   [](uint32_t s, uint32_t k) { return std::min(s, k); });\n" + L1_AUTO_IF)
    stride_bad = _not("stride", "{stride[0], stride[1]}", "{stride.at(0), stride.at(1)}",
                      why="auto-shard's `stride` is conv2d_L1's `shard_stride` = min(stride, kernel) per element; "
                          "the halo op gets `stride` (k1 s2, k3 s16 differ)")
    yield Case("adv2a-transform-clamped-stride-param", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, stride_hw=stride_bad), SITE2]},
               thread_args=frozenset({"stride", "params.stride", "shard_stride"}),
               note="auto-shard already takes `stride`; conv2d_L1 passes `shard_stride`, a copy clamped to the kernel "
                    "with std::transform (stride 2 on a 1x1 kernel, stride 16 on 3x3 become 1 and 3)")

    # 11. A copy taken before the parameter is reassigned: the estimate gets the copy.
    e = Edit("rev-7136")
    e.sub(CU, "    auto get_l1_usage_for_sharding = [&](",
          "    // Shards are sized on whole tile rows; the halo still runs on the image itself.\n"
          "    const uint32_t image_height = input_height;\n"
          "    input_height = tt::round_up(input_height, tt::constants::TILE_HEIGHT);\n\n"
          "    auto get_l1_usage_for_sharding = [&](")
    e.sub(CU, SITE1_CALL, SITE1_CALL.replace("batch_size, input_height, input_width", "batch_size, image_height, input_width"))
    yield Case("adv2a-copy-then-reassign-param", "extra: adversarial round 2 (a)", e.files, "migrate",
               {CU: [with_(SITE1, input_hw="{image_height, input_width}"), SITE2]},
               note="auto-shard copies `image_height = input_height`, then rounds `input_height` up to tiles; the "
                    "estimate is given the copy (the image's rows)")


    # 12. The branch already passes a stride into auto-shard, and conv2d_L1 passes the stride it was asked for
    #     (`orig_stride`, taken before folding) next to the folded kernel and input: with folding on, the halo op
    #     runs with stride {1, 1}. No checked spec folds (enable_kernel_stride_folding defaults to false).
    e = Edit("rev-7136").auto_shard_param("const std::array<uint32_t, 2>& stride", _stride_arg)
    _in_function(e, CONV2D, "conv2d_L1", "            kernel_size,\n            stride,\n",
                 "            kernel_size,\n            orig_stride,\n")
    yield Case("adv2a-existing-param-gets-orig-stride", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, stride_hw=_not(
                   "stride", "{stride[0], stride[1]}", "{stride.at(0), stride.at(1)}",
                   why="conv2d_L1 passes `orig_stride` (before folding) with the folded kernel and input; a folded "
                       "conv's halo op gets stride {1, 1}")), SITE2]},
               thread_args=frozenset({"stride", "params.stride", "orig_stride"}),
               note="auto-shard already takes `const std::array<uint32_t, 2>& stride`; conv2d_L1 passes `orig_stride` "
                    "(the requested stride) while kernel_size/input_height/input_width are the folded ones")

    # 13. A function-like macro assigns its argument.
    e = _site1_with("        uint32_t halo_rows = input_height;\n"
                    "        HALO_ROUND_TO_TILE(halo_rows);\n",
                    "halo_input_shard_shape, batch_size, halo_rows, input_width, kernel_size, dilation, padding")
    e.sub(CU, "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;",
          "// Rounds a row or column count up to whole tiles, in place.\n"
          "#define HALO_ROUND_TO_TILE(v) ((v) = tt::round_up((v), tt::constants::TILE_HEIGHT))\n\n"
          "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;")
    yield Case("adv2a-macro-assigns-argument", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`#define HALO_ROUND_TO_TILE(v) ((v) = tt::round_up((v), TILE_HEIGHT))` used as "
                    "`HALO_ROUND_TO_TILE(halo_rows);` before the call")

    # 14. A structured binding by reference writes the array the estimate reads.
    e = _site1_with("        std::array<uint32_t, 2> halo_hw = {input_height, input_width};\n"
                    "        auto& [halo_h, halo_w] = halo_hw;\n"
                    "        halo_h = tt::round_up(halo_h, tt::constants::TILE_HEIGHT);\n",
                    "halo_input_shard_shape, batch_size, halo_hw[0], halo_hw[1], kernel_size, dilation, padding")
    yield Case("adv2a-structured-binding-ref-write", "extra: adversarial round 2 (a)", e.files, "refuse",
               {CU: [with_(SITE1, input_hw=real_hw), SITE2]},
               note="`auto& [halo_h, halo_w] = halo_hw; halo_h = round_up(halo_h, 32);` then the call reads "
                    "halo_hw[0], halo_hw[1]")


FOLDED_STRIDE = frozenset({"folded ? std::array<uint32_t, 2>{1, 1} : orig_stride",
                           "folded ? std::array<uint32_t, 2>({1, 1}) : orig_stride",
                           "folded ? decltype(orig_stride){1, 1} : orig_stride"})
AUTO_SHARD_TPP = HELPER_DIR + "conv2d_auto_shard.tpp"
SITE1_HEAD = "        uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
SITE1_LOG_FMT = "            \"L1 usage for {}: Input {}, Output {}, CBs {}, Halo Output : {}\",\n"
SITE1_LOG_LAST = "            l1_usage.CB_allocation_size,\n            approx_input_size_per_core);\n"
SITE1_ADD = "        l1_usage.tensor_allocation_size += approx_input_size_per_core * input_datum_size;\n"


def _params_call(p: str, indent: str = "        ") -> str:
    """determine_conv_config_for_auto_shard(...) on a ConvDRAMParamters-shaped object `p`."""
    args = [f"{p}.conv_config", f"{p}.mm_conv", f"{p}.batch_size", f"{p}.in_channels", f"{p}.out_channels",
            "output_height", "output_width", f"{p}.kernel_size[1]", f"{p}.input_height", f"{p}.input_width",
            f"{p}.compute_grid", f"{p}.input_layout", f"{p}.input_datatype", f"{p}.output_datatype", "std::nullopt",
            f"{p}.kernel_size", f"{p}.dilation", f"{p}.padding_n4", f"{p}.groups", f"{p}.enable_bias",
            f"{p}.compute_kernel_config"]
    return f"{AUTO}(\n" + ",\n".join(indent + a for a in args) + ")"


def gen_adversarial_round2_b():
    """Round 2 (b): the code structure around the threaded function and the call sites: callers the
    threading has to find or resolve (a template in a `.tpp`, a lambda that receives the kernel, an
    init-capture named `stride`, a capture list, a function pointer, a namespace alias, a header inline
    function), the threading target's signature spelled differently (trailing return type, unnamed
    parameters, an attribute), and call sites in unusual statements or next to misleading text."""
    # 1. A template caller whose body lives in a `.tpp` included at the end of the header (tt-metal has
    #    .tpp files, e.g. tt_metal/api/tt-metalium/experimental/fabric/topology_solver.tpp).
    e = Edit("rev-7136")
    e.sub(CH, "}  // namespace ttnn::operations::conv\n",
          "// Auto-shard for any parameter block with a conv's geometry (DRAM slices, tests).\n"
          "template <typename ConvParams>\n"
          "Conv2dConfig auto_shard_for(const ConvParams& p, uint32_t output_height, uint32_t output_width);\n\n"
          "}  // namespace ttnn::operations::conv\n\n#include \"conv2d_auto_shard.tpp\"\n")
    e.add(AUTO_SHARD_TPP, HEADER_LINE + "\n#pragma once\n\nnamespace ttnn::operations::conv {\n\n"
          "template <typename ConvParams>\n"
          "Conv2dConfig auto_shard_for(const ConvParams& p, uint32_t output_height, uint32_t output_width) {\n"
          f"    return {_params_call('p')};\n}}\n\n}}  // namespace ttnn::operations::conv\n")
    e.sub(CU, "static Conv2dSliceConfig determine_conv2d_slice_config(",
          "// One slice covering the whole output: what auto-shard picks without slicing.\n"
          "[[maybe_unused]] static Conv2dConfig unsliced_auto_shard(const ConvDRAMParamters& params) {\n"
          "    return auto_shard_for(params, params.output_height, params.output_width);\n}\n\n"
          "static Conv2dSliceConfig determine_conv2d_slice_config(")
    yield Case("adv2b-tpp-template-caller", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]}, thread_args=frozenset({"stride", "params.stride", "p.stride"}),
               note="a function template in conv2d_auto_shard.tpp (included by conv2d_utils.hpp) calls auto-shard "
                    "with `p.kernel_size`: it must get `p.stride` too (or the run refuses)")

    # 2. The same kind of file holding a call of the estimate itself.
    e = Edit("rev-7136")
    e.sub(CH, "}  // namespace ttnn::operations::conv\n",
          "// Halo elements of one slice of any parameter block with a conv's geometry.\n"
          "template <typename ConvParams>\n"
          "uint32_t slice_halo_elems(const ConvParams& p, const std::array<uint32_t, 2>& shard, uint32_t h, "
          "uint32_t w);\n\n"
          "}  // namespace ttnn::operations::conv\n\n#include \"conv2d_auto_shard.tpp\"\n")
    e.add(AUTO_SHARD_TPP, HEADER_LINE + "\n#pragma once\n\nnamespace ttnn::operations::conv {\n\n"
          "template <typename ConvParams>\n"
          "uint32_t slice_halo_elems(const ConvParams& p, const std::array<uint32_t, 2>& shard, uint32_t h, "
          "uint32_t w) {\n"
          "    return estimate_halo_output_elems(shard, p.batch_size, h, w, p.kernel_size, p.dilation, p.padding_n4);\n"
          "}\n\n}  // namespace ttnn::operations::conv\n")
    e.sub(CU, "static Conv2dSliceConfig determine_conv2d_slice_config(",
          "// Halo of a whole-input slice (for the log of an unsliced run).\n"
          "[[maybe_unused]] static uint32_t unsliced_halo_elems(const ConvDRAMParamters& params, "
          "const std::array<uint32_t, 2>& shard) {\n"
          "    return slice_halo_elems(params, shard, params.input_height, params.input_width);\n}\n\n"
          "static Conv2dSliceConfig determine_conv2d_slice_config(")
    yield Case("adv2b-tpp-estimate-call", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               note="a function template in conv2d_auto_shard.tpp calls the estimate: it must be migrated (with "
                    "`p.stride`) or the run refused; deleting the estimate leaves it dangling")

    # 3. get_opt_block_config picks the layout through a lambda that receives the kernel, called for the folded
    #    conv ({1, 1} kernel, folded input: stride {1, 1}) or the unfolded one (`stride`).
    e = Edit("rev-7136")
    call = _prep_auto_shard_call(e)
    inner = call.replace("    conv_config = " + AUTO + "(\n", "        return " + AUTO + "(\n")
    for old, new in (("        mm_conv,\n", "        is_matmul,\n"), ("        in_channels,\n", "        channels,\n"),
                     ("        kernel_size[1],\n", "        kernel[1],\n"), ("        input_height,\n", "        height,\n"),
                     ("        input_width,\n", "        width,\n"), ("        kernel_size,\n", "        kernel,\n")):
        assert inner.count(old) == 1, old
        inner = inner.replace(old, new)
    inner = "".join(("    " + ln) if ln.startswith("        ") and not ln.startswith("        return") else ln
                    for ln in inner.splitlines(keepends=True))
    e.sub(PREP, call,
          "    // Auto-shard for the conv the weights are laid out for: the folded one when folding applies.\n"
          "    const auto pick_layout = [&](bool is_matmul, const std::array<uint32_t, 2>& kernel, uint32_t channels,\n"
          "                                 uint32_t height, uint32_t width) {\n"
          + inner +
          "    };\n"
          "    if (conv_config.enable_kernel_stride_folding && stride == kernel_size &&\n"
          "        padding == std::array<uint32_t, 4>{0, 0, 0, 0}) {\n"
          "        // A folded conv is a 1x1, stride-1 conv over the folded input.\n"
          "        conv_config = pick_layout(\n"
          "            true, {1, 1}, in_channels * stride[0] * stride[1], input_height / stride[0], "
          "input_width / stride[1]);\n"
          "    } else {\n"
          "        conv_config = pick_layout(mm_conv, kernel_size, in_channels, input_height, input_width);\n"
          "    }\n")
    yield Case("adv2b-lambda-kernel-param-folded", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               checks=[threaded_arg_in(PREP, "get_opt_block_config", forbidden=frozenset({"stride"}),
                                       what="the lambda runs for the folded conv too ({1, 1} kernel, folded input, "
                                            "stride {1, 1}); `stride` is only the unfolded conv's stride")],
               note="get_opt_block_config calls auto-shard inside a lambda that takes the kernel and input as "
                    "parameters; it is called with the folded geometry ({1, 1} kernel) or the unfolded one, so no "
                    "single name in the lambda is the conv's stride")

    # 4. conv2d_L1's auto-shard call moves into a lambda whose init-capture `stride = orig_stride` (for the log)
    #    hides the (folded) stride parameter.
    e = Edit("rev-7136")
    block = _l1_auto_shard_block(e)
    call = block[len(L1_AUTO_IF):block.rindex("    }\n")]
    _in_function(e, CONV2D, "conv2d_L1", block,
                 "    // Auto-shard, logged with the stride the caller asked for (before any folding).\n"
                 "    const auto pick_shard_layout = [&, stride = orig_stride]() {\n"
                 "        log_debug(tt::LogOp, \"conv2d_L1: auto-shard for requested stride {}\", stride);\n"
                 + _indented(call, 4) +
                 "    };\n" + L1_AUTO_IF + "        pick_shard_layout();\n    }\n")
    yield Case("adv2b-init-capture-shadows-stride", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | FOLDED_STRIDE,
               checks=[threaded_arg_in(CONV2D, "conv2d_L1", allowed=FOLDED_STRIDE,
                                       what="in the lambda `stride` is the init-capture `stride = orig_stride` "
                                            "(the unfolded stride) while the kernel and input passed are folded")],
               note="conv2d_L1 calls auto-shard inside `[&, stride = orig_stride]() {...}`: there `stride` is the "
                    "requested stride; the folded kernel/input need the folded stride")

    # 5. The `using sliding_window::SlidingWindowConfig;` of conv2d_utils.cpp moves into a nested `detail`
    #    namespace (the rest of the file spells the type qualified): it is not visible at either site.
    e = Edit("rev-7136")
    e.sub(CU, "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;\n"
              "using sliding_window::SlidingWindowConfig;\n",
          "namespace ttnn::operations::conv {\nusing sliding_window::ParallelConfig;\n\n"
          "namespace detail {\nusing sliding_window::SlidingWindowConfig;\n\n"
          "// The window of a conv alone: kernel and dilation, nothing about its input.\n"
          "[[maybe_unused]] static SlidingWindowConfig window_only(\n"
          "    const std::array<uint32_t, 2>& kernel_size, const std::array<uint32_t, 2>& dilation) {\n"
          "    return SlidingWindowConfig{.window_hw = {kernel_size[0], kernel_size[1]},\n"
          "                               .dilation_hw = {dilation[0], dilation[1]}};\n}\n"
          "}  // namespace detail\n")
    e.sub(CU, "        SlidingWindowConfig sliding_window_config{",
          "        sliding_window::SlidingWindowConfig sliding_window_config{", count=2)
    e.sub(CU, "    const SlidingWindowConfig& sliding_window_config,",
          "    const sliding_window::SlidingWindowConfig& sliding_window_config,")
    yield Case("adv2b-using-in-nested-namespace", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="`using sliding_window::SlidingWindowConfig;` sits in `namespace detail` only; the sites are in "
                    "ttnn::operations::conv, where the type must be spelled `sliding_window::SlidingWindowConfig`")

    # 6. conv2d_L1's auto-shard call in a lambda with an explicit capture list that has no `stride`.
    e = Edit("rev-7136")
    block = _l1_auto_shard_block(e)
    call = block[len(L1_AUTO_IF):block.rindex("    }\n")]
    _in_function(e, CONV2D, "conv2d_L1", block,
                 "    const auto pick_shard_layout = [&conv_config, &input_tensor, &kernel_size, &dilation, &padding_n4,\n"
                 "                                    &compute_config, &bias_tensor, device, mm_conv, batch_size,\n"
                 "                                    in_channels, out_channels, output_height, output_width,\n"
                 "                                    input_height, input_width, output_dtype, groups]() {\n"
                 + _indented(call, 4) +
                 "    };\n" + L1_AUTO_IF + "        pick_shard_layout();\n    }\n")
    yield Case("adv2b-explicit-capture-caller", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="conv2d_L1 calls auto-shard inside a lambda whose explicit capture list lacks `stride`: passing "
                    "`stride` there needs it captured (or a refusal)")

    # 7. conv2d_DRAM calls auto-shard through a function pointer held in a local.
    e = Edit("rev-7136")
    text = e.text(CONV2D)
    a = text.index("        conv_config = " + AUTO + "(\n", text.index("Tensor conv2d_DRAM("))
    dram_call = text[a:text.index(");\n", a) + 3]
    e.sub(CONV2D, dram_call, dram_call.replace(AUTO + "(", "auto_shard(", 1))
    e.sub(CONV2D, "    Tensor input_tensor = input_tensor_;\n    fold_input_tensor_if_required(",
          "    Tensor input_tensor = input_tensor_;\n"
          "    // One name for the layout picker, so a test build can point it at a fake.\n"
          "    const auto auto_shard = &" + AUTO + ";\n"
          "    fold_input_tensor_if_required(")
    yield Case("adv2b-function-pointer-caller", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               note="conv2d_DRAM calls auto-shard through `const auto auto_shard = &determine_conv_config_for_auto_"
                    "shard;`: the call through the pointer needs the new argument too")

    # 8. prepare_conv2d_weights.cpp calls it through a namespace alias.
    e = Edit("rev-7136")
    e.sub(PREP, "using sliding_window::ParallelConfig;\n",
          "using sliding_window::ParallelConfig;\nnamespace cu = ttnn::operations::conv;\n")
    e.sub(PREP, "    conv_config = " + AUTO + "(\n", "    conv_config = cu::" + AUTO + "(\n")
    yield Case("adv2b-namespace-alias-caller", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="get_opt_block_config calls `cu::determine_conv_config_for_auto_shard(...)` with "
                    "`namespace cu = ttnn::operations::conv;`")

    # 9. The definition has a trailing return type; the header declaration is `[[nodiscard]]` with unnamed
    #    parameters.
    e = Edit("rev-7136")
    e.sub(CU, "Conv2dConfig " + AUTO + "(\n    const Conv2dConfig& conv_config,\n",
          "auto " + AUTO + "(\n    const Conv2dConfig& conv_config,\n")
    e.sub(CU, "    const DeviceComputeKernelConfig& compute_config) {\n    // A layout picked by the caller is kept as is.\n",
          "    const DeviceComputeKernelConfig& compute_config) -> Conv2dConfig {\n"
          "    // A layout picked by the caller is kept as is.\n")
    t = e.text(CH)
    a = t.index("Conv2dConfig " + AUTO + "(")
    decl = t[a:t.index(");\n", a) + 3]
    e.sub(CH, decl, "[[nodiscard]]\n" + re.sub(r"(\S) \w+(,\n|\);)", r"\1\2", decl))
    yield Case("adv2b-trailing-return-unnamed-decl", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="auto-shard is defined as `auto determine_conv_config_for_auto_shard(...) -> Conv2dConfig` and "
                    "declared `[[nodiscard]]` with unnamed parameters")

    # 10. An inline function in the header calls it on a parameter block named `slice`.
    e = Edit("rev-7136")
    e.sub(CH, "uint32_t estimate_halo_output_elems(",
          "// Auto-shard for one DRAM slice's parameter block.\n"
          "inline Conv2dConfig auto_shard_for_slice(\n"
          "    const ConvDRAMParamters& slice, uint32_t output_height, uint32_t output_width) {\n"
          f"    return {_params_call('slice')};\n}}\n\n"
          "uint32_t estimate_halo_output_elems(")
    yield Case("adv2b-header-inline-caller", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]}, thread_args=frozenset({"stride", "params.stride", "slice.stride"}),
               note="an inline function in conv2d_utils.hpp calls auto-shard with `slice.kernel_size`")

    # 11. Site 1 as the body of an `if` without braces.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL,
          "        // A matmul conv reads its input in place: no halo.\n"
          "        uint32_t approx_input_size_per_core = 0;\n"
          "        if (!is_mm_conv)\n"
          "            approx_input_size_per_core = estimate_halo_output_elems(\n"
          f"                {SITE1_ARGS});\n")
    yield Case("adv2b-braceless-if-site", "extra: adversarial callers and call sites (round 2)", e.files, "migrate",
               {CU: [SITE1, SITE2]}, note="site 1 is the whole body of `if (!is_mm_conv)` (no braces)")

    # 12. Site 1's height argument differs between #ifdef branches inside the argument list.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL,
          SITE1_HEAD + "            halo_input_shard_shape,\n            batch_size,\n"
          "#ifdef TTNN_HALO_TILE_ROWS\n"
          "            tt::round_up(input_height, tt::constants::TILE_HEIGHT),\n"
          "#else\n"
          "            input_height,\n"
          "#endif\n"
          "            input_width,\n            kernel_size,\n            dilation,\n            padding);\n")
    yield Case("adv2b-pp-split-estimate-args", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [SITE1, SITE2]}, defines=((), ("-DTTNN_HALO_TILE_ROWS",)),
               note="site 1's height argument is chosen by #ifdef/#else inside the argument list")

    # 13. A raw string literal next to site 1 spells an estimate call, a `//`, quotes and `stride`.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL,
          "        // Kept for `--explain`; the text names the formula, it is not code.\n"
          "        static constexpr const char* halo_formula = R\"md(estimate_halo_output_elems(shard, n, h, w, k, d, "
          "p) =\n"
          "    (rows + (d*k - 1) * repeats) * (w + pad) * C   // \"approx\", ignores the stride)md\";\n"
          + SITE1_CALL +
          "        log_trace(tt::LogOp, \"{}\", halo_formula);\n")
    yield Case("adv2b-raw-string-near-site", "extra: adversarial callers and call sites (round 2)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="a multi-line raw string literal right before site 1 spells `estimate_halo_output_elems(`, "
                    "`//`, quotes and `stride`")

    # 14. Site 1 as the condition declaration of an `if` whose init-statement declares the padding it uses.
    e = Edit("rev-7136")
    e.sub(CU, SITE1_CALL + "\n", "")
    e.sub(CU, SITE1_LOG_FMT, "            \"L1 usage for {}: Input {}, Output {}, CBs {}\",\n")
    e.sub(CU, SITE1_LOG_LAST, "            l1_usage.CB_allocation_size);\n")
    e.sub(CU, SITE1_ADD,
          "        // A matmul conv reads no padding, so its halo has none either.\n"
          "        if (const std::array<uint32_t, 4> halo_padding =\n"
          "                is_mm_conv ? std::array<uint32_t, 4>{0, 0, 0, 0} : padding;\n"
          "            const uint32_t approx_input_size_per_core = estimate_halo_output_elems(\n"
          "                halo_input_shard_shape, batch_size, input_height, input_width, kernel_size, dilation, "
          "halo_padding)) {\n"
          "            l1_usage.tensor_allocation_size += approx_input_size_per_core * input_datum_size;\n"
          "        }\n")
    yield Case("adv2b-if-init-declares-padding", "extra: adversarial callers and call sites (round 2)", e.files,
               "refuse", {CU: [with_(SITE1, padding=one_of("halo_padding", "{halo_padding[0], halo_padding[1], "
                                                           "halo_padding[2], halo_padding[3]}")), SITE2]},
               note="`if (const std::array<uint32_t, 4> halo_padding = ...; const uint32_t approx = estimate(..., "
                    "halo_padding))`: a config built before the `if` cannot see halo_padding")


# ---- adversarial round 3 (b): callers and declarations of the threaded function ---------------

UNIT_STRIDE = frozenset({"{1, 1}", "std::array<uint32_t, 2>{1, 1}"})


def threaded_calls_in(rel: str, fn: str, per_call: list[frozenset[str]], what: str = "") -> Callable:
    """A check: the auto-shard calls of function `fn` of `rel`, in text order, pass one of `per_call[i]` for the
    threaded stride (nothing is checked when no parameter was threaded)."""
    def check(case: Case, before: dict, after: dict) -> str | None:
        if CH not in after or auto_shard_params(after[CH].decode()) == auto_shard_params(before[CH].decode()):
            return None
        got = [a for f, a in threaded_by_function(before, after, rel) if f == fn]
        if len(got) != len(per_call):
            return f"{rel}:{fn}: {len(got)} auto-shard calls after the migration, expected {len(per_call)}"
        for i, (a, allowed) in enumerate(zip(got, per_call)):
            if a not in {norm(x) for x in allowed}:
                return (f"{rel}:{fn}: call {i + 1} is given {a!r} for the stride, expected one of {sorted(allowed)} "
                        f"({what})")
        return None
    return check



SLICE_LAMBDA = "compute_l1_usage_for_slice"
SLICE_SIZES_7136 = ("        uint32_t input_slice_height = (input_slice_height_end - input_slice_height_start) + pad_top + "
                    "pad_bottom;\n")
SITE2_ARGS_HEAD = ("        uint32_t approx_max_halo_bytes = estimate_halo_output_elems(\n"
                   "                                             shard_shape,\n"
                   "                                             params.batch_size,\n"
                   "                                             input_slice_height,\n")
SLICE_HW = one_of("{slice_input_hw[0], slice_input_hw[1]}")


def slice_call_args(after: dict) -> list[list[str]]:
    """The arguments (normalized) of every call of the slice lambda in the migrated CU."""
    text = code_only(after.get(CU, b"").decode("utf-8", "surrogateescape"))
    out = []
    for s, o, c in _calls(text, SLICE_LAMBDA):
        out.append([norm(text[a:b]) for a, b in _split_args(text, o, c)])
    return out


def slice_args_without(pattern: str, why: str) -> Callable[[Case, dict, dict], str | None]:
    """A check: no argument passed to the slice lambda (the slice extents / padding a migration threads in)
    matches `pattern` (a regex on the normalized text)."""
    def check(case: Case, before: dict, after: dict) -> str | None:
        for args in slice_call_args(after):
            for a in args:
                if re.search(pattern, a):
                    return f"{SLICE_LAMBDA} is passed {a!r}: {why}"
        return None
    return check


def argument_kept(rel: str, fn: str, call_index: int, before_index: int, what: str = "") -> Callable:
    """A check: argument `before_index` (an index into the call before the migration) of the `call_index`-th
    auto-shard call of `fn` in `rel` is still passed, spelled the same, after the migration."""
    def calls_in(text: str) -> list[list[str]]:
        out = []
        for s, o, c in _calls(text, AUTO):
            fns = list(re.finditer(r"^[A-Za-z_][^\n;=(]*?\b(\w+)\(\n", text[:s], re.M))
            if fns and fns[-1].group(1) == fn:
                out.append([norm(text[x:y]) for x, y in _split_args(text, o, c)])
        return out

    def check(case: Case, before: dict, after: dict) -> str | None:
        b = calls_in(before[rel].decode())[call_index]
        a_all = calls_in(after[rel].decode())
        if len(a_all) <= call_index:
            return f"{rel}:{fn}: auto-shard call {call_index + 1} is gone"
        a = a_all[call_index]
        want = b[before_index]
        if len(a) == len(b):
            got = a[before_index]
        else:  # one argument threaded after the kernel (index 15)
            got = a[before_index + 1] if before_index > 15 else a[before_index]
        if got != want:
            return f"{rel}:{fn}: call {call_index + 1} now passes {got!r} where it passed {want!r} ({what})"
        return None
    return check


RB_HEAD = """// Layouts for a residual block's main conv and its projection shortcut, which read the same input.
[[maybe_unused]]
static std::pair<Conv2dConfig, Conv2dConfig> residual_block_auto_shard(
    const Tensor& input_tensor,
    MeshDevice* device,
    uint32_t in_channels,
    uint32_t out_channels,
    uint32_t batch_size,
    uint32_t input_height,
    uint32_t input_width,
    std::array<uint32_t, 2> kernel_size,
    std::array<uint32_t, 2> stride,
    std::array<uint32_t, 4> padding_n4,
    SHORTCUT_PARAMS,
    const DeviceComputeKernelConfig& compute_config) {
    const std::array<uint32_t, 2> dilation = {1, 1};
    const uint32_t output_height =
        conv_output_dim(input_height, padding_n4[0] + padding_n4[1], kernel_size[0], stride[0], dilation[0]);
    const uint32_t output_width =
        conv_output_dim(input_width, padding_n4[2] + padding_n4[3], kernel_size[1], stride[1], dilation[1]);
    const Conv2dConfig main_config = determine_conv_config_for_auto_shard(
        Conv2dConfig(),
        false,
        batch_size,
        in_channels,
        out_channels,
        output_height,
        output_width,
        kernel_size[1],
        input_height,
        input_width,
        device->compute_with_storage_grid_size(),
        input_tensor.layout(),
        input_tensor.dtype(),
        input_tensor.dtype(),
        input_tensor.memory_config(),
        kernel_size,
        dilation,
        padding_n4,
        1,
        false,
        compute_config);
SHORTCUT_PRE    // The unpadded shortcut reads the same input; its output is added to the main conv's.
    const Conv2dConfig shortcut_config = determine_conv_config_for_auto_shard(
        Conv2dConfig(),
        false,
        batch_size,
        in_channels,
        out_channels,
        conv_output_dim(input_height, 0, SK[0], SS[0], 1),
        conv_output_dim(input_width, 0, SK[1], SS[1], 1),
        SK[1],
        input_height,
        input_width,
        device->compute_with_storage_grid_size(),
        input_tensor.layout(),
        input_tensor.dtype(),
        input_tensor.dtype(),
        input_tensor.memory_config(),
        SK,
        dilation,
        std::array<uint32_t, 4>{0, 0, 0, 0},
        1,
        false,
        compute_config);
    return {main_config, shortcut_config};
}

"""
CONV_OUTPUT_DIM = "static uint32_t conv_output_dim(uint32_t input, uint32_t pad_sum, uint32_t kernel, uint32_t stride, uint32_t dilation) {\n"
AFTER_CONV_OUTPUT_DIM = "Tensor conv2d_L1(\n"


def _residual_block(params: str, pre: str, sk: str, ss: str) -> str:
    return (RB_HEAD.replace("    SHORTCUT_PARAMS,\n", params).replace("SHORTCUT_PRE", pre)
            .replace("SK", sk).replace("SS", ss))


def _auto_shard_call_lines(call: str, replace: dict[str, str]) -> str:
    for old, new in replace.items():
        assert call.count(old) == 1, old
        call = call.replace(old, new)
    return call


def gen_adversarial_round3_b():
    """Round 3 (b): callers of the threaded function where the value named like a stride is not the stride of
    the conv the call describes (a second conv of the same function, a kernel read through an alias, a swapped
    1D geometry, a regular-conv path inside conv_transpose2d, a struct of the following pool, a loop counter),
    declarations the threading has to find (a redeclaration in a .cpp, a friend, defaults from `dilation` on,
    a parameter under #ifdef), and callers in disabled code."""
    # 1. A residual block sizes its main conv and its projection shortcut in one function; the shortcut's kernel
    #    and stride are parameters of their own (`shortcut_stride` is not spelled like a conv stride).
    e = Edit("rev-7136")
    e.sub(CONV2D, AFTER_CONV_OUTPUT_DIM, _residual_block(
        "    std::array<uint32_t, 2> shortcut_kernel_size,\n    std::array<uint32_t, 2> shortcut_stride,\n", "",
        "shortcut_kernel_size", "shortcut_stride") + AFTER_CONV_OUTPUT_DIM)
    yield Case("adv3b-second-conv-own-stride-param", "extra: adversarial callers and declarations (round 3)",
               e.files, "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride", "shortcut_stride"}),
               checks=[threaded_calls_in(CONV2D, "residual_block_auto_shard",
                                         [frozenset({"stride"}), frozenset({"shortcut_stride"})],
                                         what="the second call describes the shortcut conv: kernel "
                                              "shortcut_kernel_size, stride shortcut_stride")],
               note="residual_block_auto_shard calls auto-shard for the main conv (kernel_size, stride) and for the "
                    "projection shortcut (shortcut_kernel_size, shortcut_stride): the second call must pass "
                    "shortcut_stride")

    # 2. The shortcut's geometry in a struct, its kernel passed as the member (the stride is its sibling).
    shortcut_struct = ("// A residual block's projection shortcut (a strided 1x1 conv, usually).\n"
                       "struct ProjectionShortcut {\n    std::array<uint32_t, 2> kernel_size;\n"
                       "    std::array<uint32_t, 2> stride;\n};\n\n")
    e = Edit("rev-7136")
    e.sub(CONV2D, AFTER_CONV_OUTPUT_DIM, shortcut_struct + _residual_block(
        "    const ProjectionShortcut& shortcut,\n", "", "shortcut.kernel_size", "shortcut.stride")
        + AFTER_CONV_OUTPUT_DIM)
    yield Case("adv3b-second-conv-struct-member", "extra: adversarial callers and declarations (round 3)",
               e.files, "migrate", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride", "shortcut.stride"}),
               checks=[threaded_calls_in(CONV2D, "residual_block_auto_shard",
                                         [frozenset({"stride"}), frozenset({"shortcut.stride"})],
                                         what="the second call passes shortcut.kernel_size")],
               note="the shortcut's kernel is passed as `shortcut.kernel_size`: its stride is `shortcut.stride`")

    # 3. The same, the kernel read through a reference alias first.
    e = Edit("rev-7136")
    e.sub(CONV2D, AFTER_CONV_OUTPUT_DIM, shortcut_struct + _residual_block(
        "    const ProjectionShortcut& shortcut,\n",
        "    const std::array<uint32_t, 2>& shortcut_kernel = shortcut.kernel_size;\n",
        "shortcut_kernel", "shortcut.stride") + AFTER_CONV_OUTPUT_DIM)
    yield Case("adv3b-second-conv-kernel-alias", "extra: adversarial callers and declarations (round 3)",
               e.files, "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride", "shortcut.stride"}),
               checks=[threaded_calls_in(CONV2D, "residual_block_auto_shard",
                                         [frozenset({"stride"}), frozenset({"shortcut.stride"})],
                                         what="the second call's kernel is `shortcut_kernel`, an alias of "
                                              "shortcut.kernel_size; `stride` is the main conv's")],
               note="`const auto& shortcut_kernel = shortcut.kernel_size;` is passed as the second call's kernel; "
                    "the function's `stride` parameter is the main conv's")

    # 4. conv2d_L1 auto-shards a width-only 1D conv as the equivalent height-only one: kernel, dilation, padding
    #    and extents are passed swapped; so must the stride be.
    e = Edit("rev-7136")
    block = _l1_auto_shard_block(e)
    call = block[len(L1_AUTO_IF):block.rindex("    }\n")]
    swapped = _auto_shard_call_lines(call, {
        "            output_height,\n            output_width,\n":
            "            output_width,\n            output_height,\n",
        "            kernel_size[1],\n": "            kernel_size[0],\n",
        "            input_height,\n            input_width,\n": "            input_width,\n            input_height,\n",
        "            kernel_size,\n": "            std::array<uint32_t, 2>{kernel_size[1], kernel_size[0]},\n",
        "            dilation,\n": "            std::array<uint32_t, 2>{dilation[1], dilation[0]},\n",
        "            padding_n4,\n":
            "            std::array<uint32_t, 4>{padding_n4[2], padding_n4[3], padding_n4[0], padding_n4[1]},\n"})
    _in_function(e, CONV2D, "conv2d_L1", block,
                 L1_AUTO_IF +
                 "        if (input_height == 1 && kernel_size[0] == 1) {\n"
                 "            // A conv along the width only: shard the equivalent conv along the height (a W x 1\n"
                 "            // image), which height sharding splits evenly.\n"
                 + _indented(swapped, 4) +
                 "        } else {\n" + _indented(call, 4) + "        }\n    }\n")
    swapped_stride = frozenset({"{stride[1], stride[0]}", "std::array<uint32_t, 2>{stride[1], stride[0]}"})
    yield Case("adv3b-swapped-1d-geometry", "extra: adversarial callers and declarations (round 3)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | swapped_stride,
               checks=[threaded_calls_in(CONV2D, "conv2d_L1", [swapped_stride, frozenset({"stride"})],
                                         what="the first call passes the transposed geometry (kernel "
                                              "{kernel_size[1], kernel_size[0]}, W x H input): its stride is "
                                              "{stride[1], stride[0]}")],
               note="conv2d_L1 auto-shards a width-only 1D conv (input_height == 1, kernel_size[0] == 1) as the "
                    "height-only conv with kernel, dilation, padding and extents swapped")

    # 5. conv_transpose2d: a stride-1 transposed conv is a regular conv over the input itself with padding
    #    d(k - 1) - p (+ output padding); that path keeps its padding (it is no zero-inserted input).
    e = Edit("rev-7136")
    t = e.text(TRANSPOSE)
    a = t.index("    if (!conv_config.shard_layout.has_value()) {\n")
    tblock = t[a:t.index("\n    }\n", a) + len("\n    }\n")]
    tcall = tblock[len("    if (!conv_config.shard_layout.has_value()) {\n"):tblock.rindex("    }\n")]
    regular = _auto_shard_call_lines(tcall, {
        "            full_input_height,\n            full_input_width,\n":
            "            input_height,\n            input_width,\n",
        "            sliding_window::get_pair_n4_padding(padding),\n":
            "            std::array<uint32_t, 4>{\n"
            "                dilation[0] * (kernel_size[0] - 1) - padding[0],\n"
            "                dilation[0] * (kernel_size[0] - 1) - padding[0] + output_padding[0],\n"
            "                dilation[1] * (kernel_size[1] - 1) - padding[1],\n"
            "                dilation[1] * (kernel_size[1] - 1) - padding[1] + output_padding[1]},\n"})
    e.sub(TRANSPOSE, tblock,
          "    if (!conv_config.shard_layout.has_value() && stride[0] == 1 && stride[1] == 1) {\n"
          "        // Stride 1 inserts no zeros: the conv runs over the input itself, with the kernel flipped and\n"
          "        // padding d * (k - 1) - p on each side (plus the output padding at the end).\n"
          + regular +
          "    } else if (!conv_config.shard_layout.has_value()) {\n" + tcall + "    }\n")
    yield Case("adv3b-transpose-stride1-regular-path", "extra: adversarial callers and declarations (round 3)",
               e.files, "migrate", {CU: [SITE1, SITE2]},
               checks=[threaded_calls_in(TRANSPOSE, "conv_transpose2d",
                                         [frozenset({"stride"}) | UNIT_STRIDE, frozenset({"stride"}) | UNIT_STRIDE]),
                       argument_kept(TRANSPOSE, "conv_transpose2d", 0, 17,
                                     what="the stride-1 path sizes a regular conv over the unexpanded input: its "
                                          "halo is padded by d(k - 1) - p, not {0, 0, 0, 0}")],
               note="conv_transpose2d calls auto-shard twice: for stride 1 as the equivalent regular conv over "
                    "input_height x input_width with padding d(k-1)-p (kept), else on the zero-inserted full input")

    # 6. A fused stem: a stride-1 conv followed by a pool whose window is a struct parameter. The conv's stride
    #    is 1 by construction; `pool.stride` is the pool's.
    e = Edit("rev-7136")
    e.sub(CONV2D, AFTER_CONV_OUTPUT_DIM,
          "// The pool that follows the conv of a fused conv + pool stem.\n"
          "struct StemPool {\n    std::array<uint32_t, 2> kernel_size;\n    std::array<uint32_t, 2> stride;\n};\n\n"
          "// Layout of a stem conv (stride 1, `same` padding) that a pool follows in the same op.\n"
          "[[maybe_unused]]\n"
          "static Conv2dConfig stem_conv_auto_shard(\n"
          "    const Tensor& input_tensor,\n    MeshDevice* device,\n    uint32_t in_channels,\n"
          "    uint32_t out_channels,\n    uint32_t batch_size,\n    uint32_t input_height,\n"
          "    uint32_t input_width,\n    std::array<uint32_t, 2> kernel_size,\n    const StemPool& pool,\n"
          "    const DeviceComputeKernelConfig& compute_config) {\n"
          "    const std::array<uint32_t, 4> padding_n4 = {\n"
          "        kernel_size[0] / 2, kernel_size[0] / 2, kernel_size[1] / 2, kernel_size[1] / 2};\n"
          "    log_debug(tt::LogOp, \"stem: {}x{} pool after the conv\", pool.kernel_size[0], pool.kernel_size[1]);\n"
          "    return determine_conv_config_for_auto_shard(\n"
          "        Conv2dConfig(),\n        false,\n        batch_size,\n        in_channels,\n        out_channels,\n"
          "        input_height,\n        input_width,\n        kernel_size[1],\n        input_height,\n"
          "        input_width,\n        device->compute_with_storage_grid_size(),\n        input_tensor.layout(),\n"
          "        input_tensor.dtype(),\n        input_tensor.dtype(),\n        input_tensor.memory_config(),\n"
          "        kernel_size,\n        std::array<uint32_t, 2>{1, 1},\n        padding_n4,\n        1,\n"
          "        false,\n        compute_config);\n}\n\n" + AFTER_CONV_OUTPUT_DIM)
    yield Case("adv3b-stem-conv-pool-struct", "extra: adversarial callers and declarations (round 3)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | UNIT_STRIDE,
               checks=[threaded_calls_in(CONV2D, "stem_conv_auto_shard", [UNIT_STRIDE],
                                         what="the stem conv runs with stride 1 (its output is input_height x "
                                              "input_width); `pool.stride` is the following pool's")],
               note="stem_conv_auto_shard sizes a stride-1 conv (output = input extents) and takes the following "
                    "pool's window as `const StemPool& pool` (kernel_size, stride)")

    # 7. get_opt_block_config retries with coarser activation blocks; the loop counter is named `stride`.
    e = Edit("rev-7136")
    pcall = _prep_auto_shard_call(e)
    e.sub(PREP, pcall,
          "    // Coarser activation blocks until a layout fits: `stride` steps the block height in tiles.\n"
          "    for (uint32_t stride = 1; stride <= 4 && !conv_config.shard_layout.has_value(); stride *= 2) {\n"
          "        conv_config.act_block_h_override = stride * tt::constants::TILE_HEIGHT;\n"
          + _indented(pcall, 4) + "    }\n")
    yield Case("adv3b-loop-counter-named-stride", "extra: adversarial callers and declarations (round 3)",
               e.files, "refuse", {CU: [SITE1, SITE2]},
               checks=[threaded_arg_in(PREP, "get_opt_block_config", forbidden=frozenset({"stride"}),
                                       what="inside the loop `stride` is the uint32_t block-height step")],
               note="get_opt_block_config calls auto-shard in `for (uint32_t stride = 1; ...; stride *= 2)`, which "
                    "hides the conv's stride parameter")

    # 8. A debug-only parameter under #ifdef before kernel_size, in the declaration, the definition and
    #    every caller.
    e = Edit("rev-7136")
    tag = ("    std::optional<const MemoryConfig> input_memory_config,\n#ifdef TTNN_AUTO_SHARD_TRACE\n"
           "    const char* caller_tag,\n#endif\n")
    e.sub(CH, "    std::optional<const MemoryConfig> input_memory_config,\n", tag)
    e.sub(CU, "    std::optional<const MemoryConfig> input_memory_config,\n    const std::array<uint32_t, 2>& kernel_size,\n",
          tag + "    const std::array<uint32_t, 2>& kernel_size,\n")
    e.sub(CU, "    // A layout picked by the caller is kept as is.\n",
          "#ifdef TTNN_AUTO_SHARD_TRACE\n    log_debug(tt::LogOp, \"auto-shard for {}\", caller_tag);\n#endif\n"
          "    // A layout picked by the caller is kept as is.\n")
    for rel in (CONV2D, CU, PREP, TRANSPOSE):
        text = e.text(rel)
        for s, o, c in reversed(_calls(text, AUTO)):
            spans = _split_args(text, o, c)
            x, y = spans[14]
            ind = re.match(r"\s*", text[x:y]).group(0).replace("\n", "")
            label = rel.rsplit("/", 1)[1]
            text = text[:y + 1] + f"\n#ifdef TTNN_AUTO_SHARD_TRACE\n{ind}\"{label}\",\n#endif" + text[y + 1:]
        e.files[rel] = text.encode()
    yield Case("adv3b-ifdef-param-before-kernel", "extra: adversarial callers and declarations (round 3)", e.files,
               "migrate", {CU: [SITE1, SITE2]}, defines=((), ("-DTTNN_AUTO_SHARD_TRACE",)),
               note="auto-shard takes `const char* caller_tag` under #ifdef TTNN_AUTO_SHARD_TRACE before kernel_size; "
                    "every caller passes its file name under the same #ifdef")

    # 9. A caller under `#if TTNN_LEGACY_AUTO_SHARD` (off unless defined to 1): compiled in that build.
    e = Edit("rev-7136")
    e.sub(CONV2D, AFTER_CONV_OUTPUT_DIM,
          "#if TTNN_LEGACY_AUTO_SHARD\n"
          "// The old entry point, kept for one release behind a build flag.\n"
          "Conv2dConfig legacy_auto_shard(\n"
          "    const Tensor& input_tensor,\n    MeshDevice* device,\n    uint32_t in_channels,\n"
          "    uint32_t out_channels,\n    uint32_t batch_size,\n    uint32_t input_height,\n"
          "    uint32_t input_width,\n    uint32_t output_height,\n    uint32_t output_width,\n"
          "    std::array<uint32_t, 2> kernel_size,\n    std::array<uint32_t, 2> stride,\n"
          "    std::array<uint32_t, 4> padding_n4,\n    const DeviceComputeKernelConfig& compute_config) {\n"
          "    log_debug(tt::LogOp, \"legacy auto-shard, stride {}\", stride);\n"
          "    return determine_conv_config_for_auto_shard(\n"
          "        Conv2dConfig(),\n        false,\n        batch_size,\n        in_channels,\n        out_channels,\n"
          "        output_height,\n        output_width,\n        kernel_size[1],\n        input_height,\n"
          "        input_width,\n        device->compute_with_storage_grid_size(),\n        input_tensor.layout(),\n"
          "        input_tensor.dtype(),\n        input_tensor.dtype(),\n        input_tensor.memory_config(),\n"
          "        kernel_size,\n        std::array<uint32_t, 2>{1, 1},\n        padding_n4,\n        1,\n"
          "        false,\n        compute_config);\n}\n#endif\n\n" + AFTER_CONV_OUTPUT_DIM)
    yield Case("adv3b-caller-under-if-flag", "extra: adversarial callers and declarations (round 3)", e.files,
               "refuse", {CU: [SITE1, SITE2]}, defines=((), ("-DTTNN_LEGACY_AUTO_SHARD=1",)),
               note="a caller (with `stride` in scope) inside `#if TTNN_LEGACY_AUTO_SHARD`: with the flag it must "
                    "compile too (pass `stride`), or the run refuses")

    # 10. prepare_conv2d_weights.cpp redeclares auto-shard (unnamed parameters) before its caller.
    e = Edit("rev-7136")
    t = e.text(CH)
    a = t.index("Conv2dConfig " + AUTO + "(")
    decl = t[a:t.index(");\n", a) + 3]
    redecl = re.sub(r"(\S) \w+(,\n|\);)", r"\1\2", decl)
    e.sub(PREP, "using sliding_window::ParallelConfig;\n",
          "using sliding_window::ParallelConfig;\n\n// Declared here too: this file only needs the auto-shard entry "
          "point.\n" + redecl)
    yield Case("adv3b-redeclared-in-caller-file", "extra: adversarial callers and declarations (round 3)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="prepare_conv2d_weights.cpp redeclares determine_conv_config_for_auto_shard with unnamed "
                    "parameters: both declarations need the new parameter")

    # 11. A friend declaration grants the definition access to a stats object's private counter.
    e = Edit("rev-7136")
    t = e.text(CH)
    a = t.index("Conv2dConfig " + AUTO + "(")
    decl = t[a:t.index(");\n", a) + 3]
    friend = "".join("    " + ln if ln.strip() else ln for ln in decl.splitlines(keepends=True))
    e.sub(CH, "// Everything needed to size one DRAM-sliced conv2d.\n",
          "// How often auto-shard ran (read by the op's profiler).\nclass AutoShardStats {\npublic:\n"
          "    uint32_t calls() const { return calls_; }\n\nprivate:\n    uint32_t calls_ = 0;\n\n"
          "    friend " + friend.lstrip() + "};\n\ninline AutoShardStats auto_shard_stats;\n\n"
          "// Everything needed to size one DRAM-sliced conv2d.\n")
    e.sub(CU, "    // A layout picked by the caller is kept as is.\n",
          "    auto_shard_stats.calls_++;\n    // A layout picked by the caller is kept as is.\n")
    yield Case("adv3b-friend-declaration", "extra: adversarial callers and declarations (round 3)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               note="class AutoShardStats befriends determine_conv_config_for_auto_shard, whose definition "
                    "increments its private counter: the friend declaration needs the new parameter too")

    # 12. Defaults from `dilation` on; get_opt_block_config omits everything after the kernel.
    e = Edit("rev-7136")
    e.sub(CH, "    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& dilation,\n"
              "    const std::array<uint32_t, 4>& padding,\n    uint32_t groups,\n    bool enable_bias,\n"
              "    const DeviceComputeKernelConfig& compute_config);\n\n// Everything",
          "    const std::array<uint32_t, 2>& kernel_size,\n    const std::array<uint32_t, 2>& dilation = {1, 1},\n"
          "    const std::array<uint32_t, 4>& padding = {0, 0, 0, 0},\n    uint32_t groups = 1,\n"
          "    bool enable_bias = false,\n"
          "    const DeviceComputeKernelConfig& compute_config = DeviceComputeKernelConfig());\n\n// Everything")
    e.sub(PREP, "        kernel_size,\n        dilation,\n        padding,\n        groups,\n        has_bias,\n"
                "        compute_config);\n", "        kernel_size);\n")
    e.sub(PREP, "    std::array<uint32_t, 2> dilation,\n    std::array<uint32_t, 4> padding,\n",
          "    [[maybe_unused]] std::array<uint32_t, 2> dilation,\n    [[maybe_unused]] std::array<uint32_t, 4> padding,\n")
    yield Case("adv3b-defaults-from-dilation", "extra: adversarial callers and declarations (round 3)", e.files,
               "migrate", {CU: [SITE1, SITE2]},
               checks=[threaded_arg_in(PREP, "get_opt_block_config", allowed=frozenset({"stride"}))],
               note="dilation, padding, groups, enable_bias and compute_config have defaults; get_opt_block_config "
                    "passes nothing after kernel_size (the stride goes right after it, before the defaults)")

    # 13. conv2d_DRAM sizes width slices on the transposed image (the slicing code walks rows): kernel,
    #     dilation, padding and extents go in swapped, so must the stride.
    e = Edit("rev-7136")
    t = e.text(CONV2D)
    a = t.index("    if (!conv_config.shard_layout.has_value()) {\n", t.index("Tensor conv2d_DRAM("))
    dblock = t[a:t.index("\n    }\n", a) + len("\n    }\n")]
    dcall = dblock[len("    if (!conv_config.shard_layout.has_value()) {\n"):dblock.rindex("    }\n")]
    dswapped = _auto_shard_call_lines(dcall, {
        "            output_height,\n            output_width,\n":
            "            output_width,\n            output_height,\n",
        "            kernel_size[1],\n": "            kernel_size[0],\n",
        "            input_height,\n            input_width,\n": "            input_width,\n            input_height,\n",
        "            kernel_size,\n": "            std::array<uint32_t, 2>{kernel_size[1], kernel_size[0]},\n",
        "            dilation,\n": "            std::array<uint32_t, 2>{dilation[1], dilation[0]},\n",
        "            padding_n4,\n":
            "            std::array<uint32_t, 4>{padding_n4[2], padding_n4[3], padding_n4[0], padding_n4[1]},\n"})
    e.sub(CONV2D, dblock,
          "    if (!conv_config.shard_layout.has_value() &&\n"
          "        dram_slice_config.slice_type == Conv2dSliceConfig::SliceType::DRAM_WIDTH) {\n"
          "        // Width slices are column strips of the image: size them as row strips of the transposed image.\n"
          + dswapped +
          "    } else if (!conv_config.shard_layout.has_value()) {\n" + dcall + "    }\n")
    yield Case("adv3b-dram-width-slices-transposed", "extra: adversarial callers and declarations (round 3)",
               e.files, "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | swapped_stride,
               checks=[threaded_calls_in(CONV2D, "conv2d_DRAM", [swapped_stride, frozenset({"stride"})],
                                         what="the width-slice call passes the transposed geometry: its stride is "
                                              "{stride[1], stride[0]}")],
               note="conv2d_DRAM auto-shards DRAM_WIDTH slicing on the transposed image (kernel, dilation, padding "
                    "and extents swapped in the call)")

    # 14. Large depthwise kernels run as a vertical K x 1 pass and a horizontal 1 x K pass; conv2d_L1 sizes the
    #     vertical one (its halo is the larger), which strides along the height only.
    e = Edit("rev-7136")
    block = _l1_auto_shard_block(e)
    call = block[len(L1_AUTO_IF):block.rindex("    }\n")]
    vertical = _auto_shard_call_lines(call, {
        "            output_width,\n": "            input_width,\n",
        "            kernel_size[1],\n": "            1,\n",
        "            kernel_size,\n": "            std::array<uint32_t, 2>{kernel_size[0], 1},\n",
        "            dilation,\n": "            std::array<uint32_t, 2>{dilation[0], 1},\n",
        "            padding_n4,\n": "            std::array<uint32_t, 4>{padding_n4[0], padding_n4[1], 0, 0},\n"})
    _in_function(e, CONV2D, "conv2d_L1", block,
                 L1_AUTO_IF +
                 "        if (groups == in_channels && kernel_size[0] >= 7 && kernel_size[1] >= 7) {\n"
                 "            // Large depthwise kernels run as a K x 1 pass, then a 1 x K pass: the vertical pass has\n"
                 "            // the larger halo, so it picks the layout both use.\n"
                 + _indented(vertical, 4) +
                 "        } else {\n" + _indented(call, 4) + "        }\n    }\n")
    vstride = frozenset({"{stride[0], 1}", "std::array<uint32_t, 2>{stride[0], 1}"})
    yield Case("adv3b-separable-vertical-pass", "extra: adversarial callers and declarations (round 3)", e.files,
               "refuse", {CU: [SITE1, SITE2]},
               thread_args=frozenset({"stride", "params.stride"}) | vstride,
               checks=[threaded_calls_in(CONV2D, "conv2d_L1", [vstride, frozenset({"stride"})],
                                         what="the first call sizes the K x 1 vertical pass (output width = "
                                              "input_width): it strides along the height only, {stride[0], 1}")],
               note="conv2d_L1 sizes a large depthwise conv's vertical K x 1 pass: kernel {kernel_size[0], 1}, "
                    "padding {top, bottom, 0, 0}, output width input_width")

    # 15. The same regular-conv path of conv_transpose2d, taken for stride-1 transposed convs with large kernels
    #     only (their zero-inserted input would be the larger one).
    e = Edit("rev-7136")
    e.sub(TRANSPOSE, tblock,
          "    if (!conv_config.shard_layout.has_value() && stride[0] == 1 && stride[1] == 1 && kernel_size[0] > 7 &&\n"
          "        kernel_size[1] > 7) {\n"
          "        // Stride 1 inserts no zeros: a large kernel runs as a regular conv over the input itself, with the\n"
          "        // kernel flipped and padding d * (k - 1) - p on each side (plus the output padding at the end).\n"
          + regular +
          "    } else if (!conv_config.shard_layout.has_value()) {\n" + tcall + "    }\n")
    yield Case("adv3b-transpose-large-kernel-regular-path", "extra: adversarial callers and declarations (round 3)",
               e.files, "migrate", {CU: [SITE1, SITE2]},
               checks=[threaded_calls_in(TRANSPOSE, "conv_transpose2d",
                                         [frozenset({"stride"}) | UNIT_STRIDE, frozenset({"stride"}) | UNIT_STRIDE]),
                       argument_kept(TRANSPOSE, "conv_transpose2d", 0, 17,
                                     what="the large-kernel stride-1 path sizes a regular conv over the unexpanded "
                                          "input: its halo is padded by d(k - 1) - p, not {0, 0, 0, 0}")],
               note="as adv3b-transpose-stride1-regular-path, the regular-conv call taken only for kernels larger "
                    "than 7x7")


def gen_adversarial_round3_a():
    """Round 3 (a): the DRAM-slice site (site 2) on rev-7136, rev-5702 and rev-45ec: the slice geometry
    changed right before the estimate or in the slice loop (extents grown or shrunk for some slices,
    pads that carry over between iterations, halo rows added, the whole input's height, a symmetric
    padding), values from a copy of the params struct, and conditions only later slices meet. The
    numeric check runs the slice loop once (one slice), so a change that only later slices see is
    invisible to it; at rev-45ec (no slice padding in scope) a description larger than the slice is
    reported, not failed."""
    # 1. rev-7136: interior height slices extend their input end by the window's reach before the padded
    #    sizes are computed. The halo op of an interior slice reads [o_s*s - p, (o_e-1)*s - p + dk)
    #    (clamped): the tool's `input_slice_height_end - input_slice_height_start` is the extended extent.
    grow = ("        if (dram_slice_config.slice_type == Conv2dSliceConfig::SliceType::DRAM_HEIGHT &&\n"
            "            output_slice_height_end < params.output_height) {\n"
            "            // An interior slice also keeps the next slice's first window rows resident.\n"
            "            input_slice_height_end = std::min<uint32_t>(\n"
            "                input_slice_height_end + params.dilation[0] * (params.kernel_size[0] - 1), "
            "params.input_height);\n"
            "        }\n")
    extent_bad = slice_args_without(r"input_slice_height_end-input_slice_height_start",
                                    "input_slice_height_end was extended by (k-1)*d rows for interior slices; "
                                    "the halo op of the slice reads the unextended rows")
    for rev, sites in (("rev-7136", BASE_SITES["rev-7136"]), ("rev-5702", BASE_SITES["rev-5702"])):
        e = Edit(rev)
        e.sub(CU, SLICE_SIZES_7136, grow + SLICE_SIZES_7136)
        yield Case(f"adv3a-interior-slice-end-extended-{rev[4:]}", "extra: adversarial round 3 (a)", e.files,
                   "refuse", {CU: [sites[0], with_(sites[1], input_hw=SLICE_HW)]}, base=rev, checks=[extent_bad],
                   note="in the slice loop, interior DRAM_HEIGHT slices (output end < output height) get "
                        "`input_slice_height_end = min(end + d*(k-1), H)` before the padded sizes: the extents at "
                        "the lambda call are not the slice's (only the last slice, or one slice, is unchanged)")

    # 2. rev-7136: the pads are hoisted out of the loop (the unsliced axis keeps the conv's padding), so the
    #    tile rounding's `pad_right += extra * stride` accumulates over height slices.
    e = Edit("rev-7136")
    e.sub(CU, "    uint32_t additional_padded_width = 0;\n\n",
          "    uint32_t additional_padded_width = 0;\n"
          "    // The axis that is not sliced keeps the conv's own padding in every slice.\n"
          "    int pad_top = params.padding_n4[0], pad_bottom = params.padding_n4[1];\n"
          "    int pad_left = params.padding_n4[2], pad_right = params.padding_n4[3];\n\n")
    e.sub(CU, "        int pad_top, pad_bottom, pad_left, pad_right;\n\n", "")
    e.sub(CU, "            pad_left = params.padding_n4[2];\n            pad_right = params.padding_n4[3];\n", "")
    e.sub(CU, "            pad_top = params.padding_n4[0];\n            pad_bottom = params.padding_n4[1];\n", "")
    yield Case("adv3a-hoisted-pads-accumulate", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1, with_(SITE2, input_hw=SLICE_HW, padding=one_of("slice_padding"))]},
               checks=[slice_args_without(r"\bpad_right\b",
                                          "pad_right is declared before the loop and each height slice adds its "
                                          "tile rounding to it: slice k's pad_right holds k roundings, its halo "
                                          "op gets one")],
               note="`int pad_top = padding_n4[0], ...` declared before the slice loop and only the sliced axis "
                    "reassigned in it: for DRAM_HEIGHT with a tile-rounded output width, pad_right grows by "
                    "extra*stride every iteration (the first iteration is right)")

    # 3. rev-7136: rows the previous height slice read are taken as resident in L1: a loop-carried end moves
    #    each later slice's input start down.
    e = Edit("rev-7136")
    e.sub(CU, "    uint32_t additional_padded_width = 0;\n\n",
          "    uint32_t additional_padded_width = 0;\n"
          "    // Input rows the previous height slice already brought into L1.\n"
          "    uint32_t rows_in_l1_end = 0;\n\n")
    e.sub(CU, SLICE_SIZES_7136,
          "        if (dram_slice_config.slice_type == Conv2dSliceConfig::SliceType::DRAM_HEIGHT) {\n"
          "            // Rows the previous slice read are still resident: this slice only reads the rest.\n"
          "            input_slice_height_start = std::max(input_slice_height_start, rows_in_l1_end);\n"
          "            rows_in_l1_end = input_slice_height_end;\n"
          "        }\n" + SLICE_SIZES_7136)
    yield Case("adv3a-previous-slice-rows-resident", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1, with_(SITE2, input_hw=SLICE_HW)]},
               checks=[slice_args_without(r"input_slice_height_end-input_slice_height_start",
                                          "from the second height slice on, input_slice_height_start is the "
                                          "previous slice's end: the extent misses the overlapping window rows "
                                          "the slice's halo op reads")],
               note="a loop-carried `rows_in_l1_end` raises each later height slice's input start to the previous "
                    "slice's input end before the padded sizes are computed (the first iteration is unchanged)")

    # 4. rev-45ec: the estimate is given the slice height plus the window's reach.
    e = Edit("rev-45ec")
    e.sub(CU, SITE2_ARGS_HEAD,
          "        // A height slice's halo also spans the window rows it shares with the next slice.\n"
          "        const uint32_t halo_slice_height =\n"
          "            height_slicing ? input_slice_height + params.dilation[0] * (params.kernel_size[0] - 1)\n"
          "                           : input_slice_height;\n"
          + SITE2_ARGS_HEAD.replace("input_slice_height,\n", "halo_slice_height,\n"))
    yield Case("adv3a-45ec-halo-rows-added", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1_A, with_(SITE2_45EC, input_hw="{input_slice_height, input_slice_width}")]},
               base="rev-45ec",
               note="`halo_slice_height = height_slicing ? input_slice_height + d*(k-1) : input_slice_height` "
                    "given to the estimate: the halo op gets the slice (input_slice_height), the window's reach is "
                    "what the precise function adds itself")

    # 5. rev-45ec: the lambda's by-value parameter is grown right before the estimate.
    e = Edit("rev-45ec")
    e.sub(CU, SITE2_ARGS_HEAD,
          "        if (height_slicing && input_slice_height < params.input_height) {\n"
          "            // An interior height slice also holds the window rows it shares with the next slice.\n"
          "            input_slice_height += params.dilation[0] * (params.kernel_size[0] - 1);\n"
          "        }\n" + SITE2_ARGS_HEAD)
    yield Case("adv3a-45ec-slice-param-grown", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1_A, with_(SITE2_45EC, input_hw=_not(
                   "{input_slice_height, input_slice_width}",
                   why="at the call input_slice_height holds the slice plus d*(k-1) rows (the by-value parameter was "
                       "grown right before); the halo op gets the slice"))]},
               base="rev-45ec",
               note="`input_slice_height += d*(k-1)` (by-value lambda parameter) under `if (height_slicing && "
                    "input_slice_height < params.input_height)`, right before the estimate")

    # 6. rev-45ec: the estimate is given the whole image height for height slices.
    e = Edit("rev-45ec")
    e.sub(CU, SITE2_ARGS_HEAD,
          "        // All height slices share one halo buffer: size it for the full image height.\n"
          + SITE2_ARGS_HEAD.replace("input_slice_height,\n", "params.input_height,\n"))
    yield Case("adv3a-45ec-whole-input-height", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1_A, with_(SITE2_45EC, input_hw="{input_slice_height, input_slice_width}")]},
               base="rev-45ec",
               note="the estimate in the slice lambda is given `params.input_height` (the whole input's) instead of "
                    "input_slice_height: the halo op of a height slice gets the slice's rows")

    # 7. rev-45ec / rev-7136: a symmetric padding (the larger side of each axis) given to the estimate.
    sym = ("        // The estimate models a symmetric halo: take the larger side of each axis.\n"
           "        const std::array<uint32_t, 4> halo_padding = {\n"
           "            std::max(params.padding_n4[0], params.padding_n4[1]),\n"
           "            std::max(params.padding_n4[0], params.padding_n4[1]),\n"
           "            std::max(params.padding_n4[2], params.padding_n4[3]),\n"
           "            std::max(params.padding_n4[2], params.padding_n4[3])};\n")
    e = Edit("rev-45ec")
    e.sub(CU, SITE2_ARGS_HEAD, sym + SITE2_ARGS_HEAD)
    e.sub(CU, SITE2_PAD, SITE2_PAD.replace("params.padding_n4)", "halo_padding)"))
    yield Case("adv3a-45ec-symmetric-padding", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1_A, with_(SITE2_45EC, padding=one_of("params.padding_n4", "{params.padding_n4[0], "
                                                               "params.padding_n4[1], params.padding_n4[2], "
                                                               "params.padding_n4[3]}"))]},
               base="rev-45ec",
               note="`halo_padding` = the larger of top/bottom and of left/right, given to the estimate: the halo op "
                    "gets params.padding_n4 (they differ for asymmetric padding; every checked spec is symmetric)")
    e = Edit("rev-7136")
    e.sub(CU, SITE2_ARGS_HEAD, sym + SITE2_ARGS_HEAD)
    e.sub(CU, SITE2_PAD, SITE2_PAD.replace("params.padding_n4)", "halo_padding)"))
    yield Case("adv3a-7136-symmetric-padding", "extra: adversarial round 3 (a)", e.files, "migrate",
               {CU: [SITE1, SITE2]},
               note="the same symmetric `halo_padding` at rev-7136: the slice's own padding replaces whatever the "
                    "estimate was given")

    # 8. rev-7136: a local named `input_hw` in the slice lambda that is the whole input's (the existing
    #    sliding_window_config describes the whole input).
    e = Edit("rev-7136")
    e.sub(CU, SITE2_ARGS_HEAD,
          "        // The halo window slides over the input the config above describes.\n"
          "        const auto input_hw = sliding_window_config.input_hw;\n"
          + SITE2_ARGS_HEAD.replace("input_slice_height,\n", "input_hw.first,\n"))
    e.sub(CU, "                                             input_slice_width,\n"
              "                                             params.kernel_size,\n",
          "                                             input_hw.second,\n"
              "                                             params.kernel_size,\n")
    yield Case("adv3a-7136-input-hw-local-whole-input", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1, with_(SITE2, input_hw=SLICE_HW)]},
               note="`const auto input_hw = sliding_window_config.input_hw;` (the whole input: {params.input_height, "
                    "params.input_width}) given to the estimate in the slice lambda")


    # 9. rev-7136: a copy of params with its stride set to {1, 1} feeds the estimate's kernel, dilation and
    #    padding; the halo op of the slice runs with params.stride.
    est_copy = ("        uint32_t approx_max_halo_bytes = estimate_halo_output_elems(\n"
                "                                             shard_shape,\n"
                "                                             halo_params.batch_size,\n"
                "                                             input_slice_height,\n"
                "                                             input_slice_width,\n"
                "                                             halo_params.kernel_size,\n"
                "                                             halo_params.dilation,\n"
                "                                             halo_params.padding_n4) *\n")
    est_orig = ("        uint32_t approx_max_halo_bytes = estimate_halo_output_elems(\n"
                "                                             shard_shape,\n"
                "                                             params.batch_size,\n"
                "                                             input_slice_height,\n"
                "                                             input_slice_width,\n"
                "                                             params.kernel_size,\n"
                "                                             params.dilation,\n"
                "                                             params.padding_n4) *\n")
    e = Edit("rev-7136")
    e.sub(CU, est_orig,
          "        // The slice reader already applies the stride: the halo of a slice is read at stride 1.\n"
          "        ConvDRAMParamters halo_params = params;\n"
          "        halo_params.stride = {1, 1};\n" + est_copy)
    stride_ok = pair_of("params.stride")
    yield Case("adv3a-params-copy-stride-one", "extra: adversarial round 3 (a)", e.files, "refuse",
               {CU: [SITE1, with_(SITE2, window_hw=one_of("{halo_params.kernel_size[0], halo_params.kernel_size[1]}",
                                                          "{params.kernel_size[0], params.kernel_size[1]}"),
                                  dilation_hw=one_of("{halo_params.dilation[0], halo_params.dilation[1]}",
                                                     "{params.dilation[0], params.dilation[1]}"),
                                  batch_size=one_of("halo_params.batch_size", "params.batch_size"),
                                  stride_hw=stride_ok)]},
               note="`ConvDRAMParamters halo_params = params; halo_params.stride = {1, 1};` in the slice lambda, the "
                    "estimate given halo_params' kernel/dilation/padding: the halo op runs with params.stride")

    # 10. The same copy, its stride squared only for non-square strides (every checked spec has a square one).
    e = Edit("rev-7136")
    e.sub(CU, est_orig,
          "        ConvDRAMParamters halo_params = params;\n"
          "        if (params.stride[0] != params.stride[1]) {\n"
          "            // The halo model handles one stride for both axes: budget the finer one.\n"
          "            const uint32_t finer = std::min(params.stride[0], params.stride[1]);\n"
          "            halo_params.stride = {finer, finer};\n"
          "        }\n"
          "        log_trace(tt::LogOp, \"slice halo budgeted at stride {}\", halo_params.stride);\n" + est_copy)
    yield Case("adv3a-params-copy-square-stride", "extra: adversarial round 3 (a)", e.files, "migrate",
               {CU: [SITE1, with_(SITE2, window_hw=one_of("{halo_params.kernel_size[0], halo_params.kernel_size[1]}",
                                                          "{params.kernel_size[0], params.kernel_size[1]}"),
                                  dilation_hw=one_of("{halo_params.dilation[0], halo_params.dilation[1]}",
                                                     "{params.dilation[0], params.dilation[1]}"),
                                  batch_size=one_of("halo_params.batch_size", "params.batch_size"),
                                  stride_hw=stride_ok)]},
               note="`halo_params.stride = {finer, finer}` under `if (params.stride[0] != params.stride[1])`: a "
                    "non-square-stride slice's halo op runs with params.stride; no checked spec has one")

    # 11. rev-5702: the first slice is skipped when there are several (a control: every call the loop
    #     makes still passes that iteration's own extents and pads).
    e = Edit("rev-5702")
    e.sub(CU, "        slice_index++;\n        output_slice_dim_start = output_slice_dim_end;\n",
          "        slice_index++;\n        output_slice_dim_start = output_slice_dim_end;\n"
          "        if (slice_index == 1 && dram_slice_config.num_slices > 1) {\n"
          "            // The first of several slices holds the top padding and is sized by conv2d_L1 itself.\n"
          "            continue;\n"
          "        }\n")
    yield Case("adv3a-5702-first-slice-skipped", "extra: adversarial round 3 (a)", e.files, "migrate",
               {CU: BASE_SITES["rev-5702"]}, base="rev-5702",
               note="`if (slice_index == 1 && num_slices > 1) continue;` in the 5702 slice loop: the lambda is "
                    "not run for the first of several slices; each call still passes its own slice geometry")


def gen_controls():
    """The unmodified fixtures: the yardstick for everything above."""
    for rev in ("rev-7136", "rev-45ec", "rev-5702"):
        yield Case(f"control-{rev}", "control: unmodified fixture", dict(_base(rev)), "migrate",
                   {CU: BASE_SITES[rev]}, base=rev, note=f"fixtures/{rev}/before as committed")


GENERATORS = (gen_controls, gen_pair_stride, gen_expression_args, gen_case_label, gen_loops, gen_macro, gen_ifelse,
              gen_stride_not_conv_stride, gen_stride_other_name, gen_pool, gen_same_config_name, gen_truncated,
              gen_defaults_overloads, gen_extra, gen_adversarial_locals, gen_adversarial_wrong,
              gen_adversarial_round2_a, gen_adversarial_round2_b, gen_adversarial_round3_a, gen_adversarial_round3_b)


def cases() -> list[Case]:
    out = [c for g in GENERATORS for c in g()]
    ids = [c.id for c in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out


# ---- compiling, with one compile per distinct translation unit --------------------------------

_COMPILE_CACHE: dict[str, str] = {}
_COMPILE_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()
_INCLUDE = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.M)


def _closure(files: dict[str, bytes], rel: str) -> list[str]:
    """`rel` and every quoted include it reaches (resolved like -I root/ttnn/cpp -I <file dir>)."""
    seen, todo = [], [rel]
    while todo:
        r = todo.pop()
        if r in seen or r not in files:
            continue
        seen.append(r)
        here = r.rsplit("/", 1)[0] if "/" in r else ""
        for inc in _INCLUDE.findall(files[r]):
            inc = inc.decode()
            for cand in (f"{here}/{inc}" if here else inc, f"ttnn/cpp/{inc}"):
                cand = os.path.normpath(cand)
                if cand in files:
                    todo.append(cand)
                    break
    return sorted(seen)


def compile_errors(files: dict[str, bytes], skip=frozenset(), defines=((),)) -> list[str]:
    """Stub-header compile of every .cpp (each distinct translation unit is compiled once per process)."""
    errors = []
    for rel in sorted(r for r in files if r.endswith(".cpp") and r not in skip):
        for flags in defines:
            tu = _closure(files, rel)
            h = hashlib.sha256(repr(flags).encode() + rel.encode())
            for r in tu:
                h.update(r.encode() + b"\0" + files[r] + b"\0")
            key = h.hexdigest()
            with _GUARD:
                lock = _COMPILE_LOCKS.setdefault(key, threading.Lock())
            with lock:
                if key not in _COMPILE_CACHE:
                    _COMPILE_CACHE[key] = _compile(files, tu, rel, flags)
            if _COMPILE_CACHE[key]:
                errors.append(f"{rel} {' '.join(flags)}: {_COMPILE_CACHE[key]}")
    return errors


_STD_HEADERS = ("algorithm", "array", "cmath", "cstddef", "cstdint", "functional", "initializer_list", "map",
                "optional", "stdexcept", "string", "tuple", "type_traits", "unordered_map", "utility", "variant",
                "vector", "sys/types.h")
_PCH: list[str] = []


def _pch_flags() -> list[str]:
    """A precompiled header of the standard headers the fixtures include (built once per process; a
    translation unit is 3x faster with it). Only standard headers are in it, so it can hide nothing but a
    missing standard #include; when it cannot be built, compiles run without it."""
    with _GUARD:
        if not _PCH:
            d = Path(tempfile.mkdtemp(prefix="hm-pch-"))
            hdr = d / "hm_std.hpp"
            hdr.write_text("".join(f"#include <{h}>\n" for h in _STD_HEADERS))
            res = subprocess.run(["g++", "-std=c++20", "-Wall", "-Werror", "-x", "c++-header", str(hdr), "-o",
                                  str(hdr) + ".gch"], capture_output=True)
            _PCH.append(str(hdr) if res.returncode == 0 else "")
    return ["-include", _PCH[0]] if _PCH[0] else []


def _compile(files, tu, rel, flags) -> str:
    pch = _pch_flags()
    with tempfile.TemporaryDirectory(prefix="hm-cc-") as d:
        root = Path(d)
        for r in tu:
            p = root / r
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(files[r])
        src = root / rel
        cmd = ["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Werror", *pch, *flags, "-I", str(root / "ttnn/cpp"),
               "-I", str(src.parent), str(src)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode == 0:
            return ""
        first = next((ln for ln in res.stderr.splitlines() if "error" in ln), res.stderr.strip()[:300])
        return first.replace(str(root) + "/", "")


def before_compile_errors(case: Case) -> list[str]:
    return compile_errors(case.files, case.no_compile, case.defines)


# ---- reading the migrated text back ----------------------------------------------------------

def code_only(text: str) -> str:
    """Comments and string/char literals blanked (same length, newlines kept)."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text[i] in "\"'" and not (text[i] == "'" and i and text[i - 1].isalnum()):
            q, j = text[i], i + 1
            while j < n and text[j] != q and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def _end_of_expr(code: str, i: int, stop=";") -> int:
    depth = 0
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and c in stop:
            return i
        i += 1
    return i


def _designated(code: str, o: int, c: int) -> dict[str, str]:
    out = {}
    for a, b in _split_args(code, o, c):
        m = re.match(r"\s*\.(\w+)\s*(=)?\s*", code[a:b])
        if m:
            rest = code[a + m.end():b].strip()
            if not m.group(2) and rest.startswith("{"):
                rest = rest  # `.f{e}`
            out[m.group(1)] = rest
    return out


@dataclass
class Rewritten:
    line: int
    config: str
    shard: str
    fields: dict[str, str]
    decl_pos: int | None
    call_pos: int
    problem: str = ""


def rewritten_calls(text: str) -> list[Rewritten]:
    code = code_only(text)
    out = []
    for m in re.finditer(r"\b" + PRECISE + r"\s*\(", code):
        o = m.end() - 1
        try:
            c = _match_close(code, o)
        except Exception:  # noqa: BLE001
            continue
        args = _split_args(code, o, c)
        first = code[args[0][0]:args[0][1]].strip()
        if re.match(r"(const\s+)?(\w+::)*SlidingWindowConfig\s*&", first):
            continue  # declaration or definition
        line = code.count("\n", 0, m.start()) + 1
        shard = code[args[1][0]:args[1][1]].strip() if len(args) > 1 else ""
        r = Rewritten(line, first, shard, {}, None, m.start())
        if "{" in first:  # an inline temporary
            b = first.index("{")
            base = args[0][0] + code[args[0][0]:].index("{")
            r.fields = _designated(code, base, _match_close(code, base))
            _ = b
        elif re.fullmatch(r"\w+", first):
            decls = list(re.finditer(r"\b(?:\w+::)*SlidingWindowConfig\s+" + first + r"\b\s*([;{=(])", code[:m.start()]))
            if not decls:
                r.problem = f"no declaration of config `{first}` before the call"
            else:
                d = decls[-1]
                r.decl_pos = d.start()
                after = d.end() - 1
                if d.group(1) in "{=":
                    br = code.find("{", after)
                    if br >= 0 and br < m.start():
                        r.fields.update(_designated(code, br, _match_close(code, br)))
                for a in re.finditer(r"\b" + first + r"\s*\.\s*(\w+)\s*=(?!=)", code[d.end():m.start()]):
                    s = d.end() + a.end()
                    r.fields[a.group(1)] = code[s:_end_of_expr(code, s)].strip()
        else:
            r.problem = f"config argument `{first}` is neither a name nor a braced temporary"
        out.append(r)
    return out


def _introduced_locals(before_text: str, after_text: str) -> dict[str, str]:
    """Locals the migration introduced (`T name = expr;` in after whose name is absent before)."""
    out = {}
    code = code_only(after_text)
    for m in re.finditer(r"(?:^|[;{}])\s*(?:const\s+)?(?:auto|[\w:<>, ]+?)\s*&?\s+(\w+)\s*=(?!=)\s*", code, re.M):
        name = m.group(1)
        if re.search(r"\b" + name + r"\b", before_text):
            continue
        out[name] = code[m.end():_end_of_expr(code, m.end())].strip()
    return out


def _inline(expr: str, locals_: dict[str, str]) -> list[str]:
    forms = [expr]
    for name, init in locals_.items():
        new = []
        for f in forms:
            if re.search(r"(?<![\w.])" + name + r"\b", f):
                new.append(re.sub(r"(?<![\w.])" + name + r"\b", lambda _m: f"({init})", f))
        forms += new
    return forms


def _pp_path(code_lines_text: str, pos: int) -> tuple:
    """The preprocessor branch holding pos: a path of (directive offset, branch number)."""
    stack = []
    for m in re.finditer(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b", code_lines_text[:pos], re.M):
        kw = m.group(1)
        if kw.startswith("if"):
            stack.append((m.start(), 0))
        elif kw in ("elif", "else") and stack:
            stack[-1] = (stack[-1][0], stack[-1][1] + 1)
        elif kw == "endif" and stack:
            stack.pop()
    return tuple(stack)


def _innermost_loop(code: str, pos: int) -> tuple[int, int] | None:
    best = None
    for m in re.finditer(r"\b(for|while|do)\b", code[:pos]):
        i = m.end()
        if m.group(1) == "do":
            j = code.find("{", i)
            if j < 0:
                continue
            end = _match_close(code, j)
            wm = re.compile(r"\s*while\s*\(").match(code, end + 1)
            if wm:
                end = _match_close(code, wm.end() - 1)
        else:
            p = code.find("(", i)
            if p < 0 or code[i:p].strip():
                continue
            try:
                hc = _match_close(code, p)
            except Exception:  # noqa: BLE001
                continue
            if m.group(1) == "while" and code[hc + 1:].lstrip().startswith(";"):
                continue  # the tail of a do/while
            k = hc + 1
            while k < len(code) and code[k] in " \t\r\n":
                k += 1
            end = _match_close(code, k) if k < len(code) and code[k] == "{" else _end_of_expr(code, k)
        if m.start() < pos <= end and (best is None or m.start() > best[0]):
            best = (m.start(), end)
    return best


def _mentions(text: str) -> list[int]:
    code = code_only(text)
    return [code.count("\n", 0, m.start()) + 1 for m in re.finditer(r"\b" + EST + r"\b", code)]


def check_site(oracle: dict, r: Rewritten, locals_: dict[str, str]) -> str | None:
    if r.problem:
        return r.problem
    got_shard = {norm(f) for f in _inline(r.shard, locals_)}
    if not got_shard & oracle["shard"]:
        return f"shard argument {norm(r.shard)!r} not in {sorted(oracle['shard'])}"
    for fname, want in oracle["fields"].items():
        expr = r.fields.get(fname)
        forms = [DEFAULT] if expr is None else [norm(f) for f in _inline(expr, locals_)]
        if callable(want):
            errs = [want(f) for f in forms]
            if all(errs):
                return f"{fname}: {errs[0]}"
        elif not set(forms) & want:
            return f"{fname} = {forms[0]!r}, expected one of {sorted(want)}"
    return None


# ---- grading ---------------------------------------------------------------------------------

@dataclass
class Grade:
    case: str
    grade: str   # correct | safe refusal | safe refusal (gap) | wrong
    reason: str = ""
    exit: int | None = None


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts and rel.parts[0] == ".git":
            continue
        if p.is_file() or p.is_symlink():
            out[str(rel)] = p.read_bytes() if p.is_file() else b"->" + os.readlink(p).encode()
    return out


GIT = ["git", "-c", "user.name=corpus", "-c", "user.email=corpus@example.com", "-c", "commit.gpgsign=false"]


def prepare(case: Case, root: Path) -> Path:
    case.write(root)
    subprocess.run(GIT + ["init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-q", "-m", "branch state"], cwd=root, check=True)
    return root


def tool_python(repo: Path) -> str:
    """$HM_TOOL_PYTHON, else the checkout's own venv when it has one (its dependencies may differ from ours), else this Python."""
    if os.environ.get("HM_TOOL_PYTHON"):
        return os.environ["HM_TOOL_PYTHON"]
    own = Path(repo) / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def run_tool(root: Path, repo: Path) -> subprocess.CompletedProcess:
    # A clean environment: inside the test suite, other tests may have left variables (colour, CI, GitHub,
    # halo-migrate settings) in os.environ that would change what the tool prints.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_CACHE_HOME", "GIT_CONFIG_NOSYSTEM")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = str(repo)
    return subprocess.run([tool_python(repo), "-m", "migrator", "apply", str(root)], capture_output=True, text=True,
                          env=env, cwd=str(root), timeout=900)


def grade(case: Case, repo: Path | str = REPO, workdir: Path | None = None,
          edit_after: Callable[[Path], None] | None = None) -> Grade:
    """Run the tool under test on the case and grade the outcome (see the module docstring).
    `edit_after` (tests only) edits the migrated tree before it is graded."""
    repo = Path(repo)
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="hm-oc-")) if own else workdir
    try:
        root = prepare(case, workdir / case.id)
        before = snapshot(root)
        res = run_tool(root, repo)
        if edit_after and res.returncode == 0:
            edit_after(root)
        after = snapshot(root)
        return _grade(case, res, before, after)
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


# What a precise refusal names, per class (informational: an imprecise refusal is still safe).
_HINTS = {"call in a loop condition": r"loop|while|for\b|iteration",
          "loop whose variables change per iteration": r"loop|while|for\b|iteration",
          "#define calls the estimate": r"macro|#define", "pool halo (not a conv2d halo)": r"pool|not a conv2d halo",
          "file that does not parse": r"pars|truncat|syntax", "default arguments on the threading target": r"default",
          "overload of the threading target": r"overload"}


def _grade(case: Case, res, before: dict, after: dict) -> Grade:
    rc, err = res.returncode, res.stderr
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if "Traceback" in err or "internal error" in err.lower():
        return Grade(case.id, "wrong", f"traceback / internal error: {lines[-1][:200] if lines else ''}", rc)
    if rc == 2:
        if after != before:
            changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k))
            return Grade(case.id, "wrong", f"refused but the tree changed: {changed[:3]}", rc)
        if len(lines) != 1:
            return Grade(case.id, "wrong", f"refusal is {len(lines)} stderr lines", rc)
        if case.expect == "refuse":
            hint = case.refuse_hint or _HINTS.get(case.cls, "")
            imprecise = bool(hint) and not re.search(hint, lines[0], re.I)
            return Grade(case.id, "safe refusal", ("imprecise: " if imprecise else "") + lines[0][:300], rc)
        return Grade(case.id, "safe refusal (gap)", lines[0][:300], rc)
    if rc != 0:
        return Grade(case.id, "wrong", f"exit {rc}: {(lines or [''])[-1][:200]}", rc)
    if case.refuse_only:
        return Grade(case.id, "wrong", "migrated (exit 0) a case that has no correct migration: " + case.note, rc)
    reason = graded_migration(case, before, after)
    return Grade(case.id, "wrong" if reason else "correct", reason or "", rc)


def graded_migration(case: Case, before: dict, after: dict) -> str | None:
    for rel, data in sorted(after.items()):
        if rel.endswith(CPP_EXT):
            lines = _mentions(data.decode("utf-8", "surrogateescape"))
            if lines:
                return f"exit 0 but {rel}:{lines[0]} still mentions {EST}"
    errs = compile_errors(after, case.no_compile, case.defines)
    if errs:
        return f"does not compile: {errs[0][:300]}"
    for rel, data in sorted(after.items()):
        if not rel.endswith(CPP_EXT) or PRECISE.encode() not in data:
            continue
        text = data.decode("utf-8", "surrogateescape")
        calls = rewritten_calls(text)
        want = case.sites.get(rel, [])
        if len(calls) != len(want):
            return f"{rel}: {len(calls)} rewritten calls, the oracle expects {len(want)}"
        locals_ = _introduced_locals(before.get(rel, b"").decode("utf-8", "surrogateescape"), text)
        code = code_only(text)
        for k, (oracle, r) in enumerate(zip(want, calls)):
            problem = check_site(oracle, r, locals_)
            if problem is None and r.decl_pos is not None:
                problem = _placement(code, r)
            if problem:
                return f"{rel}:{r.line} (call {k + 1}): {problem}"
    for rel, want in case.sites.items():
        if want and PRECISE.encode() not in after.get(rel, b""):
            return f"{rel}: no rewritten call, the oracle expects {len(want)}"
    for check in [_threading, *case.checks]:
        problem = check(case, before, after)
        if problem:
            return problem
    return None


def _placement(code: str, r: Rewritten) -> str | None:
    dp, cp = _pp_path(code, r.decl_pos), _pp_path(code, r.call_pos)
    if dp != cp[:len(dp)]:
        return "config declared in another preprocessor branch than its call"
    loop = _innermost_loop(code, r.call_pos)
    if loop and not (loop[0] <= r.decl_pos <= loop[1]):
        return "config built outside the loop that holds its call (evaluated once, not per iteration)"
    return None


def run_corpus(repo: Path | str = REPO, jobs: int = 2, only: set[str] | None = None) -> list[tuple[Case, Grade]]:
    from concurrent.futures import ThreadPoolExecutor

    todo = [c for c in cases() if only is None or c.id in only]
    with tempfile.TemporaryDirectory(prefix="hm-oc-") as d:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            grades = list(pool.map(lambda c: grade(c, repo, Path(d)), todo))
    return list(zip(todo, grades))

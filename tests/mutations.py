"""Deterministic mutation corpus: many small, realistic edits of the fixture trees, and the one
check every mutated tree must pass.

`corpus(n, seed)` yields `Mutant`s: a fixture case plus 1–3 text mutations drawn with a seeded
`random.Random`, so the same (n, seed) always gives byte-identical trees. Every mutation works on
text and checks its target: when what it edits is not there it raises `TargetMissing` (the
generator then draws another one and records nothing), and a mutation that leaves the tree
unchanged is an error. No tree is ever yielded with a mutation that silently did nothing.

`check_tree(root)` runs the tool in-process on a written mutant and classifies the outcome:

- migrated: `apply` exit 0, every file written equals the plan, every changed C/C++ file parses
  without ERROR nodes (unless the mutant itself already had them there), no active reference to
  `estimate_halo_output_elems` remains, no `SlidingWindowConfig` name is declared twice in one
  block, markers the mutations left (`hm-keep-N`), BOMs and CRLF endings survive, and a second
  plan says "migrated" with nothing pending;
- refused: exit 2, exactly one stderr line, and the tree is byte-identical afterwards;
- anything else (an "internal error", i.e. an unexpected exception; a partial write; a rewrite that
  breaks a check above) is a failure with a reason.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CASES = ("rev-7136", "rev-45ec", "rev-5702", "third-site", "partial", "odd-formatting")
EST = "estimate_halo_output_elems"
AUTO = "determine_conv_config_for_auto_shard"
CU = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.cpp"
CH = "ttnn/cpp/ttnn/operations/conv/conv2d/conv2d_utils.hpp"
CPP_EXT = (".cpp", ".hpp", ".h", ".cc")
CALLER_FILES = ("ttnn/cpp/ttnn/operations/conv/conv2d/conv2d.cpp",
                "ttnn/cpp/ttnn/operations/conv/conv2d/prepare_conv2d_weights.cpp",
                "ttnn/cpp/ttnn/operations/conv/conv_transpose2d/conv_transpose2d.cpp")
# Locals and parameters a rename may touch (never struct members or designators).
RENAMABLE = ("halo_input_shard_shape", "shard_shape", "halo_input_memory_config", "sliced_input_tensor_memory_config",
             "input_parallel_config", "approx_input_size_per_core", "approx_max_halo_bytes", "input_datum_size",
             "input_slice_height", "input_slice_width", "halo_elems", "input_h", "input_w", "output_parallel_config")


class TargetMissing(Exception):
    """The text a mutation edits is not in this tree."""


# ---- text helpers ------------------------------------------------------------------------------

def load_case(case: str) -> dict[str, bytes]:
    before = FIXTURES / case / "before"
    return {str(p.relative_to(before)): p.read_bytes() for p in sorted(before.rglob("*")) if p.is_file()}


def _get(files, rel) -> str:
    if rel not in files:
        raise TargetMissing(f"{rel} not in tree")
    return files[rel].decode("utf-8", "surrogateescape")


def _put(files, rel, text: str) -> None:
    files[rel] = text.encode("utf-8", "surrogateescape")


def _nl(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _skip_comment_or_string(text: str, i: int) -> int:
    """If a comment or literal starts at i, the index just past it; else i."""
    if text.startswith("//", i):
        j = text.find("\n", i)
        return len(text) if j < 0 else j
    if text.startswith("/*", i):
        j = text.find("*/", i + 2)
        return len(text) if j < 0 else j + 2
    if text[i] in "\"'":
        q, j = text[i], i + 1
        while j < len(text) and text[j] != q:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    return i


def _match_close(text: str, open_i: int) -> int:
    """Index of the bracket closing the one at open_i (comments and strings skipped)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[text[open_i]]]
    i = open_i + 1
    while i < len(text):
        j = _skip_comment_or_string(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack[-1]:
                raise TargetMissing("unbalanced brackets")
            stack.pop()
            if not stack:
                return i
        i += 1
    raise TargetMissing("no closing bracket")


def _split_args(text: str, open_i: int, close_i: int) -> list[tuple[int, int]]:
    out, depth, start, i = [], 0, open_i + 1, open_i + 1
    while i < close_i:
        j = _skip_comment_or_string(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append((start, i))
            start = i + 1
        i += 1
    out.append((start, close_i))
    return out


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _indent_at(text: str, i: int) -> str:
    s = _line_start(text, i)
    return text[s:s + len(text[s:]) - len(text[s:].lstrip(" \t"))]


def _in_comment(text: str, i: int) -> bool:
    s = _line_start(text, i)
    return "//" in text[s:i] or text.rfind("/*", 0, i) > text.rfind("*/", 0, i)


def _calls(text: str, name: str) -> list[tuple[int, int, int]]:
    """(start of the call expression incl. qualification, open paren, close paren) of every active
    call of `name` (not declarations/definitions at column 0, not in comments, not in #if 0)."""
    out = []
    for m in re.finditer(r"(?<![\w])((?:\w+::)*)" + name + r"\s*\(", text):
        s = _line_start(text, m.start())
        prefix = text[s:m.start()]
        if re.match(r"^\w[\w:<>, ]*\s+$", prefix) or _in_comment(text, m.start()):
            continue  # a declaration or definition, or a comment
        if _in_if0(text, m.start()):
            continue
        open_i = m.end() - 1
        out.append((m.start(), open_i, _match_close(text, open_i)))
    return out


def _in_if0(text: str, i: int) -> bool:
    depth_stack = []
    for m in re.finditer(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b(.*)$", text[:i], re.M):
        kw, rest = m.group(1), m.group(2).strip()
        if kw in ("if", "ifdef", "ifndef"):
            depth_stack.append(kw == "if" and rest in ("0", "false"))
        elif kw in ("else", "elif") and depth_stack:
            depth_stack[-1] = False
        elif kw == "endif" and depth_stack:
            depth_stack.pop()
    return any(depth_stack)


def _statement(text: str, pos: int) -> tuple[int, int]:
    """Line-start of the statement holding pos, and the index just past its `;`."""
    depth, i = 0, pos - 1
    while i >= 0:
        c = text[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            depth -= 1
        elif c in ";{}" and depth <= 0:
            break
        i -= 1
    start = text.find("\n", i) + 1 if i >= 0 else 0
    while text[start:start + 1] in ("\r", "\n") or text[start:].lstrip(" \t").startswith("//"):
        start = text.find("\n", start) + 1
    depth, j = 0, pos
    while j < len(text):
        k = _skip_comment_or_string(text, j)
        if k != j:
            j = k
            continue
        c = text[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            return start, j + 1
        j += 1
    raise TargetMissing("statement has no end")


def _function_range(text: str, pos: int) -> tuple[int, int]:
    """A top-level function around pos: from the last column-0 line that starts a declaration to
    the next `}` at column 0."""
    starts = [m.start() for m in re.finditer(r"^(?![#/}\s]|namespace\b|struct\b|class\b|using\b|template\b)\w",
                                             text[:pos], re.M)]
    if not starts:
        raise TargetMissing("no enclosing function")
    m = re.compile(r"^\}", re.M).search(text, pos)
    if not m:
        raise TargetMissing("no end of the enclosing function")
    return starts[-1], m.end()


def _all_sites(files) -> list[tuple[str, tuple[int, int, int]]]:
    out = []
    for rel in sorted(files):
        if rel.endswith(CPP_EXT) and EST.encode() in files[rel]:
            text = _get(files, rel)
            out += [(rel, c) for c in _calls(text, EST)]
    return out


def _pick_site(files, rng):
    sites = _all_sites(files)
    if not sites:
        raise TargetMissing("no estimate call")
    return sites[rng.randrange(len(sites))]


def _marker(rng) -> str:
    return f"hm-keep-{rng.randrange(10**6)}"


# ---- mutations ------------------------------------------------------------------------------------
# Each takes (files, rng), edits `files` in place and returns a short description.

def rename_local(files, rng):
    """Rename a local or parameter consistently in the whole function that holds a site."""
    rel, (s, _o, _c) = _pick_site(files, rng)
    text = _get(files, rel)
    fs, fe = _function_range(text, s)
    body = text[fs:fe]
    names = [n for n in RENAMABLE if re.search(r"(?<![\w.:>])" + n + r"\b", body)]
    if not names:
        raise TargetMissing("nothing renamable")
    old = names[rng.randrange(len(names))]
    new = f"{old}_r{rng.randrange(1000)}"
    body2 = re.sub(r"(?<![\w.:>])" + old + r"\b", new, body)
    _put(files, rel, text[:fs] + body2 + text[fe:])
    return f"rename {old}→{new} in {rel}"


def _reflow(files, rng, name, one_per_line):
    candidates = []
    for rel in sorted(files):
        if rel.endswith(CPP_EXT) and name.encode() in files[rel]:
            candidates += [(rel, c) for c in _calls(_get(files, rel), name)]
    if not candidates:
        raise TargetMissing(f"no call of {name}")
    rel, (s, o, c) = candidates[rng.randrange(len(candidates))]
    text = _get(files, rel)
    args = [text[a:b].strip() for a, b in _split_args(text, o, c)]
    if any("//" in a for a in args):
        raise TargetMissing("line comments inside the arguments")
    args = [re.sub(r"\s+", " ", a) for a in args]
    nl = _nl(text)
    if one_per_line:
        ind = _indent_at(text, s) + "    "
        inner = nl + ("," + nl).join(ind + a for a in args)
    else:
        inner = ", ".join(args)
    new = text[:o + 1] + inner + text[c:]
    if new == text:
        raise TargetMissing("already in that layout")
    _put(files, rel, new)
    return f"reflow {name} call in {rel} ({'one per line' if one_per_line else 'one line'})"


def reflow_site_one_per_line(files, rng):
    return _reflow(files, rng, EST, True)


def reflow_site_one_line(files, rng):
    return _reflow(files, rng, EST, False)


def reflow_auto_shard_call_one_line(files, rng):
    return _reflow(files, rng, AUTO, False)


def comments_between_arguments(files, rng):
    rel, (s, o, c) = _pick_site(files, rng)
    text = _get(files, rel)
    spans = _split_args(text, o, c)
    out, last = [], o + 1
    for a, b in spans[:-1]:
        out.append(text[last:b + 1] + f" /* arg {rng.randrange(100)} */")
        last = b + 1
    out.append(text[last:])
    _put(files, rel, text[:o + 1] + "".join(out))
    return f"comments between the arguments of the call in {rel}"


def comments_between_statements(files, rng):
    rel, (s, _o, _c) = _pick_site(files, rng)
    text = _get(files, rel)
    st, _ = _statement(text, s)
    nl, ind = _nl(text), _indent_at(text, st)
    mark = _marker(rng)
    block = f"{ind}// {mark}: a note before the call{nl}{ind}/* and a block comment */{nl}"
    _put(files, rel, text[:st] + block + text[st:])
    return f"comments before the site statement in {rel}"


def nest_in_lambda(files, rng):
    """`T x = estimate(...);` → `T x = [&]() { return estimate(...); }();`"""
    rel, (s, o, c) = _pick_site(files, rng)
    text = _get(files, rel)
    call = text[s:c + 1]
    _put(files, rel, text[:s] + "[&]() { return " + call + "; }()" + text[c + 1:])
    return f"site call in {rel} moved into a nested [&] lambda"


def block_threading(files, rng):
    """Rename `stride` in one caller of determine_conv_config_for_auto_shard."""
    callers = []
    for rel in CALLER_FILES:
        if rel in files:
            text = _get(files, rel)
            for s, _o, _c in _calls(text, AUTO):
                fs, fe = _function_range(text, s)
                if re.search(r"(?<![\w.:>])stride\b", text[fs:fe]):
                    callers.append((rel, fs, fe))
    if not callers:
        raise TargetMissing("no caller with a stride")
    rel, fs, fe = callers[rng.randrange(len(callers))]
    text = _get(files, rel)
    body = re.sub(r"(?<![\w.:>])stride\b", "step", text[fs:fe])
    _put(files, rel, text[:fs] + body + text[fe:])
    return f"`stride` renamed to `step` in one caller in {rel}"


def duplicate_site(files, rng):
    """The same call twice in one block: a second statement right after the first."""
    rel, (s, o, c) = _pick_site(files, rng)
    text = _get(files, rel)
    _st, en = _statement(text, s)
    nl, ind = _nl(text), _indent_at(text, s)
    extra = f"{nl}{ind}const uint32_t dup_{rng.randrange(1000)} = {text[s:c + 1]};"
    _put(files, rel, text[:en] + extra + text[en:])
    return f"site duplicated in {rel}"


def _statements_before(text: str, block_open: int, stop: int) -> list[tuple[int, int]]:
    out, i = [], block_open + 1
    while i < stop:
        while i < stop and text[i] in " \t\r\n":
            i += 1
        if i >= stop:
            break
        if text.startswith("//", i) or text.startswith("/*", i):
            i = _skip_comment_or_string(text, i)
            continue
        st = _line_start(text, i)
        try:
            _s, en = _statement(text, i)
        except TargetMissing:
            break
        if en > stop or "{" in text[i:en] and not re.match(r"[\w:<>, ]+\s+\w+\s*=|auto\b", text[i:en]):
            break
        out.append((st, en))
        i = en
    return out


def reorder_statements(files, rng):
    """Swap two adjacent simple statements that come before the site in its block."""
    rel, (s, _o, _c) = _pick_site(files, rng)
    text = _get(files, rel)
    site_start, _ = _statement(text, s)
    # the innermost block that holds the site
    depth, i = 0, site_start - 1
    while i >= 0:
        if text[i] == "}":
            depth += 1
        elif text[i] == "{":
            if depth == 0:
                break
            depth -= 1
        i -= 1
    stmts = [(a, b) for a, b in _statements_before(text, i, site_start)
             if not re.match(r"\s*(if|for|while|return|switch|do)\b", text[a:b])]
    pairs = [k for k in range(len(stmts) - 1) if stmts[k][1] <= stmts[k + 1][0]
             and text[stmts[k][1]:stmts[k + 1][0]].strip() == ""]
    if not pairs:
        raise TargetMissing("no adjacent statements before the site")

    def declared(seg):
        m = re.match(r"\s*(?:const\s+)?[\w:<>, ]+?\s+(\w+)\s*(?:=|\{|\()", seg)
        return m.group(1) if m else None

    ok = []
    for k in pairs:
        a, b = text[stmts[k][0]:stmts[k][1]], text[stmts[k + 1][0]:stmts[k + 1][1]]
        da, db = declared(a), declared(b)
        if (da is None or not re.search(rf"\b{da}\b", b)) and (db is None or not re.search(rf"\b{db}\b", a)):
            ok.append(k)
    if not ok:
        raise TargetMissing("no independent adjacent statements")
    k = ok[rng.randrange(len(ok))]
    (a0, a1), (b0, b1) = stmts[k], stmts[k + 1]
    sep = text[a1:b0]
    _put(files, rel, text[:a0] + text[b0:b1] + sep + text[a0:a1] + text[b1:])
    return f"two statements before the site swapped in {rel}"


def crlf(files, rng):
    cands = [r for r in sorted(files) if r.endswith(CPP_EXT) and b"\r\n" not in files[r]
             and (EST.encode() in files[r] or AUTO.encode() in files[r])]
    if not cands:
        raise TargetMissing("no LF file to convert")
    rel = cands[rng.randrange(len(cands))]
    files[rel] = files[rel].replace(b"\n", b"\r\n")
    return f"CRLF line endings in {rel}"


def bom(files, rng):
    cands = [r for r in sorted(files) if r.endswith(CPP_EXT) and not files[r].startswith(b"\xef\xbb\xbf")
             and (EST.encode() in files[r] or AUTO.encode() in files[r] or "sliding_window." in r)]
    if not cands:
        raise TargetMissing("no file without a BOM")
    rel = cands[rng.randrange(len(cands))]
    files[rel] = b"\xef\xbb\xbf" + files[rel]
    return f"UTF-8 BOM added to {rel}"


def if0_block_in_function(files, rng):
    rel, (s, o, c) = _pick_site(files, rng)
    text = _get(files, rel)
    st, _ = _statement(text, s)
    nl, ind = _nl(text), _indent_at(text, st)
    block = (f"#if 0{nl}{ind}// {_marker(rng)}{nl}{ind}uint32_t old_guess = {text[s:c + 1]};{nl}"
             f"{ind}this is not even C++ ((( {nl}#endif{nl}")
    _put(files, rel, text[:st] + block + text[st:])
    return f"#if 0 block with an old call before the site in {rel}"


def if0_block_at_namespace_scope(files, rng):
    cands = [r for r in sorted(files) if r.endswith(".cpp") and EST.encode() in files[r]]
    if not cands:
        raise TargetMissing("no file with the estimate")
    rel = cands[rng.randrange(len(cands))]
    text = _get(files, rel)
    m = re.search(r"^namespace [\w:]+ \{\r?\n", text, re.M)
    if not m:
        raise TargetMissing("no namespace")
    nl = _nl(text)
    block = (f"{nl}#if 0{nl}// {_marker(rng)}{nl}uint32_t legacy(std::array<uint32_t, 2> s) {{{nl}"
             f"    return {EST}(s, 1, 2, 3, {{3, 3}}, {{1, 1}}, {{0, 0, 0, 0}});{nl}}}{nl}#endif{nl}{nl}")
    _put(files, rel, text[:m.end()] + block + text[m.end():])
    return f"#if 0 block at namespace scope in {rel}"


def _decl_range(text: str):
    m = re.search(r"^uint32_t\s+" + EST + r"\s*\(", text, re.M)
    if not m:
        raise TargetMissing("no estimate declaration")
    close = _match_close(text, m.end() - 1)
    return m.start(), m.end() - 1, close


def rename_estimate_params_in_declaration(files, rng):
    text = _get(files, CH)
    s, o, c = _decl_range(text)
    params = text[o:c]
    new = re.sub(r"\b(halo_input_shard_shape|batch_size|input_height|input_width)\b",
                 lambda m: {"halo_input_shard_shape": "shard", "batch_size": "n", "input_height": "h",
                            "input_width": "w"}[m.group(1)], params)
    if new == params:
        raise TargetMissing("declaration parameters already renamed")
    _put(files, CH, text[:o] + new + text[c:])
    return "estimate's parameters renamed in its declaration"


def drop_estimate_param_names_in_declaration(files, rng):
    """`std::array<uint32_t, 2> halo_input_shard_shape,` → `std::array<uint32_t, 2>,` (legal)."""
    text = _get(files, CH)
    s, o, c = _decl_range(text)
    params = text[o + 1:c]
    parts = [re.sub(r"\s+\w+\s*$", "", p) for p in params.split(",")]
    new = ",".join(parts)
    if new == params:
        raise TargetMissing("no parameter names")
    _put(files, CH, text[:o + 1] + new + text[c:])
    return "estimate's parameter names dropped from its declaration"


def qualify_site_call(files, rng):
    sites = [(rel, c) for rel, c in _all_sites(files)
             if not _get(files, rel)[c[0]:c[1]].startswith(("conv::", "ttnn::"))]
    if not sites:
        raise TargetMissing("every call already qualified")
    rel, (s, o, c) = sites[rng.randrange(len(sites))]
    text = _get(files, rel)
    q = ["ttnn::operations::conv::", "conv::"][rng.randrange(2)]
    _put(files, rel, text[:s] + q + text[s:])
    return f"site call qualified with {q} in {rel}"


def auto_result_type(files, rng):
    sites = []
    for rel, (s, o, c) in _all_sites(files):
        text = _get(files, rel)
        st, _ = _statement(text, s)
        m = re.match(r"([ \t]*)(const\s+)?uint32_t(\s+\w+\s*=)", text[st:s])
        if m:
            sites.append((rel, st, m))
    if not sites:
        raise TargetMissing("no `uint32_t x = estimate(...)` declaration")
    rel, st, m = sites[rng.randrange(len(sites))]
    text = _get(files, rel)
    repl = m.group(1) + ["auto", "const auto", "const uint32_t", "std::uint32_t"][rng.randrange(4)] + m.group(3)
    _put(files, rel, text[:st] + repl + text[st + m.end():])
    return f"site result type changed in {rel}"


def tabs_and_blank_lines(files, rng):
    rel, (s, _o, _c) = _pick_site(files, rng)
    text = _get(files, rel)
    st, en = _statement(text, s)
    nl = _nl(text)
    seg = text[st:en].replace("    ", "\t")
    _put(files, rel, text[:st] + nl + nl + seg + nl + text[en:])
    return f"tabs and blank lines around the site in {rel}"


def unrelated_file_mentioning_estimate(files, rng):
    if not any(r.startswith("ttnn/cpp/ttnn/operations/conv/") for r in files):
        raise TargetMissing("no conv directory")
    rel = f"ttnn/cpp/ttnn/operations/conv/notes_{rng.randrange(1000)}.cpp"
    if rel in files:
        raise TargetMissing("exists")
    mark = _marker(rng)
    files[rel] = (f"// {mark}: {EST} used to guess the halo size\n"
                  f'static const char* kOld = "{EST}";\n').encode()
    return f"new file {rel} that mentions the estimate in a comment and a string"


def move_estimate_declaration(files, rng):
    text = _get(files, CH)
    s, _o, c = _decl_range(text)
    end = text.index(";", c) + 1
    nl = _nl(text)
    decl = text[s:end]
    rest = text[:s] + text[end:]
    m = re.search(r"^" + re.escape("Conv2dConfig " + AUTO + "("), rest, re.M)
    if not m:
        raise TargetMissing("no auto-shard declaration to move before")
    _put(files, CH, rest[:m.start()] + decl + nl + nl + rest[m.start():])
    return "estimate declaration moved before the auto-shard declaration"


MUTATIONS = {f.__name__: f for f in (
    rename_local, reflow_site_one_per_line, reflow_site_one_line, reflow_auto_shard_call_one_line,
    comments_between_arguments, comments_between_statements, nest_in_lambda, block_threading, duplicate_site,
    reorder_statements, crlf, bom, if0_block_in_function, if0_block_at_namespace_scope,
    rename_estimate_params_in_declaration, drop_estimate_param_names_in_declaration, qualify_site_call,
    auto_result_type, tabs_and_blank_lines, unrelated_file_mentioning_estimate, move_estimate_declaration)}


# ---- the corpus -----------------------------------------------------------------------------------

@dataclass
class Mutant:
    index: int
    case: str
    applied: list[str]
    descriptions: list[str]
    files: dict[str, bytes] = field(repr=False)

    @property
    def name(self) -> str:
        return f"{self.index:03d}-{self.case}-" + "+".join(self.applied)

    def write(self, root: Path) -> Path:
        return write_tree(root, self.files)


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """``root`` holding exactly ``files`` (relative path -> bytes); whatever was there is removed."""
    if root.exists():
        shutil.rmtree(root)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


_CASE_CACHE: dict[str, dict[str, bytes]] = {}


def corpus(n: int = 240, seed: int = 20250101):
    """n mutants, deterministic for (n, seed): first every mutation alone on every case it applies
    to, then random stacks of 2–3 mutations."""
    rng = random.Random(seed)
    names = sorted(MUTATIONS)
    produced = 0
    plan = [(case, [m]) for m in names for case in CASES]
    rng.shuffle(plan)
    index = 0
    attempts = 0
    while produced < n:
        attempts += 1
        if attempts > n * 50:
            raise RuntimeError("mutation corpus cannot be filled: too many inapplicable draws")
        if plan:
            case, wanted = plan.pop()
        else:
            case = CASES[rng.randrange(len(CASES))]
            wanted = rng.sample(names, rng.choice((2, 2, 3)))
        base = _CASE_CACHE.setdefault(case, load_case(case))
        files = dict(base)
        applied, descriptions = [], []
        sub = random.Random(rng.randrange(2**32))
        for m in wanted:
            before = dict(files)
            try:
                descriptions.append(MUTATIONS[m](files, sub))
            except TargetMissing:
                files = before
                continue
            if files == before:
                raise AssertionError(f"mutation {m} changed nothing on {case}")
            applied.append(m)
        if not applied:
            continue
        yield Mutant(index, case, applied, descriptions, files)
        index += 1
        produced += 1


# ---- running the tool on one mutant -----------------------------------------------------------------

@dataclass
class Outcome:
    status: str  # migrated | refused | failed
    reason: str = ""
    traceback: bool = False
    unintended_write: bool = False
    lost_change: bool = False


def _main(argv: list[str]) -> tuple[int, str, str]:
    from migrator.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _declared_twice(text: str) -> str | None:
    """A `SlidingWindowConfig NAME` declared twice directly in the same block."""
    seen = {}
    for m in re.finditer(r"\bSlidingWindowConfig\s+(\w+)\s*[;{=]", text):
        depth_open, depth, i = None, 0, m.start() - 1
        while i >= 0:
            if text[i] == "}":
                depth += 1
            elif text[i] == "{":
                if depth == 0:
                    depth_open = i
                    break
                depth -= 1
            i -= 1
        key = (depth_open, m.group(1))
        if key in seen:
            return m.group(1)
        seen[key] = m.start()
    return None


def check_tree(root: Path) -> Outcome:
    from migrator.engine.checkout import Checkout
    from migrator.engine.locate import find_occurrences
    from migrator.engine.project import Project
    from migrator.engine.source import SourceFile
    from migrator.errors import MigrateError
    from migrator.recipe.plan import build_plan

    before = read_tree(root)
    try:
        planned = build_plan(Project(Checkout.open(root))).new_contents
    except MigrateError:
        planned = None
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        planned = None
        _ = exc
    rc, out, err = _main(["apply", str(root), "--no-format"])
    after = read_tree(root)
    if "internal error" in err or "Traceback" in err:
        return Outcome("failed", f"internal error: {err.strip()[:300]}", traceback=True,
                       unintended_write=after != before)
    if rc == 2:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        if after != before:
            return Outcome("failed", f"refused but wrote: {sorted(k for k in after if after.get(k) != before.get(k))}",
                           unintended_write=True)
        if len(lines) != 1:
            return Outcome("failed", f"refusal is not one line: {err!r}")
        return Outcome("refused", lines[0])
    if rc != 0:
        return Outcome("failed", f"exit {rc}: {err.strip()[:300]}", unintended_write=after != before)

    changed = {k for k in after if after.get(k) != before.get(k)} | {k for k in before if k not in after}
    if planned is None:
        return Outcome("failed", "apply succeeded where plan refused", unintended_write=bool(changed))
    if changed != set(k for k in planned if planned[k] != before.get(k)):
        return Outcome("failed", f"files written differ from the plan: {sorted(changed ^ set(planned))}",
                       unintended_write=True)
    for rel in changed:
        if after[rel] != planned[rel]:
            return Outcome("failed", f"{rel}: written bytes differ from the plan", lost_change=True)
    for rel in sorted(changed):
        old, new = before[rel], after[rel]
        for mark in re.findall(rb"hm-keep-\d+", old):
            if old.count(mark) > new.count(mark):
                return Outcome("failed", f"{rel}: marker {mark.decode()} lost", lost_change=True)
        if old.startswith(b"\xef\xbb\xbf") and not new.startswith(b"\xef\xbb\xbf"):
            return Outcome("failed", f"{rel}: BOM lost", lost_change=True)
        if old.count(b"\n") == old.count(b"\r\n") and b"\r\n" in old and new.count(b"\n") != new.count(b"\r\n"):
            return Outcome("failed", f"{rel}: CRLF endings mixed with LF", lost_change=True)
        if not rel.endswith(CPP_EXT):
            continue
        if SourceFile.parse(rel, new).error_count() > SourceFile.parse(rel, old).error_count():
            return Outcome("failed", f"{rel}: the rewrite does not parse cleanly")
        twice = _declared_twice(new.decode("utf-8", "surrogateescape"))
        if twice:
            return Outcome("failed", f"{rel}: SlidingWindowConfig {twice} declared twice in one block")
    for rel, data in after.items():
        if rel.endswith(CPP_EXT) and EST.encode() in data:
            active = [o for o in find_occurrences(SourceFile.parse(rel, data), EST) if o.kind != "inactive"]
            if active:
                return Outcome("failed", f"{rel}:{active[0].line}: still references {EST}")
    try:
        again = build_plan(Project(Checkout.open(root)))
    except MigrateError as exc:
        return Outcome("failed", f"second plan refuses: {exc.line()}")
    if again.state != "migrated" or again.pending:
        return Outcome("failed", f"second plan: state {again.state}, pending {bool(again.pending)}")
    return Outcome("migrated")


if __name__ == "__main__":  # python tests/mutations.py [N]: list the corpus
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 240
    for m in corpus(n):
        print(m.name)

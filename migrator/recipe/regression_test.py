"""`apply --with-test`: a gtest for `calculate_precise_halo_output_elems`, added to the checkout's
ttnn C++ unit tests and registered in their CMake list.

The test is a table of named configurations with the exact element counts, one assertion per row.
Rows are chosen here, deterministically: configurations from the checkout's own conv2d sweep specs
(placed as conv2d places them: HEIGHT / BLOCK / WIDTH on an 8x8 grid), picked greedily for the
boundary-math branches they exercise, then hand-picked edge cases for the branches no sweep spec
reaches, and always upstream PR #30446's failing stride-16 spec. Expected values come from the
reference model (`migrator.reference.precise_halo_output_elems`), which matches the compiled C++ on
all 18,952 shared vectors.

Where the test goes and how it is registered is read from the checkout (facts in docs/with-test.md):
the directory whose CMakeLists.txt lists the sliding-window gtest, right after that entry."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from migrator.engine.gitcmd import run_git
from migrator.engine.edits import Edit, EditSet
from migrator.engine.locate import find_occurrences
from migrator.engine.project import Project
from migrator.recipe.render import render
from migrator.engine.source import SourceFile
from migrator.errors import PostconditionFailed, UnsupportedShape
from migrator.recipe import names
from migrator.reference import SlidingWindowConfig, precise_halo_output_elems, shard_boundaries_closed_form
from migrator.reference.sliding_window import get_output_shape, get_output_shard_y

GTEST_DIR = "tests/ttnn/unit_tests/gtests"
CMAKE_LIST = f"{GTEST_DIR}/CMakeLists.txt"
TEST_FILE = "test_sliding_window_precise_halo.cpp"
TEST_PATH = f"{GTEST_DIR}/{TEST_FILE}"
# The new entry goes next to the first of these the list already has.
NEIGHBOURS = ("test_sliding_window_infra.cpp", "test_conv2d.cpp")
TEMPLATE = "precise_halo_test.cpp.j2"
SUITE = "SlidingWindowPreciseHalo"
FIXTURE = "PreciseHaloOutputElemsTest"
TEST_NAME = "MatchesExactHaloSize"
FILTER = f"{SUITE}/{FIXTURE}.*"
COPYRIGHT_CONFIG = "check_copyright_config.yaml"
# Where no checkout file names a copyright holder, the new file states its license only: the holder
# is never made up here.
DEFAULT_NOTICE = "// SPDX-License-Identifier: {license}\n"
# Files whose SPDX lines stand in for the neighbour's when the neighbour has none.
NOTICE_SOURCES = ("ttnn/cpp/ttnn/operations/sliding_window/sliding_window.hpp",
                  "ttnn/cpp/ttnn/operations/sliding_window/sliding_window.cpp")

MAX_ROWS = 16
MAX_SWEEP_ROWS = 12
SWEEP_GRID = "wormhole"

# The SlidingWindowConfig fields a row sets, in the struct's declaration order (designated
# initializers must follow it). The rest keep their defaults, as in conv2d's halo config.
ROW_FIELDS = ("batch_size", "input_hw", "window_hw", "stride_hw", "padding", "dilation_hw", "num_cores_nhw",
              "snap_to_tile")

# Branches of the boundary math (closed_form.py / sliding_window.py) a table should reach, and
# what each means. Every row says which of them it is there for.
BRANCHES = {
    "pr30446": "PR #30446's failing spec: stride 16 > kernel 3",
    "one_core": "one core holds the whole output",
    "many_cores": "32 or more cores along NHW",
    "multi_batch": "batch size > 1",
    "batch_boundary_in_shard": "a core's output range crosses into the next image (several cores)",
    "several_images_per_shard": "one core's output holds two or more whole images (several cores)",
    "last_core_remainder": "the last core with output gets less than a shard height",
    "trailing_empty_cores": "cores past the end of the output (empty output range)",
    "single_output_stick": "L = 1 on several cores: the 'input start 0' special case",
    "padding_wider_than_kernel": "padding at least as wide as the kernel",
    "dilation": "dilation > 1",
    "large_kernel": "kernel 7 or larger",
    "stride_over_kernel": "stride larger than the kernel",
    "downsampling": "stride 2 up to the kernel size",
    "non_square": "height and width differ (input, kernel or stride)",
    "height_sharded": "conv2d HEIGHT sharding",
    "block_sharded": "conv2d BLOCK sharding",
    "width_sharded": "conv2d WIDTH sharding (one core along NHW)",
    "snap_on": "shard height snapped to tiles",
    "snap_off": "shard height not snapped to tiles",
}


@dataclass(frozen=True)
class Case:
    name: str
    config: SlidingWindowConfig
    shard_shape: tuple[int, int]
    expected: int
    branches: frozenset[str]
    source: str  # where the configuration comes from
    why: str = ""


@dataclass
class RegressionTest:
    path: str
    cmake_path: str
    target: str  # the CMake target whose source list gets the file
    binary: str  # the executable that runs it
    binary_path: str  # where a default build puts it
    cases: list[Case]
    content: bytes
    cmake_original: bytes
    cmake_new: bytes
    uncovered: list[str] = field(default_factory=list)

    @property
    def run_command(self) -> str:
        return f"{self.binary_path} --gtest_filter='{FILTER}'"


# ---- rows -----------------------------------------------------------------------------------------


def branches_of(config: SlidingWindowConfig) -> frozenset[str]:
    """The BRANCHES one configuration takes, read from its shard boundaries."""
    bounds = shard_boundaries_closed_form(config)
    n, (kh, kw), (sh, sw) = config.batch_size, config.window_hw, config.stride_hw
    tags = set()
    _, oh, ow, _ = get_output_shape(config)
    plane, out_len = oh * ow, n * oh * ow
    shard_y = get_output_shard_y(config, config.snap_to_tile)
    cores = config.num_cores_nhw
    if cores == 1:
        tags.add("one_core")
    elif cores >= 32:
        tags.add("many_cores")
    if n > 1:
        tags.add("multi_batch")
    real = [b for b in bounds if b.output_range.start < out_len]
    if out_len == 1 and cores > 1:
        tags.add("single_output_stick")
    if cores > 1 and any(b.output_range.start // plane != b.output_range.end // plane for b in real):
        tags.add("batch_boundary_in_shard")
    if cores > 1 and any(b.output_range.end - b.output_range.start + 1 >= 2 * plane for b in real):
        tags.add("several_images_per_shard")
    if real and cores > 1 and real[-1].output_range.end - real[-1].output_range.start + 1 < shard_y:
        tags.add("last_core_remainder")
    if len(real) < len(bounds):
        tags.add("trailing_empty_cores")
    pad = config.padding
    if max(pad[0], pad[1]) >= kh or max(pad[2], pad[3]) >= kw:
        tags.add("padding_wider_than_kernel")
    if max(config.dilation_hw) > 1:
        tags.add("dilation")
    if max(kh, kw) >= 7:
        tags.add("large_kernel")
    if sh > kh or sw > kw:
        tags.add("stride_over_kernel")
    elif max(sh, sw) > 1:
        tags.add("downsampling")
    if config.input_hw[0] != config.input_hw[1] or kh != kw or sh != sw:
        tags.add("non_square")
    tags.add("snap_on" if config.snap_to_tile else "snap_off")
    return frozenset(tags)


def _config(n, hw, k, s, pad, d, cores, snap) -> SlidingWindowConfig:
    return SlidingWindowConfig(batch_size=n, input_hw=tuple(hw), window_hw=tuple(k), stride_hw=tuple(s),
                               padding=tuple(pad), dilation_hw=tuple(d), num_cores_nhw=cores, snap_to_tile=snap)


def _shard_height(n, hw, cores, tile=32) -> int:
    """The halo input's shard height for a height-sharded N*H*W over `cores` (tile-rounded)."""
    total = n * hw[0] * hw[1]
    return -(-total // (cores * tile)) * tile


def _case(name, config, width, source, why="", shard_h=None) -> Case:
    shard = (shard_h if shard_h is not None else _shard_height(config.batch_size, config.input_hw,
                                                               config.num_cores_nhw), width)
    return Case(name, config, shard, precise_halo_output_elems(config, shard), branches_of(config), source,
                why)


PR30446 = ("pr30446_stride16_one_core", _config(1, (80, 80), (3, 3), (16, 16), (0, 0, 0, 0), (1, 1), 1, True), 320,
           6400)

# Hand-picked configurations, one per branch a sweep spec may not reach (in this order of preference).
EDGE_CASES = (
    ("single_output_stick_four_cores", _config(1, (3, 3), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 4, True), 32, 32),
    ("trailing_empty_cores", _config(1, (8, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 4, True), 32, 32),
    ("no_snap_last_core_remainder", _config(1, (10, 10), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 8, False), 32, 32),
    ("batch_boundary_inside_shard", _config(2, (28, 28), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 49, True), 128, 32),
    ("several_images_per_shard", _config(4, (7, 7), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True), 64, 128),
    ("non_square_kernel_1x3", _config(1, (16, 40), (1, 3), (1, 2), (0, 0, 1, 1), (1, 1), 8, True), 64, None),
    ("padding_wider_than_kernel", _config(1, (16, 16), (2, 2), (1, 1), (3, 3, 3, 3), (1, 1), 4, True), 32, None),
    ("dilation_2", _config(1, (64, 64), (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 8, True), 160, 512),
    ("kernel_7_stride_2_many_cores", _config(1, (224, 224), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 56, True), 16,
     896),
)


def _sweep_candidates(root) -> list[Case]:
    from migrator.verify.placement import LAYOUTS, NotReached, place
    from migrator.verify.specs import read_checkout_specs

    found, _ = read_checkout_specs(root)
    out, seen = [], set()
    for rel in sorted(found):
        label = rel.rsplit("/", 1)[-1]
        for spec in found[rel]:
            for layout in LAYOUTS:
                try:
                    p = place(spec, layout, SWEEP_GRID)
                    rc = p.runtime_config
                    config = _config(rc.batch_size, rc.input_hw, rc.window_hw, rc.stride_hw, rc.padding,
                                     rc.dilation_hw, rc.num_cores_nhw, rc.snap_to_tile)
                    shard = tuple(p.runtime_shard_shape)
                    key = (config, shard[1])
                    if key in seen:
                        continue
                    seen.add(key)
                    expected = precise_halo_output_elems(config, shard)
                    tags = branches_of(config)
                    if layout == "WIDTH" or config.num_cores_nhw > 1:  # a 1-core BLOCK grid is no BLOCK case
                        tags |= {f"{layout.lower()}_sharded"}
                except (NotReached, ValueError, ZeroDivisionError):
                    continue
                out.append(Case(_sweep_name(config, layout), config, shard, expected, tags,
                                f"{label}, {layout} on 8x8"))
    return out


def _sweep_name(c: SlidingWindowConfig, layout: str) -> str:
    (h, w), (kh, kw), (sh, sw) = c.input_hw, c.window_hw, c.stride_hw
    k = f"k{kh}" if kh == kw else f"k{kh}x{kw}"
    s = f"s{sh}" if sh == sw else f"s{sh}x{sw}"
    p = "p" + ("_".join(map(str, c.padding)) if len(set(c.padding)) > 1 else str(c.padding[0]))
    d = "" if c.dilation_hw == (1, 1) else f"_d{c.dilation_hw[0]}"
    return f"n{c.batch_size}_{h}x{w}_{k}_{s}_{p}{d}_{layout.lower()}_{c.num_cores_nhw}cores"


def _greedy(pool: list[Case], covered: set[str], limit: int) -> list[Case]:
    chosen = []
    while len(chosen) < limit:
        best, gain = None, set()
        for case in pool:
            g = set(case.branches) - covered
            if len(g) > len(gain):
                best, gain = case, g
        if best is None:
            break
        chosen.append(replace(best, why=_why(gain)))
        covered |= gain
        pool = [c for c in pool if c is not best]
    return chosen


# Each of these gets a row of its own (the branch the row's comment names first); the rest of
# BRANCHES only need to be reached by some row.
DEDICATED = ("batch_boundary_in_shard", "several_images_per_shard", "last_core_remainder", "trailing_empty_cores",
             "single_output_stick", "padding_wider_than_kernel", "dilation", "large_kernel", "snap_off",
             "many_cores", "downsampling", "non_square", "block_sharded", "width_sharded")


def choose_cases(root) -> tuple[list[Case], list[str]]:
    """The table's rows (deterministic) and any branch no row reaches.

    PR #30446's spec first; then for each DEDICATED branch not yet given a row, the smallest sweep
    configuration that takes it (fewest input sticks, then sweep order), else the edge case; then
    greedily whatever reaches the remaining branches. Sweep rows come before edge rows."""
    name, config, width, height = PR30446
    first = _case(name, config, width, "ttforge sweep failing_parameters, 1 core", shard_h=height)
    first = replace(first, branches=first.branches | {"pr30446"}, why=_why({"pr30446"}))
    sweep_pool = _sweep_candidates(root)
    sweep_pool.sort(key=_size)  # stable: equal sizes keep the sweep order
    edge_pool = [_case(n, c, w, "edge case", shard_h=h) for n, c, w, h in EDGE_CASES]
    sweep, edges, covered, dedicated = [], [], set(first.branches), set()
    for branch in DEDICATED:
        if branch in dedicated:
            continue
        for pool, out in ((sweep_pool, sweep), (edge_pool, edges)):
            pick = next((c for c in pool if branch in c.branches), None)
            if pick is not None:
                gain = set(pick.branches) - covered
                out.append(replace(pick, why=_why({branch} | (gain & set(DEDICATED)), first=branch)))
                pool.remove(pick)
                covered |= set(pick.branches)
                dedicated |= {branch} | (gain & set(DEDICATED))
                break
    room = MAX_ROWS - 1 - len(sweep) - len(edges)
    sweep += _greedy(sweep_pool, covered, min(room, MAX_SWEEP_ROWS))
    edges += _greedy(edge_pool, covered, MAX_ROWS - 1 - len(sweep) - len(edges))
    order = [n for n, *_ in EDGE_CASES]
    rows = [first, *sweep, *sorted(edges, key=lambda c: order.index(c.name))]
    reached = set().union(*(r.branches for r in rows))
    return rows, sorted(set(BRANCHES) - reached)


def _size(case: Case) -> tuple[bool, int]:
    """Small configurations read (and check by hand) best; degenerate ones (< 2 tiles of sticks,
    or a 1-pixel-high image) come last."""
    c = case.config
    sticks = c.batch_size * c.input_hw[0] * c.input_hw[1]
    return sticks < 64 or min(c.input_hw) < 3, sticks


def _why(gain: set[str], first: str | None = None) -> str:
    """A row's comment: the branches it was picked for (`first`, then the rare ones, at most three)."""
    common = ("snap_on", "one_core", "multi_batch", "height_sharded", "non_square", "downsampling", "many_cores")
    ranked = sorted(gain, key=lambda t: (t != first, t in common, list(BRANCHES).index(t)))
    return "; ".join(BRANCHES[t] for t in ranked[:3])


# ---- CMake list -----------------------------------------------------------------------------------


@dataclass
class CMakeSlot:
    target: str
    at: int  # byte offset where the new line goes
    indent: str


_TARGET_SOURCES = re.compile(r"target_sources\(\s*([A-Za-z0-9_:\-]+)\s+(?:PRIVATE|PUBLIC|INTERFACE)\s*\n(.*?)\)",
                             re.S)


def find_cmake_slot(text: str) -> CMakeSlot:
    """Where the new source goes: in the multi-line target_sources list that names a neighbour,
    in sorted position if that list is sorted, else on the line after the neighbour."""
    for neighbour in NEIGHBOURS:
        for m in _TARGET_SOURCES.finditer(text):
            body_start = m.start(2)
            lines = m.group(2).split("\n")
            entries = []  # (offset of the line, indent, first token)
            offset = body_start
            for line in lines:
                token = line.split("#", 1)[0].strip()
                if token:
                    entries.append((offset, line[: len(line) - len(line.lstrip())], token, len(line)))
                offset += len(line) + 1
            tokens = [e[2] for e in entries]
            if neighbour not in tokens:
                continue
            if TEST_FILE in tokens:
                raise UnsupportedShape(f"{CMAKE_LIST} already lists {TEST_FILE}")
            i = tokens.index(neighbour)
            if tokens == sorted(tokens):
                later = [e for e in entries if e[2] > TEST_FILE]
                if later:
                    return CMakeSlot(m.group(1), later[0][0], later[0][1])
                last = entries[-1]
                return CMakeSlot(m.group(1), last[0] + last[3] + 1, last[1])
            e = entries[i]
            return CMakeSlot(m.group(1), e[0] + e[3] + 1, e[1])
    raise UnsupportedShape(f"{CMAKE_LIST}: no multi-line target_sources list names {' or '.join(NEIGHBOURS)}; "
                           "cannot register the regression test")


def runner_of(text: str, target: str) -> tuple[str, str]:
    """The executable that links `target` (directly or through an ALIAS) and where a build puts it."""
    aliases = {target} | set(re.findall(rf"add_library\(\s*(\S+)\s+ALIAS\s+{re.escape(target)}\s*\)", text))
    executables = re.findall(r"add_executable\(\s*([A-Za-z0-9_\-]+)", text)
    binary = target
    for exe in executables:
        for m in re.finditer(rf"target_link_libraries\(\s*{re.escape(exe)}\s(.*?)\)", text, re.S):
            if aliases & set(m.group(1).split()):
                binary = exe
                break
        else:
            continue
        break
    out = re.search(r"set\(\s*CMAKE_RUNTIME_OUTPUT_DIRECTORY\s+\$\{PROJECT_BINARY_DIR\}/(\S+?)\s*\)", text)
    return binary, (f"./build/{out.group(1)}/{binary}" if out else binary)


# ---- license notice -------------------------------------------------------------------------------


def license_notice(project: Project, neighbour_text: str) -> str:
    """The checkout's notice for new C++ files (check_copyright_config.yaml `new_notice_c`), else the
    neighbour's SPDX lines, else tt-metal's usual three lines; the year is HEAD's commit year."""
    years = _year(project, neighbour_text)
    cfg = project.checkout.read_or_none(COPYRIGHT_CONFIG)
    template, license_ = DEFAULT_NOTICE, "Apache-2.0"
    if cfg is not None:
        text = cfg.decode("utf-8", "replace")
        m = re.search(r"^(\s*)new_notice_c:\s*\|[^\n]*\n((?:\1\s+[^\n]*\n)+)", text, re.M)
        if m:
            body = m.group(2).split("\n")
            indent = min(len(ln) - len(ln.lstrip()) for ln in body if ln.strip())
            template = "\n".join(ln[indent:] for ln in body).rstrip("\n") + "\n"
        lm = re.search(r"^\s*license_for_new_files:\s*([^\s#]+)", text, re.M)
        if lm:
            license_ = lm.group(1)
    else:
        others = (project.checkout.read_or_none(p) for p in NOTICE_SOURCES)
        for text in [neighbour_text] + [o.decode("utf-8", "replace") for o in others if o is not None]:
            spdx = [ln for ln in text.splitlines()[:5] if ln.startswith("//")]
            if spdx and "SPDX-FileCopyrightText" in spdx[0]:
                template = re.sub(r"\b(19|20)\d\d(-\d{4})?\b", "{years}", "\n".join(spdx), count=1) + "\n"
                template = template.replace("Apache-2.0", "{license}")
                break
    return template.replace("{years}", years).replace("{license}", license_)


def _year(project: Project, neighbour_text: str) -> str:
    root = project.checkout.root
    if project.checkout.is_git:
        try:
            out = run_git(root, "log", "-1", "--format=%cd", "--date=format:%Y", timeout=30)
            year = out.stdout.decode("utf-8", "replace").strip()
            if out.returncode == 0 and year.isdigit():
                return year
        except (OSError, subprocess.SubprocessError):
            pass
    m = re.search(r"©\s*((?:19|20)\d\d)", neighbour_text)
    return m.group(1) if m else str(datetime.now(timezone.utc).year)


# ---- the plan step --------------------------------------------------------------------------------


def cpp_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "{" + ", ".join(cpp_value(v) for v in value) + "}"
    return str(value)


def table(cases: list[Case]) -> tuple[list[str], list[list[str]]]:
    """The rows as aligned C++ initializer cells (header, rows)."""
    header = ["name", "N", "input_hw", "window", "stride", "padding t,b,l,r", "dilation", "cores", "snap",
              "shard_shape", "expected"]
    rows = []
    for c in cases:
        cfg = c.config
        rows.append([f'"{c.name}"', *(cpp_value(getattr(cfg, f)) for f in ROW_FIELDS), cpp_value(c.shard_shape),
                     str(c.expected)])
    widths = [max([len(h) + 1] + [len(r[i]) + 1 for r in rows]) for i, h in enumerate(header)]
    lines = []
    for r in rows:
        cells = [(v + ",").ljust(widths[i] + 1) if i < len(r) - 1 else v for i, v in enumerate(r)]
        lines.append(("PreciseHaloCase{" + "".join(cells) + "},").replace(" ,", ","))
    head = "//              " + "".join(h.ljust(widths[i] + 1) for i, h in enumerate(header))
    return [head.rstrip()], lines


def plan_regression_test(project: Project, config_fields: list[str]) -> RegressionTest:
    checkout = project.checkout
    cmake = checkout.read_or_none(CMAKE_LIST)
    if cmake is None:
        raise UnsupportedShape(f"{CMAKE_LIST} not found: this checkout has no ttnn C++ unit-test list to add "
                               "the regression test to (drop --with-test)")
    if checkout.exists(TEST_PATH):
        raise UnsupportedShape(f"{TEST_PATH} already exists; refusing to overwrite it (drop --with-test)")
    missing = [f for f in ROW_FIELDS if f not in config_fields]
    if missing:
        raise UnsupportedShape(f"{names.CONFIG_TYPE} has no field {', '.join(missing)}; the regression test "
                               "cannot be written for this checkout")
    text = cmake.decode("utf-8", "surrogateescape")
    newline = "\r\n" if "\r\n" in text else "\n"
    slot = find_cmake_slot(text.replace("\r\n", "\n"))
    at = len(text.replace("\r\n", "\n")[: slot.at].encode("utf-8", "surrogateescape"))
    if newline == "\r\n":
        at += text.replace("\r\n", "\n")[: slot.at].count("\n")
    es = EditSet(CMAKE_LIST)
    es.add(Edit(at, at, f"{slot.indent}{TEST_FILE}\n", f"register {TEST_FILE}"))
    cmake_new = es.apply(cmake, newline.encode())
    binary, binary_path = runner_of(text, slot.target)

    neighbour = checkout.read_or_none(f"{GTEST_DIR}/{NEIGHBOURS[0]}") or b""
    neighbour_text = neighbour.decode("utf-8", "replace")
    cases, uncovered = choose_cases(checkout.root)
    head, rows = table(cases)
    order = [f for f in config_fields if f in ROW_FIELDS]
    content = render(TEMPLATE, notice=license_notice(project, neighbour_text).rstrip("\n"), cases=cases,
                     table_head=head, table_rows=rows, fields=order, suite=SUITE, fixture=FIXTURE,
                     test_name=TEST_NAME, sliding_window_include=names.SLIDING_WINDOW_INCLUDE,
                     namespace=names.SLIDING_WINDOW_NAMESPACE).rstrip("\n") + "\n"
    data = content.encode("utf-8")
    test = RegressionTest(TEST_PATH, CMAKE_LIST, slot.target, binary, binary_path, cases, data, cmake, cmake_new,
                          uncovered)
    _check(test)
    return test


def _check(test: RegressionTest) -> None:
    """The new TU parses cleanly and calls the precise function once; the list names it once."""
    src = SourceFile.parse(test.path, test.content)
    if src.error_count():
        raise PostconditionFailed(f"{test.path}: the rendered regression test does not parse cleanly")
    calls = [o for o in find_occurrences(src, names.PRECISE) if o.kind == "call"]
    if len(calls) != 1:
        raise PostconditionFailed(f"{test.path}: expected one call of {names.PRECISE}, found {len(calls)}")
    if names.ESTIMATE in test.content.decode():
        raise PostconditionFailed(f"{test.path}: mentions {names.ESTIMATE}")
    if len(re.findall(rf"(?m)^\s*{re.escape(TEST_FILE)}\s*$", test.cmake_new.decode("utf-8", "replace"))) != 1:
        raise PostconditionFailed(f"{test.cmake_path}: {TEST_FILE} is not listed exactly once")

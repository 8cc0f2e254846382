"""The engine on small C++ snippets: edits, rendering, scope, occurrences, refactors, variants."""

import pytest

from migrator.engine import cpp
from migrator.engine.edits import Edit, EditSet
from migrator.engine.locate import find_occurrences
from migrator.engine.refactor import add_argument, add_parameter, delete_statement
from migrator.recipe.render import halo_templates, render
from migrator.engine.scope import bare_type, scope_at
from migrator.engine.source import SourceFile
from migrator.errors import EditConflict, TemplateError
from migrator.recipe.variants import identify_variant


def parse(text: str, path="x.cpp") -> SourceFile:
    return SourceFile.parse(path, text.encode())


def call_named(src: SourceFile, name: str):
    return next(n for n in cpp.walk(src.root) if n.type == "call_expression" and cpp.call_name(n) == name)


# ---- edits ------------------------------------------------------------------------------------
def test_overlapping_edits_are_refused():
    es = EditSet("f.cpp")
    es.add(Edit(0, 5, "a", "first"))
    with pytest.raises(EditConflict, match="'second'.*overlaps 'first'"):
        es.add(Edit(3, 8, "b", "second"))
    with pytest.raises(EditConflict):
        es.add(Edit(2, 2, "inside", "insertion inside a replacement"))


def test_edits_apply_in_one_pass_and_insertions_keep_their_order():
    es = EditSet("f.cpp")
    es.add(Edit(4, 4, "X", "one"))
    es.add(Edit(4, 4, "Y", "two"))
    es.add(Edit(0, 3, "abc", "replace"))
    es.add(Edit(5, 5, "Z", "end-adjacent"))
    assert es.apply(b"012345") == b"abc3XY4Z5"


def test_crlf_files_get_crlf_insertions():
    es = EditSet("f.cpp")
    es.add(Edit(0, 0, "a\nb\n", "x"))
    assert es.apply(b"c\r\n", newline=b"\r\n") == b"a\r\nb\r\nc\r\n"


# ---- rendering ----------------------------------------------------------------------------------
def test_an_unbound_template_variable_fails_before_rendering():
    assert {"config_type", "config_name", "bindings", "result_name"} <= halo_templates().required_variables("call_site.cpp.j2")
    with pytest.raises(TemplateError, match="no value bound for .*shard_shape"):
        render("call_site.cpp.j2", config_type="T", config_name="c", bindings=[], result_type="uint32_t",
               result_name="r", qualifier="", scale="", wrap=False)


def test_precise_definition_uses_the_checkout_arity():
    two = render("precise_def.cpp.j2", shard_boundaries_arity=2)
    one = render("precise_def.cpp.j2", shard_boundaries_arity=1)
    assert "generate_shard_boundaries(config, generate_op_trace_metadata(config))" in two
    assert "generate_shard_boundaries(config);" in one


# ---- scope --------------------------------------------------------------------------------------
SCOPE = """
struct P { int stride; int kernel_size; };
int g = 3;
int f(const P& params, int a) {
    int before = 1;
    auto [x, y] = pair();
    auto lam = [&](int q) {
        int inner = 2;
        return HERE(q);
    };
    auto only = [before](int r) { return THERE(r); };
    int after = 4;
    for (int i = 0; i < 3; ++i) { LOOP(i); }
    return 0;
}
"""


def test_lambda_with_default_capture_sees_the_enclosing_function():
    src = parse(SCOPE)
    scope = scope_at(src, call_named(src, "HERE"))
    for name in ("q", "inner", "before", "x", "y", "params", "a", "g"):
        assert name in scope, name
    assert "after" not in scope and "lam" not in scope
    assert scope.get("before").via == "captured by [&]"
    assert scope.get("params").kind == "parameter"


def test_explicit_capture_list_lets_only_its_names_through():
    src = parse(SCOPE)
    scope = scope_at(src, call_named(src, "THERE"))
    assert "r" in scope and "before" in scope
    assert "params" not in scope and "a" not in scope and "x" not in scope


def test_an_init_capture_declares_its_own_name():
    """`[&, stride = orig_stride]` declares a `stride` of the lambda that hides the enclosing function's
    (adversarial round 2: the tool once passed the outer `stride` from inside such a lambda)."""
    src = parse("""int f(int stride, int orig_stride) {
    auto pick = [&, stride = orig_stride, &k = orig_stride]() { return HERE(stride); };
    return pick();
}
""")
    scope = scope_at(src, call_named(src, "HERE"))
    seen = scope.get("stride")
    assert seen.kind == "init-capture" and seen.initializer == "orig_stride" and seen.type_text == "auto"
    assert scope.get("k").type_text == "auto&"
    assert scope.get("orig_stride").kind == "parameter"


def test_for_init_declarations_are_visible_in_the_body():
    src = parse(SCOPE)
    assert "i" in scope_at(src, call_named(src, "LOOP"))


def test_bare_type():
    assert bare_type("const sliding_window::ParallelConfig&") == "ParallelConfig"
    assert bare_type("const std::array<uint32_t, 2>&") == "std::array<uint32_t, 2>"


# ---- occurrences --------------------------------------------------------------------------------
def test_occurrences_are_classified_and_comments_strings_ignored():
    src = parse("""
uint32_t est(int a);
// est(1) in a comment
const char* s = "est(2)";
uint32_t est(int a) { return a; }
int use() { return est(3) + ns::inner::est(4); }
auto* ptr = &est;
#if 0
int dead = est(5);
#endif
""")
    kinds = [o.kind for o in find_occurrences(src, "est")]
    assert kinds == ["declaration", "definition", "call", "call", "reference", "inactive"]


# ---- refactors ----------------------------------------------------------------------------------
def test_add_parameter_copies_the_one_per_line_style():
    src = parse("void f(\n    int a,\n    int k,\n    int d) {}\n")
    fn = next(n for n in cpp.walk(src.root) if n.type == "function_definition")
    es = EditSet("x")
    es.add(add_parameter(src, fn, 1, "int s", "t"))
    assert es.apply(src.data) == b"void f(\n    int a,\n    int k,\n    int s,\n    int d) {}\n"


def test_add_argument_on_one_line():
    src = parse("int x = f(a, k, d);\n")
    es = EditSet("x")
    es.add(add_argument(src, call_named(src, "f"), 1, "s", "t"))
    assert es.apply(src.data) == b"int x = f(a, k, s, d);\n"


def test_delete_definition_takes_the_stray_semicolon_and_one_blank_line():
    src = parse("int a;\n\nint f() {\n    return 1;\n};\n\nint b;\n")
    fn = next(n for n in cpp.walk(src.root) if n.type == "function_definition")
    es = EditSet("x")
    es.add(delete_statement(src, fn, "t"))
    assert es.apply(src.data) == b"int a;\n\nint b;\n"


# ---- estimate variants --------------------------------------------------------------------------
@pytest.mark.parametrize("body, variant", [
    ("uint32_t h = s[0] / w; uint32_t b = h / H; return h * s[1];", "V1 (by structure)"),
    ("float h = (float)s[0] / (float)w; uint32_t b = h / H; return h * s[1];", "V2 (by structure)"),
    ("float h = n > 1 ? s[0] / w : tt::div_up(s[0], (float)w); return h * s[1];", "V3 (by structure)"),
    ("return lookup(s);", "unknown"),
    ("return tt::div_up(s[0], w) * s[1];", "unknown"),
])
def test_variant_by_structure(body, variant):
    src = parse(f"uint32_t estimate_halo_output_elems(int n) {{ {body} }}")
    fn = next(n for n in cpp.walk(src.root) if n.type == "function_definition")
    assert identify_variant(src, fn) == variant


@pytest.mark.parametrize("case", ["rev-7136", "odd-formatting", "rev-45ec", "third-site"])
def test_incremental_reparse_equals_a_full_parse(case):
    """Postconditions reparse rewritten files incrementally; the tree must be the one a parse from
    scratch gives (odd-formatting covers CRLF)."""
    from conftest import FIXTURES
    from migrator.engine.checkout import Checkout
    from migrator.engine.project import Project
    from migrator.recipe.plan import build_plan

    project = Project(Checkout.open(FIXTURES / case / "before"))
    plan = build_plan(project)
    assert plan.new_contents
    for path, data in plan.new_contents.items():
        incremental = project.source(path).reparse(data, plan.edits[path])
        assert str(incremental.root) == str(SourceFile.parse(path, data).root), path


def test_reparse_matches_full_parse_on_synthetic_edits():
    text = "int f(int a) {\r\n    return a;\r\n}\r\nint g() { return f(1); }\r\n"
    src = parse(text)
    es = EditSet("x.cpp")
    es.add(Edit(text.index("int a"), text.index("int a") + 5, "int a, int b", "param"))
    es.add(Edit(text.index("f(1)") + 2, text.index("f(1)") + 3, "1, 2", "arg"))
    es.add(Edit(0, 0, "// head\nstatic int k = 0;\n", "insert"))
    new = es.apply(src.data, src.newline)
    incremental = src.reparse(new, es.encoded(src.newline))
    assert str(incremental.root) == str(SourceFile.parse("x.cpp", new).root)
    assert incremental.error_count() == 0


# ---- generic machinery a recipe uses (no halo names) ----------------------------------------------------


def test_names_needed_skips_members_callees_and_qualifiers():
    from migrator.engine.dataflow import names_needed

    assert names_needed("std::min(a, b.c) + f(x)->y * ns::k") == ["a", "b", "x"]
    assert names_needed("{stride[0], params.stride[1]}") == ["stride", "params"]


def test_write_atomic_keeps_the_mode_and_leaves_no_temp_file(tmp_path):
    import os

    from migrator.engine.deliver.writer import write_atomic

    target = tmp_path / "a.cpp"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cpp"]


def test_threading_with_a_recipe_resolver(tmp_path):
    """engine.threading adds a parameter to every declaration and the definition and asks the resolver what
    each call passes; a caller the resolver cannot serve blocks the whole threading."""
    from types import SimpleNamespace

    from migrator.engine.checkout import Checkout
    from migrator.engine.locate import function_nodes
    from migrator.engine.materialize import EditBook, materialize
    from migrator.engine.project import Project
    from migrator.engine.recipe import Changes
    from migrator.engine.threading import CallerValue, plan_threading
    from migrator.errors import ThreadingBlocked

    (tmp_path / "area.hpp").write_text("int area(int w, int h);\n")
    (tmp_path / "area.cpp").write_text('#include "area.hpp"\nint area(int w, int h) { return w * h; }\n'
                                       "int twice() { return 2 * area(2, 3); }\nint once(int depth) { return area(4, 5); }\n")

    def resolve(project, src, call, args, index):
        fn = cpp.enclosing(call, "function_definition")
        if cpp.function_name(fn) == "twice":
            return CallerValue(SimpleNamespace(text="1", provenance="a constant"), "1")
        if cpp.function_name(fn) == "once":
            return CallerValue(SimpleNamespace(text="depth", provenance="its parameter"), "depth")
        return None

    project = Project(Checkout.open(tmp_path))
    src = project.source("area.cpp")
    definition = function_nodes(src, "area")[1][0]
    thread = plan_threading(project, definition, src, "depth", "h", "test", resolve=resolve)
    assert [c.expr.text for c in thread.callers] == ["1", "depth"]
    book = EditBook()
    for path, edit in thread.edits:
        book.add(path, edit)
    changes = Changes(str(tmp_path), "pending")
    materialize(project, book, changes)
    assert changes.new_contents["area.hpp"] == b"int area(int w, int h, int depth);\n"
    new = changes.new_contents["area.cpp"].decode()
    assert "int area(int w, int h, int depth)" in new and "area(2, 3, 1)" in new and "area(4, 5, depth)" in new

    with pytest.raises(ThreadingBlocked, match="no `depth` is in scope at area.cpp:3 in twice"):
        plan_threading(Project(Checkout.open(tmp_path)), definition, src, "depth", "h", "needs a depth",
                       resolve=lambda project, src, call, args, index: None)


def test_writers_before_tells_a_folded_stride_from_an_untouched_one():
    """A conv's kernel and stride change under the same conditions (a fold rewrites both, through a
    call or by assignments in one `if`); a copy made before the fold, or a stride the fold left
    alone, changes elsewhere."""
    from migrator.engine import cpp, dataflow

    src = SourceFile.parse("f.cpp", b"""static void fold(std::array<uint32_t, 2>& kernel_size, std::array<uint32_t, 2>& stride) {}
static void log(const std::array<uint32_t, 2>& a) {}
void run(std::array<uint32_t, 2> kernel_size, std::array<uint32_t, 2> stride, bool on) {
    auto orig_stride = stride;
    std::array<uint32_t, 2> conv_stride = stride;
    fold(kernel_size, conv_stride);
    log(stride);
    if (on) {
        kernel_size = {1, 1};
        stride = {1, 1};
    }
    halo(kernel_size);
}
""")
    fn = [n for n in cpp.walk(src.root) if n.type == "function_definition"][-1]
    body = fn.child_by_field_name("body")
    point = [n for n in cpp.walk(body) if n.type == "call_expression" and cpp.call_name(n) == "halo"][0]
    decls = {cpp.last_name(cpp.function_name(n)): [cpp.parameters(n)] for n in cpp.walk(src.root)
             if n.type == "function_definition"}

    def writers(name):
        return dataflow.writers_before(body, name, point, lambda callee: decls.get(callee, []))

    assert writers("kernel_size") != writers("stride") != writers("conv_stride")
    assert writers("orig_stride") == frozenset()
    assert len(writers("kernel_size")) == 2  # the fold call, and the `if`
    assert writers("stride") < writers("kernel_size") and writers("conv_stride") < writers("kernel_size")

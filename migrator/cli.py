"""Command line: plan | check | apply | verify | describe | demo.

Exit codes: 0 success / nothing to do, 1 migration pending (check) or a verify mismatch,
2 any error (one line on stderr; nothing written)."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from migrator import PROG, __version__
from migrator.compile_step import add_compile_args, compile_check
from migrator.errors import DirtyFiles, MigrateError

FORMATS = ("text", "json", "markdown", "github")
DEFAULT_RECIPE = "halo-precise"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) like every other refusal."""

    def error(self, message):
        self.exit(2, f"{PROG}: usage: {message} (see `{self.prog} --help`)\n")


def _global_options(parser: argparse.ArgumentParser, where: str) -> None:
    """-q/-v/--debug/-V, valid before the subcommand (`where`="top") and after it ("sub"). After it
    they default to SUPPRESS, so a subcommand parser never overwrites what was given before it."""
    dflt = {} if where == "top" else {"default": argparse.SUPPRESS}
    parser.add_argument("-V", "--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--recipe", metavar="NAME", help=f"the migration to run (default: {DEFAULT_RECIPE}; "
                        "`describe --help` lists them)", **({"default": DEFAULT_RECIPE} if where == "top" else dflt))
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on stderr", **dflt)
    parser.add_argument("-v", "--verbose", action="count", help="say more on stderr (where the checkout root is, "
                        "which lock is held)", **({"default": 0} if where == "top" else dflt))
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks", **dflt)


def build_parser() -> argparse.ArgumentParser:
    from migrator.recipes import all_recipes

    recipes = all_recipes()
    p = _Parser(prog=PROG, description="Migrate C++ code of a tt-metal checkout, reviewably. Recipes: "
                + "; ".join(f"{r.name}: {r.description.rstrip('.')}" for r in recipes) + ".")
    _global_options(p, "top")
    common = _Parser(add_help=False)
    _global_options(common, "sub")
    sub = p.add_subparsers(dest="command", required=True)

    def with_path(name, help_):
        sp = sub.add_parser(name, help=help_, parents=[common])
        sp.add_argument("path", nargs="?", default=".",
                        help="a tt-metal checkout or a directory inside it (default: the current directory)")
        return sp

    def recipe_options(sp, command):
        """Every recipe's options for `command` (a flag two recipes share is added once)."""
        seen = set()
        for r in recipes:
            for opt in r.options:
                if command in opt.commands and opt.flag not in seen:
                    seen.add(opt.flag)
                    sp.add_argument(opt.flag, **opt.argparse_kwargs())

    for name, help_ in (("plan", "show what the recipe changes, each value and where it comes from, the files to touch"),
                        ("check", "exit 0 if nothing to do, 1 if a migration is pending, 2 on error")):
        sp = with_path(name, help_)
        sp.add_argument("--format", choices=FORMATS, default="text")
        recipe_options(sp, name)
    sp = with_path("apply", "migrate the tree (or --dry-run / --patch / --branch)")
    sp.add_argument("--dry-run", action="store_true", help="print the unified diff, write nothing")
    sp.add_argument("--patch", metavar="FILE", help="write a `git am`-able patch to FILE")
    sp.add_argument("--branch", metavar="NAME", help="commit the migration on a new branch (tree untouched)")
    sp.add_argument("--force", action="store_true", help="with --branch: replace an existing branch")
    sp.add_argument("--no-format", action="store_true", help="do not run clang-format on changed lines")
    sp.add_argument("--recover", action="store_true", help="undo an interrupted apply and exit")
    sp.add_argument("--no-verify", action="store_true",
                    help="skip the recipe's check of every rewrite (on by default; a failure refuses the apply)")
    recipe_options(sp, "apply")
    add_compile_args(sp)
    sp = with_path("verify", "run the recipe's check of every rewrite and report it")
    sp.add_argument("--format", choices=FORMATS, default="text")
    recipe_options(sp, "verify")
    add_compile_args(sp)
    sp = with_path("describe", "print the pull-request description for the pending migration")
    sp.add_argument("--no-verify", action="store_true", help="leave the recipe's check (its tables) out")
    recipe_options(sp, "describe")
    add_compile_args(sp)
    sp = sub.add_parser("demo", help="run on a bundled tt-metal-shaped fixture in a temp dir", parents=[common])
    sp.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from migrator.progress import set_quiet

    set_quiet(args.quiet)
    try:
        _reject_conflicts(args)
        with ExitStack() as held:
            return _dispatch(args, held)
    except MigrateError as exc:
        print(_painted(exc.line()), file=sys.stderr)
        if args.debug:
            raise
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        if args.debug:
            raise
        print(f"{PROG}: internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 2


_APPLY_MODES = ("dry_run", "patch", "branch", "recover")


def _reject_conflicts(args) -> None:
    """Options that cannot be combined are refused, never silently merged."""
    from migrator.errors import UsageError

    if args.command != "demo":
        from migrator.recipes import all_recipes, get

        recipe = get(args.recipe)
        own = {o.flag for o in recipe.options}
        for other in all_recipes():
            for opt in other.options:
                if opt.flag not in own and args.command in opt.commands and \
                        getattr(args, opt.dest, None) not in (None, False, opt.default):
                    raise UsageError(f"{opt.flag} is an option of the recipe {other.name}, not of {recipe.name}")
    if args.command != "apply":
        return
    given = [f"--{m.replace('_', '-')}" for m in _APPLY_MODES if getattr(args, m, None)]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined; choose one way to deliver the migration")
    if args.force and not args.branch:
        raise UsageError("--force only applies to --branch")


def _painted(line: str) -> str:
    """`<prog>: <kind>: ...` with the kind in colour where colour is wanted (see progress.py)."""
    from migrator.progress import paint

    head, sep, rest = line.partition(": ")
    kind, sep2, msg = rest.partition(": ")
    if not sep or not sep2:
        return line
    colour = "yellow" if kind in ("warning", "note") else "red"
    return f"{head}: {paint(kind, colour, sys.stderr)}: {msg}"


def _options(recipe, args) -> dict:
    """The recipe's options from the command line, by name (`with_test`, `specs`, ...), and -q."""
    return {**{o.dest: getattr(args, o.dest, o.default) for o in recipe.options}, "quiet": args.quiet}


def _dispatch(args, held: ExitStack) -> int:
    if args.command == "demo":
        from migrator.demo import run_demo

        return run_demo(keep=args.keep)
    from migrator.engine.checkout import Checkout
    from migrator.engine.deliver.writer import recover
    from migrator.recipes import get

    recipe = get(args.recipe)
    checkout = Checkout.open(args.path, discover=True)  # from a subdirectory too, like git
    from migrator.engine.deliver.lock import checkout_lock

    lock = held.enter_context(checkout_lock(checkout.root))  # until this command is done; recovery runs under it
    if args.verbose and not args.quiet:
        print(f"{PROG}: checkout {checkout.root} ({'git' if checkout.is_git else 'not a git repository'}); "
              f"holding {lock}; recipe {recipe.name}", file=sys.stderr)
    if args.command in ("plan", "check", "apply", "describe", "verify"):
        checkout.start_prime(*recipe.prefilter)  # overlaps the tree scan with the imports below
    restored = recover(checkout.root)
    if restored:
        checkout.discard_prime()
    if restored and not args.quiet:
        print(_painted(f"{PROG}: note: restored {len(restored)} file(s) left by an interrupted apply"),
              file=sys.stderr)
    if args.command == "apply" and args.recover:
        print(f"recovered {len(restored)} file(s)" if restored else "nothing to recover")
        return 0
    options = _options(recipe, args)
    if args.command == "verify":
        return _verify(recipe, checkout, args, options)

    from migrator.engine.project import Project

    changes = recipe.plan(Project(checkout), options)
    if args.command in ("plan", "check", "describe") and changes.pending:
        # line counts and diffs as `apply` delivers them: after clang-format (notes are apply's to print)
        from migrator.engine.formatting import format_changed_lines

        changes.new_contents, _notes = format_changed_lines(checkout.root, changes.originals, changes.new_contents)
    if args.command in ("plan", "check"):
        from migrator.report import render_plan

        _emit(render_plan(changes, recipe, args.format))
        if args.format == "github":
            from migrator.github import write_step_summary

            write_step_summary(render_plan(changes, recipe, "markdown"))
        if args.command == "check":
            return 1 if changes.pending else 0
        return 0
    if args.command == "describe":
        from migrator.describe import pr_description

        check = None if args.no_verify or not changes.pending else recipe.check(changes, checkout, options)
        compiled = compile_check(checkout.root, changes.originals, changes.new_contents, args)
        _emit(pr_description(recipe, changes, check, compiled))
        return 0
    return _apply(recipe, changes, checkout, args, options)


def _verify(recipe, checkout, args, options) -> int:
    """The recipe's verify document, the compile verdict when asked, in the chosen format; exit 1 when not ok."""
    from migrator.compile_step import not_run, wanted
    from migrator.github import write_step_summary
    from migrator.report import render_verify

    result = recipe.verify(checkout, options)
    doc = result.document
    if wanted(args):
        changes = result.changes
        if not changes.pending:
            doc["compile_check"] = not_run("no pending migration to compile")
        else:
            verdict = compile_check(checkout.root, changes.originals, changes.new_contents, args, refuse=False)
            doc["compile_check"] = verdict.to_dict()
            result.ok = result.ok and verdict.ok
    doc["ok"] = result.ok
    fmt = args.format
    if fmt == "github":  # annotations on stdout; the Markdown report in the step summary when there is one
        text = render_verify(result, recipe, fmt,
                             with_markdown=not write_step_summary(render_verify(result, recipe, "markdown")))
    else:
        text = render_verify(result, recipe, fmt)
    if text:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0 if result.ok else 1


def _apply(recipe, changes, checkout, args, options) -> int:
    from migrator.describe import commit_message
    from migrator.engine.deliver import git as gitops
    from migrator.engine.deliver.diff import unified_diff

    if not changes.pending:
        print(f"{checkout.root}: {recipe.words(changes.state)}")
        return 0
    new = changes.new_contents
    if not args.no_format:
        from migrator.engine.formatting import format_changed_lines

        new, notes = format_changed_lines(checkout.root, changes.originals, new)
        for n in notes:
            if not args.quiet:
                print(_painted(f"{PROG}: warning: {n}"), file=sys.stderr)
    check = None if args.no_verify else recipe.check(changes, checkout, options)
    compiled = compile_check(checkout.root, changes.originals, new, args)
    subject, body = commit_message(recipe, changes, check, compiled)
    if args.dry_run or args.patch or args.branch:
        if args.patch:
            data, note = gitops.mailbox_patch(checkout.root, checkout.is_git, changes.originals, new,
                                              f"{subject}\n\n{body}\n", f"{PROG} {__version__}", changes.created)
            _write_outside(Path(args.patch), data, checkout.root)
            _note(args, note)  # only once the patch is written: a refusal stays one line
            print(f"wrote {args.patch} ({len(new)} files)")
        if args.branch:
            gitops.require_commits(checkout.root)
            dirty = gitops.dirty_paths(checkout.root, sorted(set(new) - changes.created))
            if dirty:
                raise DirtyFiles(f"{', '.join(dirty)} differ from HEAD; commit or stash them before --branch")
            sha, note = gitops.create_branch(checkout.root, args.branch, new, f"{subject}\n\n{body}\n",
                                             force=args.force)
            _note(args, note)
            print(f"created branch {args.branch} at {sha[:12]} ({len(new)} files); your checkout is unchanged")
        if args.dry_run:
            _emit(unified_diff(changes.originals, new, changes.created))
        return 0
    dirty = gitops.dirty_paths(checkout.root, sorted(set(new) - changes.created))
    if dirty:
        raise DirtyFiles(f"{', '.join(dirty)} have uncommitted changes; commit or stash them, "
                         "or use --dry-run / --patch / --branch")
    from migrator.engine.deliver.writer import write_all

    write_all(checkout.root, changes.originals, new, created=changes.created)
    print(f"migrated {len(new)} files in {checkout.root}")
    return 0


def _write_outside(path: Path, data: bytes, root: Path) -> None:
    """Write the patch file whole or not at all (writer.write_atomic)."""
    from migrator.engine.deliver.writer import write_atomic
    from migrator.errors import BadPath

    if path.is_dir():
        raise BadPath(f"{path}: cannot write the patch there (it is a directory)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise BadPath(f"{path}: cannot write ({exc.strerror or exc})") from None


def _note(args, note: str | None) -> None:
    if note and not args.quiet:
        print(_painted(f"{PROG}: note: {note}"), file=sys.stderr)


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")

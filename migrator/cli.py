"""Command line: plan | check | apply | verify | describe | demo.

Exit codes: 0 success / nothing to do, 1 migration pending (check) or a verify mismatch,
2 any error (one line on stderr; nothing written)."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from migrator import __version__
from migrator.compile_step import add_compile_args, compile_check
from migrator.errors import DirtyFiles, MigrateError

FORMATS = ("text", "json", "markdown", "github")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) like every other refusal."""

    def error(self, message):
        self.exit(2, f"halo-migrate: usage: {message} (see `{self.prog} --help`)\n")


def _global_options(parser: argparse.ArgumentParser, where: str) -> None:
    """-q/-v/--debug/-V, valid before the subcommand (`where`="top") and after it ("sub"). After it
    they default to SUPPRESS, so a subcommand parser never overwrites what was given before it."""
    dflt = {} if where == "top" else {"default": argparse.SUPPRESS}
    parser.add_argument("-V", "--version", action="version", version=f"halo-migrate {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on stderr", **dflt)
    parser.add_argument("-v", "--verbose", action="count", help="say more on stderr (where the checkout root is, "
                        "which lock is held)", **({"default": 0} if where == "top" else dflt))
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks", **dflt)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="halo-migrate", description=(
        "Replace tt-metal's estimate_halo_output_elems with the exact halo size "
        "(sliding_window::calculate_precise_halo_output_elems)."))
    _global_options(p, "top")
    common = _Parser(add_help=False)
    _global_options(common, "sub")
    sub = p.add_subparsers(dest="command", required=True)

    def with_path(name, help_):
        sp = sub.add_parser(name, help=help_, parents=[common])
        sp.add_argument("path", nargs="?", default=".",
                        help="a tt-metal checkout or a directory inside it (default: the current directory)")
        return sp

    with_test = dict(action="store_true", help="also add a gtest pinning calculate_precise_halo_output_elems to the "
                     "ttnn C++ unit tests, listed in their CMakeLists.txt")
    for name, help_ in (("plan", "show sites, bindings with provenance, threading and files to touch"),
                        ("check", "exit 0 if nothing to do, 1 if a migration is pending, 2 on error")):
        sp = with_path(name, help_)
        sp.add_argument("--format", choices=FORMATS, default="text")
        if name == "plan":
            sp.add_argument("--with-test", **with_test)
    sp = with_path("apply", "migrate the tree (or --dry-run / --patch / --branch)")
    sp.add_argument("--dry-run", action="store_true", help="print the unified diff, write nothing")
    sp.add_argument("--patch", metavar="FILE", help="write a `git am`-able patch to FILE")
    sp.add_argument("--branch", metavar="NAME", help="commit the migration on a new branch (tree untouched)")
    sp.add_argument("--force", action="store_true", help="with --branch: replace an existing branch")
    sp.add_argument("--no-format", action="store_true", help="do not run clang-format on changed lines")
    sp.add_argument("--recover", action="store_true", help="undo an interrupted apply and exit")
    sp.add_argument("--no-verify", action="store_true",
                    help="skip the numeric check of every rewrite (on by default; a mismatch refuses the apply)")
    sp.add_argument("--with-test", **with_test)
    add_compile_args(sp)
    sp = with_path("verify", "check every rewrite numerically against the reference model")
    sp.add_argument("--format", choices=FORMATS, default="text")
    sp.add_argument("--specs", metavar="FILE", help="extra conv specs (JSON like conv2d_short_sweep_specs.json)")
    sp.add_argument("--grids", default="wormhole,blackhole", help="compute grids to evaluate")
    add_compile_args(sp)
    sp.add_argument("--all-paths", action="store_true",
                    help="evaluate every spec on every call path (default: a large tree's specs are spread over "
                         "the paths, so that together they still cover every spec)")
    sp = with_path("describe", "print the pull-request description for the pending migration")
    sp.add_argument("--no-verify", action="store_true", help="leave the numeric tables out")
    sp.add_argument("--with-test", **with_test)
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
        print("halo-migrate: interrupted; nothing was written", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        if args.debug:
            raise
        print(f"halo-migrate: internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 2


_APPLY_MODES = ("dry_run", "patch", "branch", "recover")


def _reject_conflicts(args) -> None:
    """Options that cannot be combined are refused, never silently merged."""
    from migrator.errors import UsageError

    if args.command != "apply":
        return
    given = [f"--{m.replace('_', '-')}" for m in _APPLY_MODES if getattr(args, m, None)]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined; choose one way to deliver the migration")
    if args.force and not args.branch:
        raise UsageError("--force only applies to --branch")


def _painted(line: str) -> str:
    """`halo-migrate: <kind>: ...` with the kind in colour where colour is wanted (see progress.py)."""
    from migrator.progress import paint

    head, sep, rest = line.partition(": ")
    kind, sep2, msg = rest.partition(": ")
    if not sep or not sep2:
        return line
    colour = "yellow" if kind in ("warning", "note") else "red"
    return f"{head}: {paint(kind, colour, sys.stderr)}: {msg}"


def _dispatch(args, held: ExitStack) -> int:
    if args.command == "demo":
        from migrator.demo import run_demo

        return run_demo(keep=args.keep)
    from migrator.engine.checkout import Checkout
    from migrator.engine.deliver.writer import recover

    checkout = Checkout.open(args.path, discover=True)  # from a subdirectory too, like git
    from migrator.engine.deliver.lock import checkout_lock

    lock = held.enter_context(checkout_lock(checkout.root))  # until this command is done; recovery runs under it
    if args.verbose and not args.quiet:
        print(f"halo-migrate: checkout {checkout.root} ({'git' if checkout.is_git else 'not a git repository'}); "
              f"holding {lock}", file=sys.stderr)
    if args.command in ("plan", "check", "apply", "describe", "verify"):
        from migrator.recipe.names import PREFILTER

        checkout.start_prime(*PREFILTER)  # overlaps the tree scan with the imports below
    restored = recover(checkout.root)
    if restored:
        checkout.discard_prime()
    if restored and not args.quiet:
        print(_painted(f"halo-migrate: note: restored {len(restored)} file(s) left by an interrupted apply"),
              file=sys.stderr)
    if args.command == "apply" and args.recover:
        print(f"recovered {len(restored)} file(s)" if restored else "nothing to recover")
        return 0
    if args.command == "verify":
        from migrator.verify.command import run_verify

        return run_verify(checkout, args)

    from migrator.engine.project import Project
    from migrator.recipe.plan import build_plan

    plan = build_plan(Project(checkout), with_test=getattr(args, "with_test", False))
    if args.command in ("plan", "check", "describe") and plan.pending:
        # line counts and diffs as `apply` delivers them: after clang-format (notes are apply's to print)
        from migrator.engine.formatting import format_changed_lines

        plan.new_contents, _notes = format_changed_lines(checkout.root, plan.originals, plan.new_contents)
    if args.command in ("plan", "check"):
        from migrator.report import render_plan

        _emit(render_plan(plan, args.format))
        if args.format == "github":
            _step_summary(plan)
        if args.command == "check":
            return 1 if plan.pending else 0
        return 0
    if args.command == "describe":
        from migrator.describe import pr_description

        summary = None if args.no_verify else _numeric_check(plan, checkout)
        _emit(pr_description(plan, summary, compile_check(checkout.root, plan.originals, plan.new_contents, args)))
        return 0
    return _apply(plan, checkout, args)


def _apply(plan, checkout, args) -> int:
    from migrator.describe import commit_message
    from migrator.engine.deliver import git as gitops
    from migrator.engine.deliver.diff import unified_diff

    if not plan.pending:
        from migrator.report import STATE_WORDS

        print(f"{checkout.root}: {STATE_WORDS.get(plan.state, plan.state)}")
        return 0
    new = plan.new_contents
    if not args.no_format:
        from migrator.engine.formatting import format_changed_lines

        new, notes = format_changed_lines(checkout.root, plan.originals, new)
        for n in notes:
            if not args.quiet:
                print(_painted(f"halo-migrate: warning: {n}"), file=sys.stderr)
    summary = None if args.no_verify else _numeric_check(plan, checkout)
    compiled = compile_check(checkout.root, plan.originals, new, args)
    subject, body = commit_message(plan, summary, compiled)
    if args.dry_run or args.patch or args.branch:
        if args.patch:
            data, note = gitops.mailbox_patch(checkout.root, checkout.is_git, plan.originals, new,
                                              f"{subject}\n\n{body}\n", f"halo-migrate {__version__}", plan.created)
            _write_outside(Path(args.patch), data, checkout.root)
            _note(args, note)  # only once the patch is written: a refusal stays one line
            print(f"wrote {args.patch} ({len(new)} files)")
        if args.branch:
            gitops.require_commits(checkout.root)
            dirty = gitops.dirty_paths(checkout.root, sorted(set(new) - plan.created))
            if dirty:
                raise DirtyFiles(f"{', '.join(dirty)} differ from HEAD; commit or stash them before --branch")
            sha, note = gitops.create_branch(checkout.root, args.branch, new, f"{subject}\n\n{body}\n",
                                             force=args.force)
            _note(args, note)
            print(f"created branch {args.branch} at {sha[:12]} ({len(new)} files); your checkout is unchanged")
        if args.dry_run:
            _emit(unified_diff(plan.originals, new, plan.created))
        return 0
    dirty = gitops.dirty_paths(checkout.root, sorted(set(new) - plan.created))
    if dirty:
        raise DirtyFiles(f"{', '.join(dirty)} have uncommitted changes; commit or stash them, "
                         "or use --dry-run / --patch / --branch")
    from migrator.engine.deliver.writer import write_all

    write_all(checkout.root, plan.originals, new, created=plan.created)
    print(f"migrated {len(new)} files in {checkout.root}")
    return 0


def _numeric_check(plan, checkout) -> list[dict]:
    """verify's per-site summaries; refuses the whole apply if any rewrite disagrees with the
    halo op's runtime config (the safety net for a wrong binding)."""
    from migrator.errors import PostconditionFailed
    from migrator.verify.core import refusal, verify_plan
    from migrator.verify.specs import collect_specs

    if not plan.sites:
        return []
    summaries = verify_plan(plan, collect_specs(checkout.root).specs, checkout=checkout)
    if not summaries:
        raise PostconditionFailed("numeric check found no exact call in the migrated text; nothing written")
    why = refusal(summaries)
    if why:
        raise PostconditionFailed(f"{why} (see `halo-migrate verify`); nothing written")
    return summaries


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
        print(_painted(f"halo-migrate: note: {note}"), file=sys.stderr)


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _step_summary(plan) -> None:
    from migrator.github import write_step_summary
    from migrator.report import render_plan

    write_step_summary(render_plan(plan, "markdown"))

"""Command line: plan | check | apply | verify | describe | demo.

Exit codes: 0 success / nothing to do, 1 migration pending (check) or a verify mismatch,
2 any error (one line on stderr; nothing written)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from migrator import __version__
from migrator.errors import DirtyFiles, MigrateError

FORMATS = ("text", "json", "markdown", "github")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="halo-migrate", description=(
        "Replace tt-metal's estimate_halo_output_elems with the exact halo size "
        "(sliding_window::calculate_precise_halo_output_elems)."))
    p.add_argument("--version", action="version", version=f"halo-migrate {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show Python tracebacks")
    common.add_argument("--quiet", action="store_true", help="no progress or notes on stderr")
    sub = p.add_subparsers(dest="command", required=True)

    def with_path(name, help_):
        sp = sub.add_parser(name, help=help_, parents=[common])
        sp.add_argument("path", help="root of a tt-metal checkout")
        return sp

    for name, help_ in (("plan", "show sites, bindings with provenance, threading and files to touch"),
                        ("check", "exit 0 if nothing to do, 1 if a migration is pending, 2 on error")):
        sp = with_path(name, help_)
        sp.add_argument("--format", choices=FORMATS, default="text")
    sp = with_path("apply", "migrate the tree (or --dry-run / --patch / --branch)")
    sp.add_argument("--dry-run", action="store_true", help="print the unified diff, write nothing")
    sp.add_argument("--patch", metavar="FILE", help="write a `git am`-able patch to FILE")
    sp.add_argument("--branch", metavar="NAME", help="commit the migration on a new branch (tree untouched)")
    sp.add_argument("--force", action="store_true", help="with --branch: replace an existing branch")
    sp.add_argument("--no-format", action="store_true", help="do not run clang-format on changed lines")
    sp.add_argument("--recover", action="store_true", help="undo an interrupted apply and exit")
    sp.add_argument("--no-verify", action="store_true",
                    help="skip the numeric check of every rewrite (on by default; a mismatch refuses the apply)")
    sp = with_path("verify", "check every rewrite numerically against the reference model")
    sp.add_argument("--format", choices=FORMATS, default="text")
    sp.add_argument("--specs", metavar="FILE", help="extra conv specs (JSON like conv2d_short_sweep_specs.json)")
    sp.add_argument("--grids", default="wormhole,blackhole", help="compute grids to evaluate")
    sp.add_argument("--all-paths", action="store_true",
                    help="evaluate every spec on every call path (default: a large tree's specs are spread over "
                         "the paths, so that together they still cover every spec)")
    sp = with_path("describe", "print the pull-request description for the pending migration")
    sp.add_argument("--no-verify", action="store_true", help="leave the numeric tables out")
    sp = sub.add_parser("demo", help="run on a bundled tt-metal-shaped fixture in a temp dir", parents=[common])
    sp.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except MigrateError as exc:
        print(exc.line(), file=sys.stderr)
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


def _dispatch(args) -> int:
    if args.command == "demo":
        from migrator.demo import run_demo

        return run_demo(keep=args.keep)
    from migrator.engine.checkout import Checkout
    from migrator.engine.deliver.writer import recover

    checkout = Checkout.open(args.path)
    if args.command in ("plan", "check", "apply", "describe", "verify"):
        from migrator.recipe.names import PREFILTER

        checkout.start_prime(*PREFILTER)  # overlaps the tree scan with the imports below
    restored = recover(checkout.root)
    if restored:
        checkout.discard_prime()
    if restored and not args.quiet:
        print(f"halo-migrate: note: restored {len(restored)} file(s) left by an interrupted apply", file=sys.stderr)
    if args.command == "apply" and args.recover:
        print(f"recovered {len(restored)} file(s)" if restored else "nothing to recover")
        return 0
    if args.command == "verify":
        from migrator.verify.command import run_verify

        return run_verify(checkout, args)

    from migrator.engine.project import Project
    from migrator.recipe.plan import build_plan

    plan = build_plan(Project(checkout))
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

        _emit(pr_description(plan, None if args.no_verify else _numeric_check(plan, checkout)))
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
                print(f"halo-migrate: warning: {n}", file=sys.stderr)
    summary = None if args.no_verify else _numeric_check(plan, checkout)
    subject, body = commit_message(plan, summary)
    if args.dry_run or args.patch or args.branch:
        if args.patch:
            from migrator.engine.deliver.patch import mailbox_patch

            text = mailbox_patch(plan.originals, new, subject, body, gitops.author(checkout.root),
                                 f"halo-migrate {__version__}")
            _write_outside(Path(args.patch), text.encode("utf-8", "surrogateescape"), checkout.root)
            print(f"wrote {args.patch} ({len(new)} files)")
        if args.branch:
            gitops.require_commits(checkout.root)
            dirty = gitops.dirty_paths(checkout.root, sorted(new))
            if dirty:
                raise DirtyFiles(f"{', '.join(dirty)} differ from HEAD; commit or stash them before --branch")
            sha = gitops.create_branch(checkout.root, args.branch, new, f"{subject}\n\n{body}\n", force=args.force)
            print(f"created branch {args.branch} at {sha[:12]} ({len(new)} files); your checkout is unchanged")
        if args.dry_run:
            _emit(unified_diff(plan.originals, new))
        return 0
    dirty = gitops.dirty_paths(checkout.root, sorted(new))
    if dirty:
        raise DirtyFiles(f"{', '.join(dirty)} have uncommitted changes; commit or stash them, "
                         "or use --dry-run / --patch / --branch")
    from migrator.engine.deliver.writer import write_all

    crash = os.environ.get("HALO_MIGRATE_TEST_CRASH_AFTER")
    write_all(checkout.root, plan.originals, new, _crash_after=int(crash) if crash else None)
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
    """Write the patch file whole or not at all (a temp file beside it, renamed; removed on failure)."""
    import tempfile

    from migrator.errors import BadPath

    if path.is_dir():
        raise BadPath(f"{path}: cannot write the patch there (it is a directory)")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise BadPath(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _step_summary(plan) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from migrator.report import render_plan

    with open(path, "a", encoding="utf-8") as fh:
        fh.write(render_plan(plan, "markdown") + "\n")

"""`--compile-check` for the CLI: options, progress and the refusal, around
:mod:`migrator.engine.compile_check` (which does the work and knows nothing about halos)."""

from __future__ import annotations

import sys

from migrator import PROG
from migrator.errors import BadPath


def add_compile_args(sp) -> None:
    sp.add_argument("--compile-check", action="store_true",
                    help="type-check the migrated code with the build's own compiler and flags (compile_commands.json) "
                         "before anything is written; new diagnostics refuse")
    sp.add_argument("--build-dir", metavar="DIR",
                    help="where compile_commands.json is (implies --compile-check; default: ./build*, build/*)")
    sp.add_argument("-j", "--jobs", type=int, metavar="N",
                    help="parallel compiles for --compile-check (default: cores)")


def wanted(args) -> bool:
    return bool(getattr(args, "compile_check", False) or getattr(args, "build_dir", None))


def compile_check(root, originals: dict, new: dict, args, refuse: bool = True):
    """Run the check if asked (``None`` if not asked or nothing changes); raise the one-line refusal when the
    change adds diagnostics and ``refuse``."""
    if not wanted(args) or not new:
        return None
    if args.jobs is not None and args.jobs < 1:
        raise BadPath(f"-j {args.jobs}: the number of parallel compiles must be at least 1")
    from migrator.engine.compile_check import run_compile_check
    from migrator.progress import Progress, enabled_for

    quiet = getattr(args, "quiet", False)
    with Progress(None, "compile check", enabled_for(sys.stderr, quiet)) as progress:
        def start(n: int) -> None:
            progress.total = n

        verdict = run_compile_check(root, originals, new, build_dir=args.build_dir, jobs=args.jobs,
                                    on_progress=progress.advance, on_start=start)
    if not quiet:
        print(f"{PROG}: {verdict.summary()}", file=sys.stderr)
    if refuse and not verdict.ok:
        raise verdict.refusal()
    return verdict


def not_run(reason: str) -> dict:
    return {"ran": False, "ok": True, "reason": reason}

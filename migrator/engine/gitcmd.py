"""The one way this tool runs git: argument lists only, hooks and the filesystem monitor disabled, no
terminal prompt, stdin closed. A checkout's own `.git/config` must not be able to make the tool run a
program, so every git process (the prefilter's `git grep`, `ls-files`, delivery's `write-tree` and
`format-patch`, ...) starts from ``SAFE_GIT``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SAFE_GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
_ENV = {"GIT_TERMINAL_PROMPT": "0"}


def git_argv(*args: str) -> list[str]:
    return [*SAFE_GIT, *args]


def run_git(cwd: str | os.PathLike, *args: str, input: bytes | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """`git ARGS` in `cwd`, bytes in and out, never raising for a non-zero exit (the caller decides);
    OSError / SubprocessError when git cannot be started or times out."""
    return subprocess.run(git_argv(*args), cwd=Path(cwd), input=input, capture_output=True, timeout=timeout,
                          env={**os.environ, **_ENV, **(env or {})},
                          stdin=subprocess.DEVNULL if input is None else None)


def start_git(cwd: str | os.PathLike, *args: str) -> subprocess.Popen:
    """`git ARGS` in the background (stdout and stderr piped); collect it with `communicate()`."""
    return subprocess.Popen(git_argv(*args), cwd=Path(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env={**os.environ, **_ENV})


__all__ = ["SAFE_GIT", "git_argv", "run_git", "start_git"]

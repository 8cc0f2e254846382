"""Git-style unified diffs of byte contents (CRLF kept, missing final newline marked)."""

from __future__ import annotations

import difflib


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").splitlines(keepends=True)


def file_diff(path: str, old: bytes, new: bytes, context: int = 3, created: bool = False) -> str:
    """One file's diff; `created` marks a file that does not exist yet (`new file mode`, /dev/null)."""
    if old == new and not created:
        return ""
    a, b = _lines(old), _lines(new)
    out = [f"diff --git a/{path} b/{path}\n"]
    out += ["new file mode 100644\n", "--- /dev/null\n"] if created else [f"--- a/{path}\n"]
    out.append(f"+++ b/{path}\n")
    for line in list(difflib.unified_diff(a, b, n=context))[2:]:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def unified_diff(old: dict[str, bytes], new: dict[str, bytes], created=frozenset()) -> str:
    return "".join(file_diff(p, old[p], new[p], created=p in created) for p in sorted(new))


def diffstat(old: dict[str, bytes], new: dict[str, bytes]) -> tuple[list[tuple[str, int, int]], int, int]:
    rows, ins, dels = [], 0, 0
    for p in sorted(new):
        plus = minus = 0
        for line in difflib.unified_diff(_lines(old[p]), _lines(new[p]), n=0):
            if line.startswith("+") and not line.startswith("+++"):
                plus += 1
            elif line.startswith("-") and not line.startswith("---"):
                minus += 1
        rows.append((p, plus, minus))
        ins, dels = ins + plus, dels + minus
    return rows, ins, dels

"""Edits as plain data: a byte range of the original file and the text that replaces it.

An EditSet holds the edits of one file, refuses overlapping ones, and applies them in one splice
pass over the original bytes, so no edit ever sees another's output."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.errors import EditConflict


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str
    origin: str  # which step made it; shown on conflicts and in plans

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end


@dataclass
class EditSet:
    path: str
    edits: list[Edit] = field(default_factory=list)

    def add(self, edit: Edit) -> None:
        if edit.start > edit.end:
            raise EditConflict(f"{self.path}: edit from '{edit.origin}' has a negative range")
        for other in self.edits:
            if (edit.start, edit.end, edit.text) == (other.start, other.end, other.text) and not edit.is_insertion:
                return  # the same replacement asked for twice (e.g. one rename from two #if branches)
            if _overlaps(edit, other):
                raise EditConflict(
                    f"{self.path}: '{edit.origin}' [{edit.start},{edit.end}) overlaps "
                    f"'{other.origin}' [{other.start},{other.end})"
                )
        self.edits.append(edit)

    def __bool__(self) -> bool:
        return bool(self.edits)

    def encoded(self, newline: bytes = b"\n") -> list[tuple[int, int, bytes]]:
        """(start, end, new bytes) in file order, with the file's line endings."""
        out = []
        # Insertions at one offset keep the order they were added in (sorted() is stable).
        for edit in sorted(self.edits, key=lambda e: (e.start, e.end)):
            text = edit.text.replace("\r\n", "\n")
            if newline != b"\n":
                text = text.replace("\n", newline.decode())
            out.append((edit.start, edit.end, text.encode("utf-8", "surrogateescape")))
        return out

    def apply(self, data: bytes, newline: bytes = b"\n") -> bytes:
        out: list[bytes] = []
        cursor = 0
        for start, end, text in self.encoded(newline):
            out.append(data[cursor:start])
            out.append(text)
            cursor = end
        out.append(data[cursor:])
        return b"".join(out)


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.is_insertion and b.is_insertion:
        return False
    if a.is_insertion:
        return b.start < a.start < b.end
    if b.is_insertion:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def map_offset(edits: list[tuple[int, int, bytes]], old: int, inclusive: bool) -> int:
    """Where an original byte offset lands after `edits` (as `EditSet.encoded` gives them); `inclusive`
    counts text inserted at it."""
    shift = 0
    for start, end, text in edits:
        if end < old or (end == old and (inclusive or start < old)):
            shift += len(text) - (end - start)
    return old + shift

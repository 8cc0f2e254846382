"""A mailbox patch (the format `git format-patch` writes) that `git am` applies on HEAD."""

from __future__ import annotations

import email.utils

from migrator.engine.deliver.diff import format_diffstat, unified_diff


def mailbox_patch(old: dict[str, bytes], new: dict[str, bytes], subject: str, body: str,
                  author: str, signature: str, created=frozenset()) -> str:
    date = email.utils.formatdate(localtime=False)
    return (
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        f"From: {author}\n"
        f"Date: {date}\n"
        f"Subject: [PATCH] {subject}\n"
        "\n"
        f"{body.rstrip()}\n"
        "---\n"
        f"{format_diffstat(old, new, created)}\n"
        f"{unified_diff(old, new, created)}"
        "-- \n"
        f"{signature}\n\n"
    )

"""GitHub Actions output: workflow commands escaped per GitHub's rules, and the step summary.

A workflow command is `::name key=value,key=value::message`. In the message `%`, `\r` and `\n`
must be written `%25`, `%0D`, `%0A`; in a property value also `:` and `,` (`%3A`, `%2C`), or a
file name or message holding them would be cut short or read as a new command."""

from __future__ import annotations

import os


def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties) -> str:
    """`::name k=v,...::message` with every part escaped; properties that are None are left out."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def write_step_summary(markdown: str) -> bool:
    """Append `markdown` to $GITHUB_STEP_SUMMARY; False (nothing written) when it is not set."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return True

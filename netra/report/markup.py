"""Data values in a report's Markdown: always literal text, never markup.

    f"- Feature {code(name)} takes 41.0% of spend."       # a code span nothing inside can close
    f"| {code(policy_id, cell=True)} | {text(description)} |"

Feature, model and user names, tool arguments and error messages come from the workload a
client sent, so they may hold Markdown: a feature named
`[Session expired - sign in again](https://evil.example/login)` would be a link in the report
and in its HTML page. So every such value goes through one of these:

- `code(value)`: a code span fenced with more backticks than the value holds. Nothing inside a
  code span is markup, in any reader (GFM's bare-URL autolinks included).
- `text(value)`: prose with the characters that start markup backslash-escaped (links and
  images, emphasis, code, HTML and autolinks, entities, pipes; `:` and `www.` so GFM does not
  autolink a bare URL). Digits, `.`, `,`, `%`, `$` and `-` stay as they are, so the numbers a
  report cites read the same.

Both fold the value onto one line: it cannot end a quote or start a heading, a list or a table
row of its own. In a table cell, `code(value, cell=True)` escapes the value's pipes too (GFM
splits cells on them even inside code spans, and unescapes `\\|` there).
"""

from __future__ import annotations

import re
from typing import Any

MARKUP = re.compile(r"([\\`*_{}\[\]()<>#!|~&:])")
WWW = re.compile(r"(?i)\b(www)\.")
BACKTICKS = re.compile(r"`+")


def one_line(value: Any) -> str:
    """Return `value` as text on one line (runs of whitespace, newlines included, become one space)."""
    return " ".join(str(value).split())


def text(value: Any) -> str:
    """Return `value` as literal inline Markdown: markup characters escaped, on one line."""
    return WWW.sub(r"\1\\.", MARKUP.sub(r"\\\1", one_line(value)))


def code(value: Any, cell: bool = False) -> str:
    """Return `value` as a code span its own backticks cannot close (pipes escaped in a table `cell`)."""
    content = one_line(value)
    if not content:
        return ""
    fence = "`" * (max(len(run) for run in BACKTICKS.findall(content) or [""]) + 1)
    pad = " " if content[0] == "`" or content[-1] == "`" else ""
    span = f"{fence}{pad}{content}{pad}{fence}"
    return span.replace("|", "\\|") if cell else span

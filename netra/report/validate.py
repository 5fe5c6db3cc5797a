"""Grounding check of any markdown: is every number in it one a tool computed?

A thin adapter over `netra.report.cite` (the check `build_report` runs): the figures given
are formatted and cited exactly as a report cites them, and `cite.ungrounded` lists the
numbers nothing accounts for. Each is answered with the sentence it stands in.

    check("Spend was $1,234.50 over 3 days.", [Figure("spend", 1234.5, "usd")])
    # {"grounded": False, "numbers": 2, "ungrounded": [{"text": "3", "sentence": "Spend was ... 3 days."}]}

    figures_of(report.structured)   # the figures a stored report cites (its `citations`)

A figure not in the telemetry has no value (None) and grounds no number; the counts in its
`missing` words (`19,366 of 19,366 events lack latency_ms`) are numbers the report may hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from netra.report.cite import NUMBER, Citations, lacking, ungrounded

FENCE = re.compile(r"(```.*?```)", re.DOTALL)  # kept by `split`, so fenced blocks stay whole
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Figure:
    """A number a tool computed: its name (label), value and unit (`usd`, `pct`, `ms`, ...).

    `value` None: not in the telemetry; `missing` then says how many events lack its field.
    """

    name: str
    value: float | None
    unit: str | None = None
    missing: str = ""


def citations(figures: Iterable[Figure], texts: Iterable[str] = ()) -> Citations:
    """Return the citations of `figures` (formatted as a report formats them) and tool `texts`."""
    cite = Citations()
    for figure in figures:
        entry = {"value": figure.value, "unit": figure.unit or "", "label": figure.name, "missing": figure.missing}
        cite.figure({"figures": {figure.name: entry}}, figure.name)
    cite.tool_text(*texts)
    return cite


def prose_lines(markdown: str) -> list[str]:
    """Return the lines of `markdown` outside fenced code blocks."""
    parts = FENCE.split(markdown)
    return [line for part in parts if not part.startswith("```") for line in part.splitlines()]


def sentence_of(line: str, number: str) -> str:
    """Return the sentence of `line` in which `number` stands (the whole line if none is found)."""
    for sentence in SENTENCE_END.split(line):
        if number in NUMBER.findall(sentence):
            return sentence.strip()
    return line.strip()


def unaccounted(lines: list[str], allowed: set[str]) -> list[dict[str, str]]:
    """Return each number of `lines` not in `allowed`, with its sentence."""
    return [{"text": number, "sentence": sentence_of(line, number)}
            for line in lines for number in ungrounded(line, allowed)]


def check(markdown: str, figures: Iterable[Figure], texts: Iterable[str] = ()) -> dict[str, Any]:
    """Return whether every number of `markdown` is a cited figure, how many were checked, and the others."""
    lines, allowed = prose_lines(markdown), citations(figures, texts).allowed()
    missing = unaccounted(lines, allowed)
    checked = sum(len(ungrounded(line, set())) for line in lines)
    return {"grounded": not missing, "numbers": checked, "ungrounded": missing}


def _figure(entry: Any) -> Figure | None:
    """Return the figure of one stored citation (`{"value", "unit", "label", "missing"}`); None without a number.

    A citation of a figure not in the telemetry (value None, `missing` words) is kept, without a value.
    """
    value, missing = (entry.get("value"), lacking(entry)) if isinstance(entry, dict) else (None, "")
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric and not (value is None and missing):
        return None
    label = str(entry.get("label") or entry.get("figure") or "")
    return Figure(label, float(value) if numeric else None, entry.get("unit"), missing)


def figures_of(structured: dict[str, Any]) -> list[Figure]:
    """Return the figures a stored report cites: the entries of its `citations` list."""
    found = (_figure(entry) for entry in structured.get("citations") or [])
    return [figure for figure in found if figure is not None]

"""Grounding check of any markdown: is every number in it one a tool computed?

A thin adapter over `netra.report.cite` (the check `build_report` runs): the figures given
are formatted and cited exactly as a report cites them, and `cite.ungrounded` lists the
numbers nothing accounts for. Each is answered with the sentence it stands in.

    check("Spend was $1,234.50 over 3 days.", [Figure("spend", 1234.5, "usd")])
    # {"grounded": False, "numbers": 2, "ungrounded": [{"text": "3", "sentence": "Spend was ... 3 days."}]}

    figures_of(report.structured)   # the figures a stored report cites (its `citations`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from netra.report.cite import NUMBER, Citations, ungrounded

FENCE = re.compile(r"(```.*?```)", re.DOTALL)  # kept by `split`, so fenced blocks stay whole
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Figure:
    """A number a tool computed: its name (label), value and unit (`usd`, `pct`, `ms`, ...)."""

    name: str
    value: float
    unit: str | None = None


def citations(figures: Iterable[Figure], texts: Iterable[str] = ()) -> Citations:
    """Return the citations of `figures` (formatted as a report formats them) and tool `texts`."""
    cite = Citations()
    for figure in figures:
        entry = {"value": figure.value, "unit": figure.unit or "", "label": figure.name}
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
    """Return the figure of one stored citation (`{"value", "unit", "label"}`), or None if it has no number."""
    value = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return Figure(str(entry.get("label") or entry.get("figure") or ""), float(value), entry.get("unit"))


def figures_of(structured: dict[str, Any]) -> list[Figure]:
    """Return the figures a stored report cites: the entries of its `citations` list."""
    found = (_figure(entry) for entry in structured.get("citations") or [])
    return [figure for figure in found if figure is not None]

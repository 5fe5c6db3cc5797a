"""Citations: every number in a report is formatted here, from a tool's figure, and recorded.

A figure whose field is not in the telemetry (value None, see `tools.base.Figure`) is quoted as
`not in the telemetry (19,366 of 19,366 events lack latency_ms)`, never as 0 ms or 0.0%: its
entry has no value and the text `not in the telemetry` (the appendix lists it without a
number), and the counts of its `missing` record are numbers the report may contain. A figure
computed over part of the events is quoted with its value; `coverage` says how many lacked it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

# a number standing alone: not part of an identifier such as gpt-4.1 or claude-sonnet-4-5
NUMBER = re.compile(r"(?<![\w.-])\d[\d,]*(?:\.\d+)?(?![\w-])")

FORMATS: dict[str, Callable[[float], str]] = {
    "usd": lambda v: f"${v:,.2f}" if abs(v) >= 1 or v == 0 else f"${v:,.4f}",
    "pct": lambda v: f"{v:,.1f}%",
    "percent": lambda v: f"{v:,.1f}%",
    "ratio": lambda v: f"{v * 100:,.1f}%",
    "ms": lambda v: f"{v:,.0f} ms",
    "requests": lambda v: f"{v:,.0f}",
    "tokens": lambda v: f"{v:,.0f}",
    "count": lambda v: f"{v:,.0f}",
    "days": lambda v: f"{v:,.1f}" if v >= 1 else f"{v:,.3f}",  # a 58-minute window is 0.040, not 0.0
}


NOT_IN_TELEMETRY = "not in the telemetry"

ALIASES = {"%": "pct", "pairs": "count", "models": "count", "policies": "count", "bool": "count",
           "blocks": "count", "usd_per_month": "usd", "usd/month": "usd"}


def _plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def fmt(value: float | None, unit: str) -> str:
    """Format a value for its unit, case-insensitively (unknown units: plain number; None: not in the telemetry)."""
    if value is None:
        return NOT_IN_TELEMETRY
    key = unit.lower()
    return FORMATS.get(ALIASES.get(key, key), _plain)(float(value))


def lacking(figure: dict[str, Any]) -> str:
    """Return the words of a figure's `missing` record ('19,366 of 19,366 events lack latency_ms'), or ''."""
    missing = figure.get("missing")
    return str(missing.get("text", "")) if isinstance(missing, dict) else str(missing or "")


@dataclass
class Citations:
    """The figures a report quotes, each tied to the tool call that produced it."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def figure(self, result: dict[str, Any], name: str) -> str:
        """Quote figure `name` of a tool result (a dumped ToolResult)."""
        figure = result["figures"][name]
        missing = lacking(figure)
        text = self._add(figure["value"], figure["unit"], name, result, figure.get("label") or name, missing)
        return f"{text} ({missing})" if figure["value"] is None and missing else text

    def coverage(self, result: dict[str, Any], name: str) -> str:
        """Return ' (N of M events lack F)' when figure `name` was computed over part of the events, else ''."""
        figure = result.get("figures", {}).get(name, {})
        if figure.get("value") is None or not lacking(figure):
            return ""
        self.texts.append(lacking(figure))
        return f" ({lacking(figure)})"

    def cell(self, result: dict[str, Any], row: dict[str, Any], column: str, unit: str, label: str) -> str:
        """Quote one value from a tool result's rows."""
        return self._add(row[column], unit, column, result, label)

    def params(self, policy: dict[str, Any]) -> None:
        """Cite a policy's numeric parameters (a cap, a retry budget) from the tool that set them."""
        source = {"tool": policy.get("source_tool", ""), "call_id": policy.get("source_call_id", "")}
        for name, value in policy.get("params", {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self._add(value, "count", name, source, f"{name} of {policy.get('policy_id', '')}")

    def tool_text(self, *texts: str) -> None:
        """Accept numbers inside prose a tool wrote (a policy description, a label)."""
        self.texts.extend(texts)

    def allowed(self) -> set[str]:
        """Return every numeric token the report may contain."""
        quoted = [e[k] for e in self.entries for k in ("text", "label", "missing")] + self.texts
        return {n for text in quoted for n in NUMBER.findall(text)}

    def _add(self, value: float | None, unit: str, name: str, result: dict, label: str, missing: str = "") -> str:
        text = fmt(value, unit)
        self.entries.append({"text": text, "value": value, "unit": unit, "figure": name, "label": label,
                             "tool": result.get("tool", ""), "call_id": result.get("call_id", ""), "missing": missing})
        return text


def ungrounded(markdown: str, allowed: set[str]) -> list[str]:
    """Return numbers in the report body that no cited figure accounts for.

    Code spans and fenced blocks (identifiers, SQL), quoted lines (the user's question)
    and ordered-list markers are skipped.
    """
    text = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    text = re.sub(r"(?m)^>.*$", "", text)
    text = re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", text)  # code spans, whatever their fence
    text = re.sub(r"(?m)^\s*\d+\.\s", "", text)
    return [n for n in NUMBER.findall(text) if n not in allowed]

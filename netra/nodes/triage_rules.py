"""Offline triage: rules that read intent, goal, window, filters, target and topics."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Callable

from netra.graph.state import Request

_I = re.IGNORECASE
OPTIMIZE = re.compile(r"\b(cut|reduce|lower|sav(e|es|ing|ings)|optimi[sz]\w*|cheaper|trim|recommend\w*|improve)\b", _I)
TARGET = re.compile(r"(\d+(?:\.\d+)?)\s*(%|percent)", _I)
QUALITY = re.compile(r"\bquality\b", _I)
TOPICS: dict[str, re.Pattern] = {
    "cost": re.compile(r"\b(cost|costs|spend|spent|spending|bill|money|dollars?|price|cheaper)\b|\$", _I),
    "latency": re.compile(r"\b(latency|p50|p95|p99|slow|slower|faster|ttft|speed)\b", _I),
    "tokens": re.compile(r"\btokens?\b", _I),
    "cache": re.compile(r"\b(cach\w*|prefix\w*)\b", _I),
    "models": re.compile(r"\b(model mix|which models|models)\b", _I),
}
GOALS = {frozenset(): "cost", frozenset({"cost"}): "cost", frozenset({"latency"}): "latency",
         frozenset({"cost", "latency"}): "both"}
_DAYS: list[tuple[re.Pattern, Callable[[re.Match], float]]] = [
    (re.compile(r"\blast\s+(\d+)\s+days?\b", _I), lambda m: float(m.group(1))),
    (re.compile(r"\blast\s+(\d+)\s+hours?\b", _I), lambda m: float(m.group(1)) / 24),
    (re.compile(r"\b(last|past|this)\s+week\b", _I), lambda m: 7.0),
    (re.compile(r"\b(last|past|this)\s+month\b", _I), lambda m: 30.0),
    (re.compile(r"\b(yesterday|today|last\s+day)\b", _I), lambda m: 1.0),
]


def window_days(question: str) -> tuple[float | None, str]:
    """Return the look-back in days the question asks for (None = all data) and its words."""
    for pattern, days in _DAYS:
        match = pattern.search(question)
        if match:
            return days(match), match.group(0)
    return None, "all data"


def window(question: str, data_end: datetime | None) -> dict[str, str | None]:
    """Return start/end (ISO, UTC) anchored at the newest event, and a label."""
    return anchored(*window_days(question), data_end)


def anchored(days: float | None, label: str, data_end: datetime | None) -> dict[str, str | None]:
    """Return the window of `days` ending at the newest event (None: all data), with `label`."""
    if days is None or data_end is None:
        return {"start": None, "end": None, "window_label": label}
    end = data_end + timedelta(milliseconds=1)
    return {"start": (end - timedelta(days=days)).isoformat(), "end": end.isoformat(), "window_label": label}


def mentioned(question: str, names: list[str]) -> str | None:
    """Return the longest of `names` that the question mentions as a word."""
    hits = [n for n in names if re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w.-])", question, _I)]
    return max(hits, key=len) if hits else None


def topics(question: str) -> list[str]:
    """Return the analysis topics the question touches (cost when none)."""
    found = [name for name, pattern in TOPICS.items() if pattern.search(question)]
    return found or ["cost"]


def target_pct(question: str) -> float | None:
    """Return a savings target such as "cut 30%" as 30.0."""
    match = TARGET.search(question)
    return float(match.group(1)) if match else None


def filters(question: str, names: dict[str, list[str]]) -> dict[str, str]:
    """Return {column: name} for each model, feature or user the question names."""
    found = {column: mentioned(question, options) for column, options in names.items()}
    return {column: name for column, name in found.items() if name}


def parse(question: str, data_end: datetime | None, names: dict[str, list[str]]) -> Request:
    """Read a question into a Request (no model needed)."""
    found = topics(question)
    optimize = bool(OPTIMIZE.search(question)) or target_pct(question) is not None
    return Request(question=question, intent="optimize" if optimize else "question",
                   goal=GOALS[frozenset(found) & {"cost", "latency"}],
                   filters=filters(question, names), target_saving_pct=target_pct(question),
                   preserve_quality=bool(QUALITY.search(question)), topics=found,
                   **window(question, data_end))

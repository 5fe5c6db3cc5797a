"""Grounding: every number in model-written text must be a figure some tool computed.

    result = validate_text(prose, figures, question="Cut spend by 30%?")
    result.ok            # False when a number matches no figure
    result.ungrounded    # [{"number": "$9,999.00", "sentence": "Spend is $9,999.00 a month."}]
    result.to_dict()     # {"ok", "checked", "ungrounded"}

`figures` are mappings with `value` and `unit` (and optionally `name`/`figure`/`label`), as
tool figures and report citations are, or one mapping {name: {value, unit, ...}}.

A number in the text matches a figure when, after units are read, it is within 0.5% of it
or within half a unit of the text's last displayed digit (so `$1.2M` matches 1,234,567).
Units: `$` (money), `%` / `percent` (percentages; a `ratio` figure 0.329 is 32.9%, and a
bare 0.329 matches a 32.9% figure), `ms` / `s` (either way round), multipliers `k`, `M`,
`B`/`bn`. A number with no unit may match any figure's value. Not checked: code spans and
fenced blocks (identifiers), dates and times, years, ordered-list markers, and any number
that appears in a figure's name or label, in `names` or in the question. A figure not in the
telemetry (value None) matches no number; the counts of its `missing` record (how many events
lack its field) may be written as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from netra.report.cite import NUMBER, lacking

RELATIVE_TOLERANCE = 0.005
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?")
# removed before numbers are read: code, dates, times, years (list markers go line by line)
_SKIP = [re.compile(p, re.DOTALL) for p in (
    r"```.*?```", r"`[^`]*`",
    r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?",
    rf"\b{_MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?|\d{{4}}\b)",
    rf"\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}}\b)?", r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b", r"(?<![\d,.$])\b(?:19|20)\d{2}\b(?![\d,%]|\.\d)",
)]
LIST_MARKER = re.compile(r"^\s*(?:[-*+>]|\d+[.)])\s+")
TOKEN = re.compile(r"(?<![\w.\-])(?P<cur>\$)?(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
                   r"(?:\s?(?P<suf>%|percent|ms|s|k|K|M|B|bn|x))?(?![\w\-]|\.\d)")
SENTENCE = re.compile(r"(?<=[.!?])\s+")
MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "bn": 1e9}
SUFFIX_KIND = {"%": "pct", "percent": "pct", "ms": "ms", "s": "s"}


def _unit_kind(unit: str) -> str:
    unit = (unit or "").lower()
    if "usd" in unit or "$" in unit:
        return "usd"
    table = {"pct": "pct", "percent": "pct", "%": "pct", "ratio": "ratio", "share": "ratio",
             "fraction": "ratio", "ms": "ms", "s": "s", "sec": "s", "seconds": "s"}
    return table.get(unit, "plain")


# figure unit kind -> the (kind, scale) readings a text number may match it by
READINGS: dict[str, list[tuple[str, float]]] = {
    "usd": [("usd", 1.0), ("plain", 1.0)],
    "pct": [("pct", 1.0), ("plain", 0.01), ("plain", 1.0)],
    "ratio": [("pct", 100.0), ("plain", 1.0)],
    "ms": [("ms", 1.0), ("s", 0.001), ("plain", 1.0)],
    "s": [("s", 1.0), ("ms", 1000.0), ("plain", 1.0)],
    "plain": [("plain", 1.0)],
}


@dataclass(frozen=True)
class Quoted:
    """A number as written: its value (multiplier applied), kind and displayed precision."""

    text: str
    value: float
    kind: str
    precision: float


def read_number(match: re.Match) -> Quoted:
    """Return the number a TOKEN match wrote, with its kind and displayed precision."""
    num, suffix = match.group("num").replace(",", ""), match.group("suf") or ""
    scale = MULTIPLIERS.get(suffix, 1.0)
    decimals = len(num.split(".")[1]) if "." in num else 0
    kind = "usd" if match.group("cur") else SUFFIX_KIND.get(suffix, "plain")
    return Quoted(match.group(0), float(num) * scale, kind, 10 ** -decimals * scale)


def candidates(figures: Iterable[Mapping[str, Any]]) -> list[tuple[str, float]]:
    """Return every (kind, value) reading of the figures."""
    return [(kind, abs(float(f["value"])) * scale) for f in figures if _numeric(f.get("value"))
            for kind, scale in READINGS[_unit_kind(str(f.get("unit", "")))]]


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def matches(quoted: Quoted, readings: list[tuple[str, float]]) -> bool:
    """Whether a written number is one of the readings, within rounding."""
    value = abs(quoted.value)
    return any((quoted.kind == "plain" or kind == quoted.kind)
               and abs(value - fig) <= max(RELATIVE_TOLERANCE * fig, quoted.precision / 2 + 1e-12)
               for kind, fig in readings)


@dataclass
class GroundingResult:
    """How many numbers were checked, and those that match no figure (with their sentence)."""

    checked: int = 0
    ungrounded: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every number is grounded."""
        return not self.ungrounded

    def sentences(self) -> list[str]:
        """Return the offending sentences, each once, in order."""
        return list(dict.fromkeys(u["sentence"] for u in self.ungrounded))

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data."""
        return {"ok": self.ok, "checked": self.checked, "ungrounded": list(self.ungrounded)}


def _as_list(figures: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if isinstance(figures, Mapping):
        return [{"name": name, **f} for name, f in figures.items() if isinstance(f, Mapping)]
    return list(figures)


def allowed_literals(figures: list[Mapping[str, Any]], texts: Iterable[str]) -> set[str]:
    """Return numbers that may appear as written: those in figure names/labels/missing records and `texts`."""
    words = [str(f.get(k, "")) for f in figures for k in ("name", "figure", "label")] + list(texts)
    words += [lacking(dict(f)) for f in figures]
    return {n.replace(",", "") for text in words for n in NUMBER.findall(text)}


def _clean(sentence: str) -> str:
    for pattern in _SKIP[1:]:
        sentence = pattern.sub(" ", sentence)
    return sentence


def sentences(text: str) -> list[str]:
    """Return the sentences of `text`, line by line, without code blocks or list markers."""
    lines = _SKIP[0].sub(" ", text).splitlines()
    return [s.strip() for line in lines for s in SENTENCE.split(LIST_MARKER.sub("", line)) if s.strip()]


def validate_text(text: str, figures: Iterable[Mapping[str, Any]] | Mapping[str, Any],
                  question: str = "", names: Iterable[str] = ()) -> GroundingResult:
    """Check every number of `text` against `figures`; name the sentences that fail."""
    listed = _as_list(figures)
    readings, allowed = candidates(listed), allowed_literals(listed, [question, *names])
    result = GroundingResult()
    for sentence in sentences(text):
        _check(sentence, readings, allowed, result)
    return result


def _check(sentence: str, readings: list[tuple[str, float]], allowed: set[str], result: GroundingResult) -> None:
    for match in TOKEN.finditer(_clean(sentence)):
        quoted = read_number(match)
        result.checked += 1
        if match.group("num").replace(",", "") not in allowed and not matches(quoted, readings):
            result.ungrounded.append({"number": quoted.text.strip(), "sentence": sentence})

"""Which fields the scoped events carry: one query counts, per field a source may not log, the events lacking it.

An event lacks a field of `schema.FIELD_BITS` when its importer set the field's bit in
`missing_fields` (its source does not carry the field), or, for a nullable or array field,
when its own value is NULL or empty: `quality_score` NULL (unscored), `prefix_hashes` []
(no hashes). `HAS[field]` is the SQL condition of an event that carries the field: a tool
computes a field's figures over those events only, never over the defaults (0 ms, status
`ok`) the others hold.

A tool states which fields each figure needs (`needing`); `Coverage.mark` then gives a
figure whose field no scoped event carries the value None ("not in the telemetry") and a
`Missing` record saying how many events lack it; a figure computed over part of the events
gets the record too, and each lacking field gets a note:

    cov = coverage(q, args)                  # counts of the scope (the query kept as evidence)
    result = cov.mark(finish(...), NEEDS)    # latency figures None when no event has latency_ms
    LATENCY = CoveredFigures(TOOL, FIGURES, NEEDS)
    LATENCY.result(q, args, values, rows, notes)   # the same two steps, for a tool declared as data
    groups = coverage_by(q, args, "model")   # the same counts per model
    row = groups[name].blank(row, NEEDS)     # a model whose events all lack latency: its latency cells None

The SQL holds the bits as constants of `FIELD_BITS` (Netra's, never input); the scope's values
are bound parameters as everywhere (`scope.where`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from netra.tools._sql import FigureSpec, Queries, finish
from netra.tools.base import Figure, Missing, ToolResult
from netra.tools.scope import Scope
from netra.workloads.schema import FIELD_BITS

# figure name -> the fields it is computed from
Needs = Mapping[str, tuple[str, ...]]

# nullable or array field -> the value that means its event lacks it, besides its bit
_EMPTY_SQL: dict[str, str] = {"quality_score": "quality_score IS NULL", "prefix_hashes": "empty(prefix_hashes)"}
# field -> the SQL condition of an event that lacks it
LACKS: dict[str, str] = {name: " OR ".join(filter(None, (f"bitAnd(missing_fields, {bit}) != 0", _EMPTY_SQL.get(name))))
                         for name, bit in FIELD_BITS.items()}
HAS: dict[str, str] = {name: f"NOT ({condition})" for name, condition in LACKS.items()}

# what a cost figure means for events whose source logs no cache token counts
UNCACHED = "their cost is priced as if no input was read from a prompt cache (an upper bound if one was)"

_COUNTS_SQL = ", ".join(f"countIf({condition}) AS lack_{name}" for name, condition in LACKS.items())
COVERAGE_SQL = f"""SELECT {{column}} AS name, count() AS events, {_COUNTS_SQL}
FROM workload_events {{where}}
GROUP BY name"""


def needing(fields: str | tuple[str, ...], *figures: str) -> dict[str, tuple[str, ...]]:
    """Return {figure: fields} for each of `figures` (one field or several)."""
    return dict.fromkeys(figures, (fields,) if isinstance(fields, str) else fields)


@dataclass(frozen=True)
class Coverage:
    """How many events a scope (or one group of it) holds, and how many of them lack each field."""

    events: int = 0
    lacking: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Coverage:
        """Return the coverage of one row of `COVERAGE_SQL`."""
        return cls(int(row["events"]), {name: int(row[f"lack_{name}"]) for name in FIELD_BITS})

    def lack(self, name: str) -> int:
        """Return how many events lack field `name`."""
        return self.lacking.get(name, 0)

    def absent(self, name: str) -> bool:
        """Return whether no event carries field `name` (some event lacks it and none has it)."""
        return 0 < self.lack(name) >= self.events

    def missing(self, name: str) -> Missing | None:
        """Return the `Missing` record of field `name`; None when every event carries it."""
        lacking = self.lack(name)
        if not lacking:
            return None
        return Missing(field=name, lacking=lacking, events=self.events,
                       text=f"{lacking:,} of {self.events:,} events lack {name}")

    def worst(self, fields: tuple[str, ...]) -> str:
        """Return the field of `fields` the most events lack (the first on a tie)."""
        return max(fields, key=lambda name: (self.lack(name), -fields.index(name)))

    def mark(self, result: ToolResult, needs: Needs) -> ToolResult:
        """Give the figures of `needs` their coverage (None when their field is absent) and note each lacking field."""
        for name, fields in needs.items():
            self._mark(result.figures[name], fields)
        result.notes += self.notes(needs)
        return result

    def _mark(self, figure: Figure, fields: tuple[str, ...]) -> None:
        """Attach the worst-covered field's record to `figure`; drop its value when no event carries that field."""
        name = self.worst(fields)
        figure.missing = self.missing(name)
        if self.absent(name):
            figure.value = None

    def blank(self, row: dict[str, Any], needs: Needs) -> dict[str, Any]:
        """Return `row` with None in each column of `needs` whose field none of this group's events carries."""
        gone = [name for name, fields in needs.items() if name in row and self.absent(self.worst(fields))]
        return row | dict.fromkeys(gone)

    def notes(self, needs: Needs) -> list[str]:
        """Return one note per field some event lacks: which figures it leaves out or narrows."""
        fields = dict.fromkeys(name for fields in needs.values() for name in fields if self.lack(name))
        return [self._note(name, [f for f, needed in needs.items() if name in needed]) for name in fields]

    def _note(self, name: str, figures: list[str]) -> str:
        """Return the note of one lacking field and the figures that need it."""
        text = self.missing(name).text
        if self.absent(name):
            return f"{text}: not in the telemetry, so these figures are not available: {', '.join(figures)}"
        return f"{text}: these figures cover the other {self.events - self.lack(name):,} events: {', '.join(figures)}"

    def caveat(self, name: str, consequence: str) -> list[str]:
        """Return a note that events lack field `name` and what that means for the tool's figures, if any do."""
        missing = self.missing(name)
        return [f"{missing.text}: {consequence}"] if missing else []


@dataclass(frozen=True)
class CoveredFigures:
    """A tool's figures (name -> (unit, label)) and the fields each needs: its results come out marked."""

    tool: str
    spec: FigureSpec
    needs: Needs

    def result(self, q: Queries, scope: Scope, values: Mapping[str, float], rows: list[dict],
               notes: list[str]) -> ToolResult:
        """Return the result `_sql.finish` builds, its figures marked with the scope's coverage."""
        return coverage(q, scope).mark(finish(self.tool, self.spec, values, rows, q, notes), self.needs)

    def marked(self, q: Queries, scope: Scope, result: ToolResult) -> ToolResult:
        """Mark a result the tool built itself; its evidence becomes q's queries, the coverage query included."""
        cov = coverage(q, scope)
        return cov.mark(result.model_copy(update={"evidence": list(q.evidence)}), self.needs)


def caveat(q: Queries, scope: Scope, name: str, consequence: str) -> list[str]:
    """Return a note that scoped events lack field `name`, and what that means for the figures, if any lack it."""
    return coverage(q, scope).caveat(name, consequence)


def uncached(q: Queries, scope: Scope) -> list[str]:
    """Return the caveat of a cost tool when scoped events lack cache token counts (`UNCACHED`), if any do."""
    return caveat(q, scope, "cached_input_tokens", UNCACHED)


def coverage(q: Queries, scope: Scope, extra: str = "") -> Coverage:
    """Return the coverage of the scoped events (plus the fixed condition `extra`); the query joins q's evidence.

    Several tools of an analysis ask for the same scope's coverage: its rows are kept per data version.
    """
    found = q.rows(COVERAGE_SQL, scope, extra, column="''", kind="coverage")
    return Coverage.of(found[0]) if found else Coverage()


def coverage_by(q: Queries, scope: Scope, column: str, extra: str = "") -> dict[Any, Coverage]:
    """Return the coverage of each value of `column` (a tool's whitelisted column) among the scoped events."""
    found = q.rows(COVERAGE_SQL, scope, extra, column=column, kind="coverage_by")
    return {row["name"]: Coverage.of(row) for row in found}

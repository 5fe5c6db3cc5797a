"""Which events a question is about, and how a window's total becomes a month.

    window = Window.last_days(events, 7.0, feature="support_bot")
    scoped = window.select(events)          # the events the question is about, in replay order
    monthly(12.0, window.span(events))      # a window total scaled to 30 days

The rules are those of docs/tools.md: a scope keeps events with `start <= timestamp < end`
and the named feature, model and user; a look-back of N days ends 1 ms after the newest event
of the workload; a month is 30 days. A window spans the time between the first and the last
event of the workload within its start and end, whatever its filters (narrowing a question to
a feature seen on one day of a week still leaves a week's window; the tools state the same
rule), never less than an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

DAY_MS = 86_400_000
DAYS_PER_MONTH = 30.0
MIN_SPAN_DAYS = 1 / 24  # a window spans at least one hour (the rule `netra.tools.scope.span_of` states)
FILTERS = ("feature", "model", "user_id")


def order(event: Mapping) -> tuple[int, str]:
    """Return the replay order of an event: timestamp (ms), then request id."""
    return int(event["timestamp"]), str(event["request_id"])


@dataclass(frozen=True)
class Window:
    """A time window (ms, end exclusive; None: open) and the filters of a question's scope."""

    start_ms: int | None = None
    end_ms: int | None = None
    feature: str | None = None
    model: str | None = None
    user_id: str | None = None

    @classmethod
    def last_days(cls, events: Sequence[Mapping], days: float | None, **filters: str | None) -> Window:
        """Return the scope of the last `days` days of `events` (None: all of them) with `filters`."""
        if days is None or not events:
            return cls(**filters)
        end = max(int(e["timestamp"]) for e in events) + 1
        return cls(end - round(days * DAY_MS), end, **filters)

    def holds(self, event: Mapping) -> bool:
        """Return whether the event is in the window and passes every filter."""
        ts = int(event["timestamp"])
        inside = (self.start_ms is None or ts >= self.start_ms) and (self.end_ms is None or ts < self.end_ms)
        return inside and all(getattr(self, f) in (None, event.get(f)) for f in FILTERS)

    def select(self, events: Sequence[Mapping]) -> list[Mapping]:
        """Return the events in scope, in replay order."""
        return sorted((e for e in events if self.holds(e)), key=order)

    def span(self, events: Sequence[Mapping]) -> float:
        """Return the days the window spans: its events whatever the filters (at least an hour)."""
        return span_days(Window(self.start_ms, self.end_ms).select(events))


def span_days(events: Sequence[Mapping]) -> float:
    """Return the days between the first and the last event (at least an hour)."""
    if not events:
        return MIN_SPAN_DAYS
    stamps = [int(e["timestamp"]) for e in events]
    return max((max(stamps) - min(stamps)) / DAY_MS, MIN_SPAN_DAYS)


def monthly(window_usd: float, days: float) -> float:
    """Scale a window total to a 30-day month."""
    return window_usd * DAYS_PER_MONTH / days

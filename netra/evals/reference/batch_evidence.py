"""Whether a (feature, model)'s requests can wait for a Batch API: the stated rule, read per event.

    evidence = BatchEvidence(window_events, user_events)
    evidence.signals("nightly_export", pair_events)     # ["schedule"], or [] when nothing says so

Written from the rule stated in docs/tools.md ("Evidence each policy needs", the `batch_api` row
of `netra.tools.evidence.EVIDENCE`), not from its code. Absence is never evidence: a request that
is not streamed, or has no session, says nothing about whether someone waits for it. Any one of:

- `declared`: every unbatched request of the pair has `attributes` `interactive` = `false` or
  `batch_eligible` = `true` (values compared lower-cased);
- `already_batched`: `is_batch` = 1 on at least half of the feature's requests;
- `slow_first_token`: `ttft_ms` above 10,000 on at least half of the feature's requests that log a
  `ttft_ms` above 0;
- `schedule`: no request of the feature has a `user_id` while other features' requests do; it runs
  on 2 or more UTC days; every hour of the day it runs in recurs on 2 or more of them; and on those
  days the rest of the workload has requests, some outside the feature's hours.

Feature-level signals read the feature's requests on every model in the scope's window and user
filter; the schedule reads the whole window.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping, Sequence

MEDIAN = 0.5  # a feature-level signal describes the median request (at least half)
INTERACTIVE_BOUND_MS = 10_000  # Nielsen's 10 s limit of attention, the bound docs/tools.md states
RECUR_DAYS = 2  # a recurrence needs a second occurrence
HOUR_MS, DAY_MS = 3_600_000, 86_400_000


def declares(event: Mapping) -> bool:
    """Return whether a request says nobody waits for it."""
    attributes = {str(k): str(v).lower() for k, v in (event.get("attributes") or {}).items()}
    return attributes.get("interactive") == "false" or attributes.get("batch_eligible") == "true"


def share(part: int, whole: int) -> float:
    """Return part / whole (0 when whole is 0)."""
    return part / whole if whole else 0.0


def day_hour(event: Mapping) -> tuple[int, int]:
    """Return the UTC day number and hour of an event."""
    ts = int(event["timestamp"])
    return ts // DAY_MS, ts % DAY_MS // HOUR_MS


class BatchEvidence:
    """The requests batch evidence is read from: the scope's window, and its window and user filter."""

    def __init__(self, window_events: Sequence[Mapping], user_events: Sequence[Mapping]) -> None:
        self.window_events = window_events
        self.features: dict[str, list[Mapping]] = defaultdict(list)
        for event in user_events:
            self.features[str(event["feature"])].append(event)

    def signals(self, feature: str, pair_events: Sequence[Mapping]) -> list[str]:
        """Return the names of the signals that hold for a pair of `feature`, in the rule's order."""
        return [name for name, holds in SIGNALS.items() if holds(self, feature, pair_events)]

    def declared(self, feature: str, pair_events: Sequence[Mapping]) -> bool:
        """Return whether every unbatched request of the pair declares itself (and there is one)."""
        unbatched = [e for e in pair_events if int(e.get("is_batch") or 0) != 1]
        return bool(unbatched) and all(declares(e) for e in unbatched)

    def already_batched(self, feature: str, pair_events: Sequence[Mapping]) -> bool:
        """Return whether at least half of the feature's requests are already batched."""
        events = self.features.get(feature, [])
        return share(sum(int(e.get("is_batch") or 0) == 1 for e in events), len(events)) >= MEDIAN

    def slow_first_token(self, feature: str, pair_events: Sequence[Mapping]) -> bool:
        """Return whether at least half of the feature's timed first tokens took over the bound."""
        timed = [int(e.get("ttft_ms") or 0) for e in self.features.get(feature, [])]
        timed = [t for t in timed if t > 0]
        return share(sum(t > INTERACTIVE_BOUND_MS for t in timed), len(timed)) >= MEDIAN

    def schedule(self, feature: str, pair_events: Sequence[Mapping]) -> bool:
        """Return whether the feature runs like a job started by a clock (the module's rule)."""
        return ScheduleCheck(self.window_events, feature).found()


class ScheduleCheck:
    """One feature's (day, hour) slots against the rest of the workload in the window."""

    def __init__(self, events: Sequence[Mapping], feature: str) -> None:
        self.mine = [e for e in events if e.get("feature") == feature]
        self.rest = [e for e in events if e.get("feature") != feature]
        self.slots = {day_hour(e) for e in self.mine}
        self.days = {day for day, _ in self.slots}
        self.hours = {hour for _, hour in self.slots}

    def no_user(self) -> bool:
        """Return whether none of its requests has a user while other features' requests do."""
        return not any(e.get("user_id") for e in self.mine) and any(e.get("user_id") for e in self.rest)

    def recurs(self) -> bool:
        """Return whether it runs on 2+ days and each of its hours recurs on 2+ of them."""
        per_hour = [sum((day, hour) in self.slots for day in self.days) for hour in self.hours]
        return len(self.days) >= RECUR_DAYS and all(n >= RECUR_DAYS for n in per_hour)

    def quiet_otherwise(self) -> bool:
        """Return whether the rest runs on its days and some of it outside its hours."""
        on_its_days = [day_hour(e) for e in self.rest if day_hour(e)[0] in self.days]
        return bool(on_its_days) and any(hour not in self.hours for _, hour in on_its_days)

    def found(self) -> bool:
        """Return whether every step of the schedule rule holds."""
        return bool(self.mine) and self.no_user() and self.recurs() and self.quiet_otherwise()


# signal -> its test, in the order of the rule
SIGNALS: dict[str, Callable[[BatchEvidence, str, Sequence[Mapping]], bool]] = {
    "declared": BatchEvidence.declared, "already_batched": BatchEvidence.already_batched,
    "slow_first_token": BatchEvidence.slow_first_token, "schedule": BatchEvidence.schedule,
}

"""The scheduled-job pattern: a feature that fires at the same hours on several days, with no end user.

    grid = HourGrid(q.rows(HOURS_SQL, scope))      # the scope's requests per (feature, UTC day, hour)
    found = grid.check("nightly_enrichment")        # Schedule(found, factor, days, hours, text)

The rule (the `schedule` signal of `evidence.EVIDENCE`), each step from the data, no tuned threshold:

1. no request of the feature carries a `user_id` (a clock, not a person, starts it), while other
   features' requests do (so the workspace logs user ids: their absence here is information, not a
   gap in the logs);
2. it fires on 2 or more UTC days (once is not a recurrence);
3. every hour of the day it fires in, it fires in on 2 or more of those days (its window recurs;
   an hour used once is not part of a schedule);
4. on those days the rest of the workload has requests (without other traffic a window cannot be
   told from the service's normal day), and some of them fall outside the feature's hours (the
   feature is silent while the product is in use: its window is narrower than the product's day).

Its factor is the share of the rest's requests on those days that fall outside the feature's hours:
1 when it runs only while everything else is quiet, near 0 when it runs when everyone else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# the scope's requests (any feature, model or user: the scope's time window only) per feature, UTC day and hour
HOURS_SQL = """SELECT feature, toString(toDate(timestamp)) AS day, toHour(timestamp) AS hour, count() AS requests,
    countIf(user_id != '') AS with_user
FROM workload_events {where}
GROUP BY feature, day, hour ORDER BY feature, day, hour"""

RECUR_DAYS = 2  # a recurrence needs a second occurrence


@dataclass(frozen=True)
class Schedule:
    """Whether a feature runs on a schedule, the factor of that evidence, and a sentence saying why (not)."""

    found: bool
    factor: float
    text: str
    absent: bool = False  # the data to decide is missing (no user ids logged anywhere, one day, no other traffic)


class _Feature:
    """One feature's hours against the rest of the workload on the days it fires."""

    def __init__(self, mine: np.ndarray, everyone: np.ndarray, users: tuple[int, int]) -> None:
        (self.users, self.others_users), active = users, mine.sum(axis=1) > 0
        self.days, self.hours = int(active.sum()), np.flatnonzero(mine.sum(axis=0) > 0)
        self.recurring = (mine[:, self.hours] > 0).sum(axis=0) >= RECUR_DAYS
        rest = (everyone - mine)[active]
        self.rest, self.outside = float(rest.sum()), float(np.delete(rest, self.hours, axis=1).sum())

    def hours_text(self) -> str:
        """Return its hours as `01, 02, 03`."""
        return ", ".join(f"{h:02d}" for h in self.hours)


# (passes, why not, whether the data to decide is missing) in order: the first failing row says why
# the feature is not a scheduled job
_RULES: tuple[tuple[Callable[[_Feature], bool], str, bool], ...] = (
    (lambda f: f.users == 0, "{users} of its requests carry a user_id (a scheduled job has no end user)", False),
    (lambda f: f.others_users > 0, "no request in the window logs a user_id, so a job cannot be told from users",
     True),
    (lambda f: f.days >= RECUR_DAYS, "it is seen on {days} UTC day(s); a schedule recurs on 2 or more", True),
    (lambda f: bool(f.recurring.all()), "some of its hours ({hours} UTC) are used on one day only", False),
    (lambda f: f.rest > 0, "no other traffic on its days to tell its hours from the service's day", True),
    (lambda f: f.outside > 0, "it fires in every hour in which the rest of the workload does", False),
)
_FOUND = ("runs on a schedule: {days} UTC days at hours {hours} UTC, no user ids; {factor:.0%} of the rest of "
          "the workload's requests on those days fall outside those hours")


class HourGrid:
    """The scope's requests per feature, UTC day and hour, from the rows of `HOURS_SQL`."""

    def __init__(self, rows: list[dict]) -> None:
        self.features = sorted({r["feature"] for r in rows})
        days = sorted({r["day"] for r in rows})
        index = (self._codes(rows, "feature", self.features), self._codes(rows, "day", days),
                 np.array([int(r["hour"]) for r in rows], dtype=np.int64))
        self.counts = np.zeros((len(self.features), len(days), 24))
        np.add.at(self.counts, index, [float(r["requests"]) for r in rows])
        self.users = np.bincount(index[0], [float(r["with_user"]) for r in rows], len(self.features))

    @staticmethod
    def _codes(rows: list[dict], key: str, values: list[str]) -> np.ndarray:
        """Return each row's position of `key` in `values`."""
        position = {value: i for i, value in enumerate(values)}
        return np.array([position[r[key]] for r in rows], dtype=np.int64)

    def check(self, feature: str) -> Schedule:
        """Return whether `feature` runs on a schedule (module docstring), with its factor and a sentence."""
        if feature not in self.features:
            return Schedule(False, 0.0, "it has no requests in the scope's window")
        i = self.features.index(feature)
        users = (int(self.users[i]), int(self.users.sum() - self.users[i]))
        return _judge(_Feature(self.counts[i], self.counts.sum(axis=0), users))


def _judge(f: _Feature) -> Schedule:
    """Apply `_RULES` to one feature."""
    values = {"users": f.users, "days": f.days, "hours": f.hours_text()}
    failed = next((rule for rule in _RULES if not rule[0](f)), None)
    if failed is not None:
        return Schedule(False, 0.0, failed[1].format(**values), failed[2])
    factor = f.outside / f.rest
    return Schedule(True, factor, _FOUND.format(**values, factor=factor))

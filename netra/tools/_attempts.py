"""The scoped attempts the latency gains simulator replays, read once per scope and data version.

    found = scoped_attempts(ctx, q, scope, ["chat", "summarizer"])   # numpy columns, as `attempts`
    table = attempt_table(ctx, q, scope)                             # the shared, coded columns
    chosen = table.chosen(["chat", "summarizer"])                    # their rows, counts

The chains and retries of `error_rates.ATTEMPTS_SQL` are windows partitioned by (feature,
model, prompt_hash): a feature's attempts do not depend on which other features are read. So
every scoped feature's attempts are read with one bound query (kept per store and data
version in `_cache_replay.memo`, shared by every round of every `policy_simulator` call of an
analysis) and each call keeps the rows of its features. The query is recorded as evidence on
every call.

The kept `AttemptTable` holds numpy columns with feature and model as integer codes into their
sorted names and the rows ordered by request (stably: a request's attempts keep the order the
query gave), each request numbered densely in that order. So a call selects its features by
code, and its requests are runs of equal numbers: no string comparison, sort or hash per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.tools._cache_replay.arrays import read_only
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._event_frame import ARROW_SETTINGS, Labels
from netra.tools._sql import Queries
from netra.tools.base import Evidence, ToolContext
from netra.tools.coverage import Coverage
from netra.tools.error_rates import ATTEMPTS_SQL
from netra.tools.scope import Scope, where

KIND = "attempts"  # the memo of these loads
# feature and model as stored (LowCardinality), sent as Arrow dictionaries (`_event_frame.ARROW_SETTINGS`):
# `sorted_labels` codes them from their dictionaries, no string per row (`error_rates.TEXT_LABELS`: as text)
CODED_LABELS = "feature AS f, model AS m"
NUMBERS = ("lat", "timed", "ttft", "out_n", "in_n", "cached_n", "request", "retried")  # as the query gives them


def sorted_labels(column: pa.ChunkedArray, order: np.ndarray) -> Labels:
    """Encode a text (or dictionary) column, its rows taken in `order`, as codes into its sorted distinct
    values (code order is name order). A dictionary's values no row holds are dropped (ClickHouse sends
    a LowCardinality column's whole dictionary)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    indices = encoded.indices.to_numpy()
    used = np.bincount(indices, minlength=len(encoded.dictionary)) > 0
    values, rank = np.unique(encoded.dictionary.to_numpy(zero_copy_only=False)[used], return_inverse=True)
    recode = np.full(len(used), -1, dtype=np.int32)
    recode[used] = rank
    return Labels(read_only(recode[indices][order]), values)


@dataclass(frozen=True)
class Chosen:
    """The attempts of some features: their feature codes (those present, ascending) and counts."""

    codes: np.ndarray
    attempts: int  # rows of these features
    timed: int  # of which logged latency
    untimed_features: list[str]  # features none of whose attempts logged latency, sorted

    def coverage(self) -> Coverage:
        """Return how many of the attempts lack latency_ms."""
        return Coverage(self.attempts, {"latency_ms": self.attempts - self.timed})


@dataclass(frozen=True)
class AttemptTable:
    """Every scoped feature's attempts, ordered by request; shared read-only by the calls of an analysis.

    The rows are sorted stably by the query's `request` value, so a request's attempts are one run
    of rows in the order the query gave them, and `request` numbers the runs 0, 1, ...
    """

    numbers: dict[str, np.ndarray]  # NUMBERS, rows in request order
    feature: Labels  # `sorted_labels`
    model: Labels
    request: np.ndarray  # each row's request number (non-decreasing)
    per_feature: np.ndarray  # (attempts, timed attempts) by feature code, shape (2, features)

    @classmethod
    def of(cls, table: pa.Table) -> AttemptTable:
        """Code and order the rows of `ATTEMPTS_SQL`."""
        order = np.argsort(table["request"].to_numpy(), kind="stable")
        numbers = {name: read_only(table[name].to_numpy()[order]) for name in NUMBERS}
        feature, request = sorted_labels(table["f"], order), read_only(np.cumsum(starts(numbers["request"])) - 1)
        return cls(numbers, feature, sorted_labels(table["m"], order), request, _per_feature(feature, numbers["timed"] > 0))

    def chosen(self, features: list[str]) -> Chosen:
        """Return the features of `features` that have attempts, with their counts."""
        codes = np.unique([c for c in map(self.feature.code, features) if c >= 0]).astype(np.int32)
        attempts, timed = self.per_feature[:, codes].sum(axis=1)
        untimed = [str(self.feature.values[c]) for c in codes if self.per_feature[1, c] == 0]
        return Chosen(codes, int(attempts), int(timed), untimed)

    def rows(self, chosen: Chosen, timed_only: bool = False) -> np.ndarray:
        """Return the row numbers (ascending) of the chosen features' attempts (or of those that logged latency)."""
        wanted = np.zeros(len(self.feature.values), dtype=bool)
        wanted[chosen.codes] = True
        keep = wanted[self.feature.codes]
        return np.flatnonzero(keep & (self.numbers["timed"] > 0) if timed_only else keep)

    def columns(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Return the attempts at `rows` as `error_rates.attempts` gives them (feature and model as text)."""
        return {"f": self.feature.strings(rows), "m": self.model.strings(rows),
                **{name: column[rows] for name, column in self.numbers.items()}}


def starts(values: np.ndarray) -> np.ndarray:
    """Return whether each row starts a run of equal values (the first row always does)."""
    found = np.ones(len(values), dtype=bool)
    found[1:] = values[1:] != values[:-1]
    return found


def _per_feature(feature: Labels, timed: np.ndarray) -> np.ndarray:
    """Return the attempts and the timed attempts of each feature code, shape (2, features)."""
    size = len(feature.values)
    counts = [np.bincount(feature.codes, minlength=size), np.bincount(feature.codes, weights=timed, minlength=size)]
    return read_only(np.array(counts, dtype=np.int64))


def attempts_query(scope: Scope, window_s: int) -> tuple[str, dict[str, Any]]:
    """Return the SQL and bound parameters of every scoped feature's attempts."""
    clause, params = where(scope)
    sql = ATTEMPTS_SQL.replace("{where}", clause).replace("{labels}", CODED_LABELS) + "\n" + ARROW_SETTINGS
    return sql, {**params, "gap_ms": window_s * 1000}


def attempt_table(ctx: ToolContext, q: Queries, scope: Scope, window_s: int = 60) -> AttemptTable:
    """Return every scoped feature's attempts, loaded once per scope and data version; record the query."""
    sql, params = attempts_query(scope, window_s)
    q.evidence.append(Evidence(sql=sql, params=params))
    memo = memo_of(ctx.store, KIND)
    return memo.get(Loaded(sql, params), lambda: AttemptTable.of(ctx.store.arrow(sql, params)))


def scoped_attempts(ctx: ToolContext, q: Queries, scope: Scope, features: list[str],
                    window_s: int = 60) -> dict[str, np.ndarray]:
    """Return the scoped attempts of `features` as numpy columns (`error_rates.attempts`' columns)."""
    table = attempt_table(ctx, q, scope, window_s)
    return table.columns(table.rows(table.chosen(features)))

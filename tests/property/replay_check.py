"""Run the production replay on a workload and compare it with the reference, event by event.

    check_replay(ctx, reference_catalog, events, "5m")   # events already in ctx's store

The engine's costs come from the one pricing function, `price_events`, over the events'
columns with the engine's reads and writes in place of the logged ones (docs/caching.md,
"Re-pricing"); the reference prices its own decisions with its own pricing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from netra.tools.base import ToolContext
from netra.tools.scope import Scope, in_workspace
from tests.property.pricing_check import close, production_costs
from netra.evals.reference import ReferenceCatalog, ReplayRow, replay

CENT = 0.005  # the largest difference of a (feature, provider, model) total
# the engine's write class -> (cache_write_tokens, cache_write_1h_tokens) of W written tokens;
# OpenAI's writes are billed as input, so they stay in `input`
WRITE_COLUMNS = {"cache_write": lambda w: (w, 0), "cache_write_1h": lambda w: (w, w),
                 "input": lambda w: (0, 0), "": lambda w: (0, 0)}


@dataclass(frozen=True)
class EngineRow:
    """One event of the engine's `CacheReplay`."""

    request_id: str
    eligible: bool
    cacheable_tokens: int
    read_tokens: int
    write_tokens: int
    write_class: str


def engine_replay(ctx: ToolContext, choice: str) -> list[EngineRow]:
    """Run the production replay over the whole store; one row per event with prefix hashes."""
    from netra.tools._cache_replay import replay_scope  # here, so the pricing checks never wait on it

    with in_workspace(ctx.workspace_id):  # as ToolDispatcher runs a tool
        r = replay_scope(ctx, Scope(), choice)
    columns = (r.request_id, r.eligible, r.cacheable_tokens, r.read_tokens, r.write_tokens, r.write_class)
    return [EngineRow(str(i), bool(e), int(c), int(rd), int(w), str(k)) for i, e, c, rd, w, k in zip(*columns)]


def engine_replayed_event(event: Mapping, row: EngineRow) -> Mapping:
    """Return the event with the engine's reads and writes in place of the logged ones."""
    if not row.eligible:
        return event
    writes, writes_1h = WRITE_COLUMNS[row.write_class](row.write_tokens)
    return {**event, "cached_input_tokens": row.read_tokens, "cache_write_tokens": writes,
            "cache_write_1h_tokens": writes_1h}


class ReplayCheck:
    """One workload replayed by the reference and by the engine under one TTL option."""

    def __init__(self, ctx: ToolContext, reference: ReferenceCatalog, events: Sequence[Mapping], choice: str) -> None:
        self.catalog, self.choice = ctx.catalog, choice
        self.events = {str(e["request_id"]): e for e in events}
        self.reference: list[ReplayRow] = replay(events, reference, choice)
        self.engine = engine_replay(ctx, choice)

    def same_events(self) -> None:
        """Assert both replay the same events in the same (timestamp, request_id) order."""
        expected = [r.request_id for r in self.reference]
        assert [r.request_id for r in self.engine] == expected, f"{self.choice}: events or order differ"

    def same_decisions(self) -> None:
        """Assert every event's eligibility, reads and writes agree."""
        expected = {r.request_id: (r.decision.eligible, r.decision.read_tokens, r.decision.write_tokens)
                    for r in self.reference}
        actual = {r.request_id: (r.eligible, r.read_tokens, r.write_tokens) for r in self.engine}
        assert actual == expected, f"{self.choice}: (eligible, read, write) differ"

    def same_depths(self) -> None:
        """Assert c(r) x block size (0 when not replayed), and the write class of writing events."""
        expected = {r.request_id: (r.decision.cacheable_tokens, _write_class(r)) for r in self.reference}
        actual = {r.request_id: (r.cacheable_tokens, _engine_write_class(r)) for r in self.engine}
        assert actual == expected, f"{self.choice}: (cacheable tokens, write class) differ"

    def costs(self) -> list[tuple[ReplayRow, float, float]]:
        """Return each reference row with the engine's cost as logged and under the option."""
        logged = production_costs(self.catalog, [self.events[r.request_id] for r in self.engine])
        replayed = production_costs(self.catalog, [engine_replayed_event(self.events[r.request_id], r)
                                                   for r in self.engine])
        return list(zip(self.reference, logged, replayed))

    def same_costs(self) -> None:
        """Assert each event's costs agree (relative 1e-9) and each pair's totals to the cent."""
        costs = self.costs()
        wrong = [(r.request_id, r.logged_cost, lo, r.replay_cost, re) for r, lo, re in costs
                 if not (close(r.logged_cost, lo) and close(r.replay_cost, re))]
        assert not wrong, f"{self.choice}: (id, reference logged, engine logged, reference, engine) {wrong}"
        assert all(abs(d) <= CENT for d in _pair_differences(costs).values()), _pair_differences(costs)

    def check(self) -> None:
        """Run every comparison, from the coarsest to the finest."""
        self.same_events()
        self.same_decisions()
        self.same_depths()
        self.same_costs()


def _write_class(row: ReplayRow) -> str | None:
    """Return the write class to compare: '' when ineligible, None (any) when nothing is written."""
    if not row.decision.eligible:
        return ""
    return row.decision.write_class if row.decision.write_tokens else None


def _engine_write_class(row: EngineRow) -> str | None:
    """Return the engine's write class in the shape of `_write_class`."""
    return row.write_class if not row.eligible or row.write_tokens else None


def _pair_differences(costs: Iterable[tuple[ReplayRow, float, float]]) -> dict[tuple[str, str, str], float]:
    """Return reference minus engine saving per (feature, provider, model)."""
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for row, logged, replayed in costs:
        totals[(row.feature, row.provider, row.model)] += (row.logged_cost - row.replay_cost) - (logged - replayed)
    return dict(totals)


def check_replay(ctx: ToolContext, reference: ReferenceCatalog, events: Sequence[Mapping], choice: str) -> None:
    """Assert that the engine replays `events` (already in ctx's store) as the reference does."""
    ReplayCheck(ctx, reference, events, choice).check()

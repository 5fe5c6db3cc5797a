"""What the joint simulator reads, loaded once per scope, pairs and data version, and shared.

    cost = shared(ctx, queries, Shape("joint_scope", scope, []), lambda: ScopeCost.load(ctx, scope))
    events = pair_events(ctx, queries, scope, pairs)   # kept loads of these pairs, one query for the rest

The policy tools of one analysis (`policy_simulator`, `cost_impact_simulator`,
`optimal_policy_proposer`, `savings_summarizer`) each build a `JointSimulator` over the same
scope, often for the same pairs. The scope's cost per feature (one grouped query priced by the
one pricing function, `_sql.GroupCosts`, and the window's span) and each set of pairs' events
(`_event_frame.load_frame`, priced by `Pricer`) are kept in the store's memo
(`_cache_replay.memo`: keyed by the bound query and the data version), and every caller gets
the queries that produced them as its own evidence. What is shared is never changed: a
simulation copies the columns it changes and the baseline costs.

Events are kept per load, each load the pairs one query read. A set of pairs whose pairs have
all been read (at this data version, scope and catalog) costs no query: one kept load that
read them all serves as is; otherwise each pair's events are taken from a kept load that read
it, and the pairs no load read are read by one query (kept in turn). So an analysis that
simulates each proposed policy alone, then all of them together, reads each pair once. The
evidence of joined events is the queries of the loads they came from.

Joined events are the events of each load in turn, not one time order across pairs. That
changes no figure: a simulation only ever takes the events of one pair (`EventFrame.rows_of`),
which are in (timestamp, request_id) order in every load, and everything it computes is per
event (prices, changed columns) or summed over one pair's events in that order (`Outcome.saved`,
`Attempts`, the per-day sums of `Savings.per_day`, the request-id join of the cache replay).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

from netra.tools._cache_replay.arrays import read_only
from netra.tools._cache_replay.memo import Kept, Loaded, memo_of
from netra.tools._event_frame import EventFrame, FrameParts, Pricer, load_frame
from netra.tools._sql import PRICE_GROUP_SQL, PRICED_SQL, GroupCosts, Queries
from netra.tools.base import Evidence, ToolContext
from netra.tools.scope import Scope, where

# the scope's cost: token classes summed per (feature, model) and pricing key
SCOPE_SQL = f"""SELECT feature, model, {PRICED_SQL}
FROM workload_events {{where}}
GROUP BY feature, model, {PRICE_GROUP_SQL}
ORDER BY feature, model, {PRICE_GROUP_SQL}"""


def feature_costs(ctx: ToolContext, groups: list[dict]) -> dict[str, float]:
    """Return the window cost of each feature, its groups priced by the one pricing function."""
    costs: dict[str, float] = defaultdict(float)
    for group, cost in zip(groups, GroupCosts(ctx.catalog, groups).cost() if groups else []):
        costs[group["feature"]] += float(cost)
    return dict(costs)


@dataclass(frozen=True)
class ScopeCost:
    """The scope's window cost per feature and the days it spans, and the queries that gave them."""

    features: dict[str, float]
    days: float
    evidence: list[Evidence]

    @classmethod
    def load(cls, ctx: ToolContext, scope: Scope) -> ScopeCost:
        """Run the scope's cost query (priced by the one pricing function) and its span."""
        queries = Queries(ctx.store)
        features = feature_costs(ctx, queries.rows(SCOPE_SQL, scope, kind="joint_features"))
        return cls(features, queries.span(scope) if features else 1.0, queries.evidence)


@dataclass(frozen=True)
class PairEvents:
    """The scoped events of some (feature, model) pairs, their cost as logged, and the queries that read them."""

    frame: EventFrame
    baseline: np.ndarray  # read-only: each run copies it
    evidence: list[Evidence]

    @classmethod
    def load(cls, ctx: ToolContext, scope: Scope, pairs: list[tuple[str, str]]) -> PairEvents:
        """Read the pairs' events with one bound query (none for no pairs) and price them."""
        evidence: list[Evidence] = []
        frame = load_frame(ctx.store, scope, pairs, evidence)
        return cls(frame, read_only(Pricer(ctx.catalog).cost(frame.events, np.arange(frame.n))), evidence)

    @classmethod
    def joined(cls, parts: list[tuple[PairEvents, list[tuple[str, str]]]]) -> PairEvents:
        """Return the events of some pairs of each load, load after load (module docstring), and all their queries."""
        rows = [events.rows_of(pairs) for events, pairs in parts]
        frame = FrameParts([(events.frame, at) for (events, _), at in zip(parts, rows)]).frame()
        baseline = np.concatenate([events.baseline[at] for (events, _), at in zip(parts, rows)])
        evidence = [e for events, _ in parts for e in events.evidence]
        return cls(frame, read_only(baseline), [e for i, e in enumerate(evidence) if e not in evidence[:i]])

    def rows_of(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Return the positions of the events of `pairs`, in the frame's order."""
        return np.sort(np.concatenate([self.frame.rows_of(*pair) for pair in pairs]))

    @property
    def nbytes(self) -> int:
        """Return the bytes held (the memo's budget counts them)."""
        return self.frame.nbytes + self.baseline.nbytes


Shared = TypeVar("Shared", ScopeCost, PairEvents)
Pair = tuple[str, str]


def same_scope(kept: Loaded, wanted: Loaded) -> bool:
    """Return whether two loads read the same scope with the same catalog (whatever their pairs)."""
    rest = {k: v for k, v in kept.params.items() if k != "pairs"} == {k: v for k, v in wanted.params.items()
                                                                         if k != "pairs"}
    return (kept.sql, kept.catalog) == (wanted.sql, wanted.catalog) and rest


def covers(kept: Loaded, wanted: Loaded) -> bool:
    """Return whether a kept load read every pair `wanted` asks for, over the same scope and catalog."""
    pairs = set(wanted.params["pairs"])
    return same_scope(kept, wanted) and bool(pairs) and pairs <= set(kept.params["pairs"])


@dataclass(frozen=True)
class Shape:
    """What a shared load is: its kind (the memo's: 'joint_scope'), scope and pairs."""

    kind: str
    scope: Scope
    pairs: list[tuple[str, str]]


def shared(ctx: ToolContext, queries: Queries, shape: Shape, load: Callable[[], Shared]) -> Shared:
    """Return what `load` gives for `shape`, loaded once per data version; keep its queries as evidence.

    The policy tools of one analysis simulate many sets of policies over the same scope (and
    often the same pairs): they share the scope's cost and each set of pairs' events. Events
    read for more pairs serve a subset of them: a simulation only ever takes the rows of its
    own pairs (`EventFrame.rows_of`), in the same order, priced event by event.
    """
    clause, params = where(shape.scope)
    loaded = Loaded(clause, {**params, "pairs": shape.pairs}, ctx.catalog)
    entry = memo_of(ctx.store, shape.kind).get(loaded, load, lambda kept: covers(kept, loaded))
    queries.evidence.extend(entry.evidence)
    return entry


def pair_events(ctx: ToolContext, queries: Queries, scope: Scope, pairs: list[Pair]) -> PairEvents:
    """Return the scoped events of `pairs` from the loads kept at this data version, reading only the rest.

    The queries that read them are added to `queries.evidence` (module docstring).
    """
    clause, params = where(scope)
    wanted = Loaded(clause, {**params, "pairs": pairs}, ctx.catalog)
    events = memo_of(ctx.store, "joint_pairs").compose(lambda kept: PairLoads(ctx, scope, wanted, kept).events())
    queries.evidence.extend(events.evidence)
    return events


@dataclass(frozen=True)
class PairLoads:
    """The loads of the wanted pairs' scope kept at one data version, and the query of the pairs none read."""

    ctx: ToolContext
    scope: Scope
    wanted: Loaded
    kept: Kept[PairEvents]

    def events(self) -> PairEvents:
        """Return the wanted pairs' events: one load's as is, else joined from several (none for no pairs)."""
        parts = [(self.kept.get(loaded, lambda: self.load(loaded)), pairs) for loaded, pairs in self.sources()]
        if len(parts) == 1:
            return parts[0][0]
        return PairEvents.joined(parts) if parts else self.load(self.wanted)

    def load(self, loaded: Loaded) -> PairEvents:
        """Read the events of the pairs of `loaded` with one query."""
        return PairEvents.load(self.ctx, self.scope, list(loaded.params["pairs"]))

    def sources(self) -> list[tuple[Loaded, list[Pair]]]:
        """Return each load to take wanted pairs from, and which: kept ones first, then the query of the rest."""
        held = self.held()
        missing = [p for p in self.wanted.params["pairs"] if p not in held]
        if missing:
            held.update(dict.fromkeys(missing, Loaded(self.wanted.sql, {**self.wanted.params, "pairs": missing},
                                                      self.wanted.catalog)))
        loads = list({id(loaded): loaded for loaded in held.values()}.values())
        return [(loaded, [p for p, by in held.items() if by is loaded]) for loaded in loads]

    def held(self) -> dict[Pair, Loaded]:
        """Return, for each wanted pair a kept load read (in the wanted order), that load.

        One that read them all if there is one, else the newest that read the pair.
        """
        loads = [e.loaded for e in self.kept.entries() if same_scope(e.loaded, self.wanted)]
        candidates = [loaded for loaded in loads if covers(loaded, self.wanted)][:1] or loads
        pairs = self.wanted.params["pairs"]
        found = {p: [loaded for loaded in candidates if p in loaded.params["pairs"]] for p in pairs}
        return {p: loads[0] for p, loads in found.items() if loads}

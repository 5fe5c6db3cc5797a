"""What the joint simulator reads, loaded once per scope, pairs and data version, and shared.

    cost = shared(ctx, queries, Shape("joint_scope", scope, []), lambda: ScopeCost.load(ctx, scope))

The policy tools of one analysis (`policy_simulator`, `cost_impact_simulator`,
`optimal_policy_proposer`, `savings_summarizer`) each build a `JointSimulator` over the same
scope, often for the same pairs. The scope's cost per feature (one grouped query priced by the
one pricing function, `_sql.GroupCosts`, and the window's span) and each set of pairs' events
(`_event_frame.load_frame`, priced by `Pricer`) are kept in the store's memo
(`_cache_replay.memo`: keyed by the bound query and the data version), and every caller gets
the queries that produced them as its own evidence. What is shared is never changed: a
simulation copies the columns it changes and the baseline costs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

from netra.tools._cache_replay.arrays import read_only
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._event_frame import EventFrame, Pricer, load_frame
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
        features = feature_costs(ctx, queries.rows(SCOPE_SQL, scope))
        return cls(features, queries.span(scope) if features else 1.0, queries.evidence)


@dataclass(frozen=True)
class PairEvents:
    """The scoped events of some (feature, model) pairs, their cost as logged, and the query that read them."""

    frame: EventFrame
    baseline: np.ndarray  # read-only: each run copies it
    evidence: list[Evidence]

    @classmethod
    def load(cls, ctx: ToolContext, scope: Scope, pairs: list[tuple[str, str]]) -> PairEvents:
        """Read the pairs' events with one bound query (none for no pairs) and price them."""
        evidence: list[Evidence] = []
        frame = load_frame(ctx.store, scope, pairs, evidence)
        return cls(frame, read_only(Pricer(ctx.catalog).cost(frame.events, np.arange(frame.n))), evidence)


Shared = TypeVar("Shared", ScopeCost, PairEvents)


def covers(kept: Loaded, wanted: Loaded) -> bool:
    """Return whether a kept load read every pair `wanted` asks for, over the same scope and catalog."""
    same = (kept.sql, kept.catalog) == (wanted.sql, wanted.catalog)
    rest = {k: v for k, v in kept.params.items() if k != "pairs"} == {k: v for k, v in wanted.params.items()
                                                                         if k != "pairs"}
    pairs = set(wanted.params["pairs"])
    return same and rest and bool(pairs) and pairs <= set(kept.params["pairs"])


@dataclass(frozen=True)
class Shape:
    """What a shared load is: its kind ('joint_scope' or 'joint_pairs'), scope and pairs."""

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

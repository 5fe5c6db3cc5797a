"""The plain-Python reference replay on a benchmark store, and its agreement with the engine.

    ref = ReferenceRun.of(ctx, "5m")             # reads the events, replays them one by one (timed)
    ref.differing(replay), ref.saving, engine_saving(ctx, "5m")

Used by bench/bench_cache.py and bench/bench_joint.py: the engine's figures are only worth
timing if they are the reference's, event by event and to the cent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np

from netra.evals.reference import ReferenceCatalog, ReplayRow, replay
from netra.evals.reference.joint import JointReplay, PolicySpec
from netra.tools._cache_replay import PRICING_EXTRA, CacheReplay, scoped_events
from netra.tools.base import ToolContext
from netra.tools.findings import Policy
from netra.tools.prompt_cache import replayed_columns
from netra.tools.scope import Scope, in_workspace
from netra.workloads.catalog import PACKAGED_CATALOG
from netra.workloads.pricing import PRICING_COLUMNS, price_events

# what the reference reads of each event (timestamp in ms, as it expects)
_COLUMNS = ", ".join((*PRICING_COLUMNS, "request_id", "feature", "provider", "prefix_hashes", "block_size"))
EVENTS_SQL = (f"SELECT toUnixTimestamp64Milli(timestamp) AS timestamp, {_COLUMNS} FROM workload_events "
              "WHERE workspace_id = {workspace_id:String} AND notEmpty(prefix_hashes)")
_LABELS = ("model", "service_tier", "status")
# every scoped event, with what the reference joint simulation reads of it
JOINT_SQL = EVENTS_SQL.replace(" AND notEmpty(prefix_hashes)", "").replace(
    "FROM workload_events", ", prompt_hash, max_tokens FROM workload_events")


def reference_catalog(ctx: ToolContext) -> ReferenceCatalog:
    """Return the reference's catalog: the packaged rows, the production name matcher (as the tests do)."""
    return ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], ctx.catalog.resolve)


@dataclass(frozen=True)
class ReferenceRun:
    """The reference's replay of every event with prefix hashes, and how long it took (ms)."""

    rows: list[ReplayRow]
    wall: float
    cpu: float

    @classmethod
    def of(cls, ctx: ToolContext, choice: str) -> ReferenceRun:
        """Read the events as dicts, then time the reference replay alone."""
        events = ctx.store.arrow(EVENTS_SQL, {"workspace_id": ctx.workspace_id}).to_pylist()
        catalog = reference_catalog(ctx)
        start, cpu = time.perf_counter(), time.process_time()
        rows = replay(events, catalog, choice)
        return cls(rows, (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000)

    @property
    def saving(self) -> float:
        """Return the window saving of the option over every replayed event (USD)."""
        return sum(r.logged_cost - r.replay_cost for r in self.rows)

    def differing(self, engine: CacheReplay) -> int:
        """Return how many events' (request, eligible, c(r) x bs, R, W) differ from the engine's."""
        mine = zip(engine.request_id, engine.eligible, engine.cacheable_tokens, engine.read_tokens,
                   engine.write_tokens)
        theirs = ((r.request_id, r.decision.eligible, r.decision.cacheable_tokens, r.decision.read_tokens,
                   r.decision.write_tokens) for r in self.rows)
        return len(self.rows) + len(engine.eligible) - 2 * sum(a == b for a, b in zip(_plain(mine), theirs))


def _plain(rows: zip) -> list[tuple]:
    """Return engine rows as plain Python values."""
    return [(str(i), bool(e), int(c), int(r), int(w)) for i, e, c, r, w in rows]


def engine_saving(ctx: ToolContext, choice: str) -> float:
    """Return the engine's window saving of the option: eligible events priced as logged minus as replayed."""
    with in_workspace(ctx.workspace_id):
        events = scoped_events(ctx, Scope(), columns=PRICING_EXTRA)
    engine, rows = events.replay(choice), np.flatnonzero(events.replay(choice).eligible)
    logged = {n: events.columns[n][rows] for n in PRICING_EXTRA if n in events.columns}
    logged |= {n: events.labels[n].decoded()[rows] for n in _LABELS}
    before = price_events(ctx.catalog, logged).cost
    return float(before.sum() - price_events(ctx.catalog, replayed_columns(logged, engine, rows)).cost.sum())


def reference_joint(ctx: ToolContext, policies: list[Policy]) -> tuple[float, float]:
    """Return the reference's joint window saving of `policies` and the CPU ms its run took (events read first)."""
    events = ctx.store.arrow(JOINT_SQL, {"workspace_id": ctx.workspace_id}).to_pylist()
    specs = [PolicySpec.of(p.kind, p.feature, p.model, **p.params) for p in policies]
    cpu = time.process_time()
    credits = JointReplay(events, reference_catalog(ctx)).run(specs)
    return sum(c.window_saving_usd for c in credits), (time.process_time() - cpu) * 1000

"""The exact prompt-cache replay of docs/caching.md: ClickHouse plus one vectorised numpy pass.

    replay = replay_scope(ctx, scope, "1h")   # per event: eligible, cacheable tokens, R(r), W(r)
    events = scoped_events(ctx, scope, columns=PRICING_EXTRA)   # load once, replay per choice
    five, hour = events.replay("5m"), events.replay("1h")

Prefix hashes are chained (block k's hash covers blocks 1..k): two events hold the same hash
at depth k only when they share their whole prefix up to k. The engine leans on that:

1. **Shared run** (ClickHouse, one scan): each billed event's leading hashes that a part of
   `kv_prefix_seen` (kept on insert) counts twice, and the hash the run stops at. A block two
   events of different inserts share may be counted once in each of two unmerged parts: then
   both their runs stop at it, and only then are the events read again with every hash two
   stored events may hold (`_sql.prefix_candidates`). Every block an event shares with
   another event of its scope and cache key lies in its run. ClickHouse answers in storage
   order (each block sorted by time): a stable numpy sort of the times puts the events in
   replay order, and only the events of one millisecond compare their request ids.
2. **Runs trie** (numpy): events of one cache key with the same last run hash (the *tip*) have
   the same run; the distinct runs (few) become trie nodes, each counting the replayed events
   whose run holds it. c(r) = the depth of the deepest node of r's run held by two events.
3. **Hit depth** (numpy): whether a prefix is live only changes where the trie branches or a
   path ends; each eligible event is paired with those *compressed nodes* of its path (depth
   at most c(r)). Pairs sorted by (node, time) find the last strictly earlier use of their node
   as the pair before their run of equal times. That is the same under every TTL (`Uses`):
   h(r) under a TTL is the deepest node used less than the TTL before.

No Python loop runs over events, blocks or nodes. `ScopedEvents` keeps what does not depend on
the TTL, so replaying both choices costs one load and one sort; it is kept per store and data
version (`memo`), so every tool of an analysis that replays the same scope shares one load and
each choice's replay (all read-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import threading

import numpy as np
import pyarrow as pa

from netra.tools._cache_replay.answer import in_order, numbers, replay_order, stops_repeat
from netra.tools._cache_replay.arrays import Labels, Runs, read_only
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._cache_replay.query import _RUN_LENGTH, EVENTS_SQL, PRICING_EXTRA, EventsQuery  # re-exported
from netra.tools._cache_replay.trie import CacheKeys, RunsTrie, Uses
from netra.tools._sql import COUNTED_TWICE_SQL, Queries, prefix_candidates
from netra.tools.base import Evidence, ToolContext
from netra.tools.scope import Scope, in_workspace
from netra.workloads.caching import Choice
from netra.workloads.catalog import PriceCatalog

_LABELS = ("feature", "provider", "model")  # text columns of every entry of a `CacheReplay`
_TEXTS = (*_LABELS, "service_tier", "status")  # LowCardinality columns the query may select
_NOT_COLUMNS = ("run", "request_id", "stop")  # read as `Runs`, kept as Arrow, checked: not in `columns`
_NOT_ELIGIBLE = ""  # the write class of an event that writes nothing
_UNREACHABLE = np.iinfo(np.int64).max  # the minimum prefix of an event that is not replayed
_REFUSED = "{n} refused requests (status not ok, no output) are not billed: not replayed"


@dataclass(frozen=True)
class CacheReplay:
    """One entry per scoped event that has prefix hashes, in replay order (timestamp, request_id).

    Refused (unbilled) events and events of cache keys without a rule are entries too: not
    eligible, `cacheable_tokens`, reads and writes 0. Every array is read-only (a replay is
    shared by the tools of a run); the text columns are decoded when first read.
    """

    events: ScopedEvents = field(repr=False, compare=False)
    eligible: np.ndarray  # bool: replayed under a rule and its cacheable tokens >= minimum
    cacheable_tokens: np.ndarray  # int64 min(c(r) x bs, input_tokens) (replayed events; 0 for the others)
    read_tokens: np.ndarray  # int64 R(r)
    write_tokens: np.ndarray  # int64 W(r)
    key_write_class: np.ndarray  # per write key (`ScopedEvents.class_key`): str objects, as `write_class`
    notes: list[str]  # cache keys not replayed and why; refused requests

    @cached_property
    def write_class(self) -> np.ndarray:
        """Return every entry's write class (str objects): 'cache_write' | 'cache_write_1h' | 'input' ('' if none)."""
        return read_only(self.key_write_class[self.events.class_key])

    def writes_as(self, name: str, entries: np.ndarray) -> np.ndarray:
        """Return whether each of `entries` writes as `name` (compared per key, not per entry's string)."""
        return (self.key_write_class == name)[self.events.class_key[entries]]

    @cached_property
    def request_id(self) -> np.ndarray:
        """Return every entry's request id (str objects)."""
        return self.events.identities["request_id"]

    @cached_property
    def feature(self) -> np.ndarray:
        """Return every entry's feature (str objects)."""
        return self.events.identities["feature"]

    @cached_property
    def provider(self) -> np.ndarray:
        """Return every entry's provider as logged (str objects)."""
        return self.events.identities["provider"]

    @cached_property
    def model(self) -> np.ndarray:
        """Return every entry's model as logged (str objects)."""
        return self.events.identities["model"]

    def eligible_of(self, feature: str, model: str) -> np.ndarray:
        """Return the eligible entries of one (feature, model) as logged (compared as codes, not strings)."""
        labels = self.events.labels
        return np.flatnonzero(labels["feature"].has(feature) & labels["model"].has(model) & self.eligible)

    def request_ids(self, entries: np.ndarray) -> pa.Array:
        """Return the request ids of some entries, as Arrow strings."""
        return self.events.request_ids.take(pa.array(self.events.order[entries], pa.int64())).combine_chunks()


class _Replayer:
    """Replays scoped events under one choice: the TTL, read steps and write class of each key."""

    def __init__(self, events: ScopedEvents, choice: Choice) -> None:
        self.events, keys = events, events.keys
        self.step = keys.per_key(lambda r: r.read_step, 1)
        self.ttl_ms = keys.per_key(lambda r: r.option(choice).ttl_s * 1000, 0)
        self.write_class = keys.per_key(lambda r: r.option(choice).write_class, _NOT_ELIGIBLE, object)

    def read_tokens(self) -> np.ndarray:
        """Return R(r): the hit in tokens when it reaches the minimum, in the provider's steps; else 0."""
        events, key = self.events, self.events.user_key
        hit = events.tokens(events.uses.hit_depth(self.ttl_ms[key]), events.uses.users)
        short = hit < events.minimum[events.uses.users]
        hit -= hit % self.step[key]
        hit[short] = 0
        return events.spread(hit)

    def result(self) -> CacheReplay:
        """Return the replay; W(r) = cacheable tokens - R(r) for every eligible event."""
        read, events = self.read_tokens(), self.events
        write = events.cacheable - read
        write[~events.eligible] = 0
        return CacheReplay(events, eligible=events.eligible, cacheable_tokens=events.cacheable,
                           read_tokens=read_only(read), write_tokens=read_only(write),
                           key_write_class=read_only(self.write_class), notes=events.notes())


class ScopedEvents:
    """The scoped events with prefix hashes, in replay order, ready to replay under any choice.

    What does not depend on the TTL (c(r), eligibility, the uses of the trie's nodes) is
    computed once and shared, read-only, by the replays of every choice; each choice's replay
    is computed once too. Request ids stay Arrow strings (`order` puts them in replay order)
    until a caller reads them.
    """

    def __init__(self, table: pa.Table, catalog: PriceCatalog) -> None:
        table, self.built, self.lock = table.unify_dictionaries(), {}, threading.RLock()
        self.order = order = replay_order(numbers(table["ts_ms"]), table["request_id"])
        names, self.request_ids = [n for n in table.column_names if n not in _NOT_COLUMNS], table["request_id"]
        self.labels = {n: Labels.of(table.column(n), order) for n in names if n in _TEXTS}
        self.columns = {n: in_order(table.column(n), order) for n in names if n not in _TEXTS}
        self.runs = Runs.of(table.column("run"), order)
        self.keys = CacheKeys(catalog, self.labels["provider"], self.labels["model"])

    @property
    def n(self) -> int:
        """Return how many events there are."""
        return len(self.order)

    @cached_property
    def replayed(self) -> np.ndarray:
        """Return which events are replayed: billed, and their cache key has rules."""
        return self.columns["is_billed"].astype(bool) & self.keys.replayed[self.keys.of_event]

    @cached_property
    def trie(self) -> RunsTrie:
        """Return the trie of the replayed events' shared runs."""
        return RunsTrie(self.keys, self.runs, np.flatnonzero(self.replayed & (self.runs.length > 0)))

    @property
    def key(self) -> np.ndarray:
        """Return every event's cache key (an index into `keys.lookups`)."""
        return self.keys.of_event

    @cached_property
    def minimum(self) -> np.ndarray:
        """Return every event's minimum cacheable prefix (a value no prefix reaches when not replayed)."""
        return self.keys.per_key(lambda r: r.minimum_tokens, _UNREACHABLE)[self.key]

    def tokens(self, blocks: np.ndarray, events: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Return the tokens of the leading `blocks` of `events` (all by default): blocks x bs, at most
        the event's `input_tokens` (its last block may be partial)."""
        return np.minimum(blocks * self.columns["bs"][events], self.columns["input_tokens"][events])

    @cached_property
    def cacheable(self) -> np.ndarray:
        """Return min(c(r) x bs, input tokens) of every event (0 when not replayed)."""
        return read_only(self.tokens(self.trie.depth))

    @cached_property
    def eligible(self) -> np.ndarray:
        """Return which events are eligible: replayed, and their cacheable tokens reach the minimum."""
        return read_only(self.replayed & (self.cacheable >= self.minimum))

    @cached_property
    def uses(self) -> Uses:
        """Return the eligible events' uses of the compressed nodes of their paths."""
        return Uses.of(self.trie, np.flatnonzero(self.eligible), self.columns["ts_ms"])

    @cached_property
    def user_key(self) -> np.ndarray:
        """Return the cache key of every eligible event (`uses.users`)."""
        return self.key[self.uses.users]

    @cached_property
    def class_key(self) -> np.ndarray:
        """Return every event's key where eligible, else the key after the last (no write class)."""
        return np.where(self.eligible, self.key, len(self.keys.lookups))

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Return one value per event: `values` at the eligible events (`uses.users`), 0 elsewhere."""
        spread = np.zeros(self.n, values.dtype)
        spread[self.uses.users] = values
        return spread

    @cached_property
    def identities(self) -> dict[str, np.ndarray]:
        """Return `request_id`, `feature`, `provider` and `model` of every event (str objects)."""
        request_ids = self.request_ids.take(pa.array(self.order, pa.int64())).to_numpy(zero_copy_only=False)
        texts = {"request_id": request_ids, **{n: self.labels[n].decoded() for n in _LABELS}}
        return {name: read_only(values) for name, values in texts.items()}

    def notes(self) -> list[str]:
        """Say which cache keys are not replayed and how many refused requests were left out."""
        refused = int((~self.columns["is_billed"].astype(bool)).sum())
        return self.keys.notes() + ([_REFUSED.format(n=refused)] if refused else [])

    def replay(self, choice: Choice) -> CacheReplay:
        """Replay the events under `choice` ('5m' or '1h'; OpenAI keys always use their automatic 5 min), once."""
        return self.kept(choice, lambda: _Replayer(self, choice).result())

    def kept(self, name: str, build: Callable[[], Any]) -> Any:
        """Return what `build` gives under `name`, built once for these events (kept with them, shared read-only).

        The replays are kept so, and a tool's work over the events and their replays (which depends on
        nothing else: the catalog is part of the events' memo key) may be as well.
        """
        with self.lock:
            if name not in self.built:
                self.built[name] = build()
            return self.built[name]


def scoped_events(ctx: ToolContext, scope: Scope, queries: Queries | None = None,
                  columns: tuple[str, ...] = ()) -> ScopedEvents:
    """Load the scoped events with prefix hashes and their shared runs with one bound query (kept as evidence).

    `columns` adds pricing columns (`PRICING_EXTRA`) to `ScopedEvents.columns`. The events are
    loaded once per query and data version of the store (`memo`): the tools of one analysis
    that replay the same scope share them, and their replays.
    """
    with in_workspace(ctx.workspace_id):
        query = EventsQuery.of(scope, columns)
    queries, sql = queries or Queries(ctx.store), query.sql(COUNTED_TWICE_SQL)
    queries.evidence.append(Evidence(sql=sql, params=query.params))
    return memo_of(ctx.store).get(Loaded(sql, query.params, ctx.catalog), lambda: _load(ctx, query, queries))


def _load(ctx: ToolContext, query: EventsQuery, queries: Queries) -> ScopedEvents:
    """Run the events query with the hashes counted twice; again with every candidate if two runs stop alike.

    Two events sharing a block share every block before it (chained hashes): if the first of
    those a run misses is the same for both, it is the hash both stop at. When no two billed
    events stop at one hash, every block two of them share lies in their runs.
    """
    table = ctx.store.arrow(query.sql(COUNTED_TWICE_SQL), query.params)
    if stops_repeat(table.column("stop")):
        sql = query.sql(prefix_candidates(ctx.store))
        queries.evidence.append(Evidence(sql=sql, params=query.params))
        table = ctx.store.arrow(sql, query.params)
    return ScopedEvents(table, ctx.catalog)


def replay_scope(ctx: ToolContext, scope: Scope, choice: Choice, queries: Queries | None = None) -> CacheReplay:
    """Replay the scoped events through per-(provider, model) prompt caches under `choice`."""
    return scoped_events(ctx, scope, queries).replay(choice)

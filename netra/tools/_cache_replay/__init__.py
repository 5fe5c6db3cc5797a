"""The exact prompt-cache replay of docs/caching.md: ClickHouse plus one vectorised numpy pass.

    replay = replay_scope(ctx, scope, "1h")   # per event: eligible, c(r) x bs, R(r), W(r)
    events = scoped_events(ctx, scope, columns=PRICING_EXTRA)   # load once, replay per choice
    five, hour = events.replay("5m"), events.replay("1h")

Prefix hashes are chained (block k's hash covers blocks 1..k): two events hold the same hash
at depth k only when they share their whole prefix up to k. The engine leans on that:

1. **Shared run** (ClickHouse, one scan): each billed event's leading hashes that some other
   stored event also holds, tested against `kv_prefix_seen` (kept on insert). Every block an
   event shares with another event of its scope and cache key lies in that run.
2. **Runs trie** (numpy): events of one cache key with the same last run hash (the *tip*) have
   the same run; the distinct runs (few) become trie nodes, each counting the replayed events
   whose run holds it. c(r) = the depth of the deepest node of r's run held by two events.
3. **Hit depth** (numpy): whether a prefix is live only changes where the trie branches or a
   path ends; each eligible event is paired with those *compressed nodes* of its path (depth
   at most c(r)). Pairs sorted by (node, time) find the last strictly earlier use of their node
   as the pair before their run of equal times. That is the same under every TTL (`Uses`):
   h(r) under a TTL is the deepest node used less than the TTL before.

No Python loop runs over events, blocks or nodes. `ScopedEvents` keeps what does not depend on
the TTL, so replaying both choices costs one query and one sort; it is kept per store and data
version (`memo`), so every tool of an analysis that replays the same scope shares one load and
each choice's replay (all read-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.tools._cache_replay.arrays import Labels, Runs, plain, read_only
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._cache_replay.trie import CacheKeys, RunsTrie, Uses
from netra.tools._sql import Queries, prefix_candidates
from netra.tools.base import Evidence, ToolContext
from netra.tools.scope import Scope, in_workspace, where
from netra.workloads.caching import Choice
from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import BILLED_SQL, PRICING_COLUMNS

# the pricing columns a caller may add to the replay's query (a fixed whitelist)
PRICING_EXTRA: tuple[str, ...] = tuple(c for c in PRICING_COLUMNS if c != "model")

# `{candidates}`: a superset of the hashes two stored events of the workspace hold, from
# `kv_prefix_seen` without merging it (`_sql.prefix_candidates`)
# A billed event's shared run: its leading hashes some other stored event also holds (its
# first hash held by no other starts at `first_unshared`, 1-based; 0 when there is none).
# An event whose first hash no other holds has none: the scan is skipped for it.
_RUN_LENGTH = ("if(prefix_hashes[1] NOT IN ({candidates}), toUInt32(0), "
               "if((arrayFirstIndex(x -> x NOT IN ({candidates}), prefix_hashes) AS first_unshared) = 0, "
               "toUInt32(length(prefix_hashes)), toUInt32(first_unshared - 1)))")
_DICTIONARIES = "SETTINGS output_format_arrow_low_cardinality_as_dictionary = 1"

# One row per scoped event with prefix hashes, in storage order (numpy sorts: faster than an
# ORDER BY over strings), with its shared run (empty when refused). LowCardinality columns
# come as Arrow dictionaries (ten times faster than strings).
EVENTS_SQL = f"""SELECT request_id, feature, provider, model, toUnixTimestamp64Milli(timestamp) AS ts_ms,
       block_size AS bs, {BILLED_SQL} AS is_billed,
       arraySlice(prefix_hashes, 1, if(is_billed, {_RUN_LENGTH}, 0)) AS run{{columns}}
FROM workload_events {{where}}
{_DICTIONARIES}"""
_ORDER = [("ts_ms", "ascending"), ("request_id", "ascending")]
_LABELS = ("feature", "provider", "model")  # text columns of every entry of a `CacheReplay`
_TEXTS = (*_LABELS, "service_tier", "status")  # LowCardinality columns the query may select
_NOT_COLUMNS = ("run", "request_id")  # read as `Runs` and kept as Arrow, not in `ScopedEvents.columns`
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
    eligible: np.ndarray  # bool: replayed under a rule and c(r) x bs >= minimum
    cacheable_tokens: np.ndarray  # int64 c(r) x bs (replayed events; 0 for the others)
    read_tokens: np.ndarray  # int64 R(r)
    write_tokens: np.ndarray  # int64 W(r)
    write_class: np.ndarray  # str objects: 'cache_write' | 'cache_write_1h' | 'input' ('' when not eligible)
    notes: list[str]  # cache keys not replayed and why; refused requests

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
        users, key, read = self.events.uses.users, self.events.key, np.zeros(len(self.events.key), np.int64)
        hit = self.events.uses.hit_depth(self.ttl_ms[key[users]]) * self.events.columns["bs"][users]
        read[users] = np.where(hit >= self.events.minimum[users], hit - hit % self.step[key[users]], 0)
        return read

    def result(self) -> CacheReplay:
        """Return the replay; W(r) = c(r) x bs - R(r) for every eligible event."""
        read, events = self.read_tokens(), self.events
        write = np.where(events.eligible, events.cacheable - read, 0)
        classes = self.write_class[np.where(events.eligible, events.key, len(self.write_class) - 1)]
        return CacheReplay(events, eligible=events.eligible, cacheable_tokens=events.cacheable,
                           read_tokens=read_only(read), write_tokens=read_only(write),
                           write_class=read_only(classes), notes=events.notes())


class ScopedEvents:
    """The scoped events with prefix hashes, in replay order, ready to replay under any choice.

    What does not depend on the TTL (c(r), eligibility, the uses of the trie's nodes) is
    computed once and shared, read-only, by the replays of every choice; each choice's replay
    is computed once too. Request ids stay Arrow strings (`order` puts them in replay order)
    until a caller reads them.
    """

    def __init__(self, table: pa.Table, catalog: PriceCatalog) -> None:
        table, self.replays, self.lock = table.unify_dictionaries(), {}, threading.Lock()
        self.order = order = pc.sort_indices(table.select(["ts_ms", "request_id"]), sort_keys=_ORDER).to_numpy()
        names, self.request_ids = [n for n in table.column_names if n not in _NOT_COLUMNS], table["request_id"]
        self.labels = {n: Labels.of(table.column(n), order) for n in names if n in _TEXTS}
        self.columns = {n: plain(table.column(n), order) for n in names if n not in _TEXTS}
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

    @cached_property
    def cacheable(self) -> np.ndarray:
        """Return c(r) x bs of every event (0 when not replayed)."""
        return read_only(self.trie.depth * self.columns["bs"])

    @cached_property
    def eligible(self) -> np.ndarray:
        """Return which events are eligible: replayed, and c(r) x bs reaches the minimum."""
        return read_only(self.replayed & (self.cacheable >= self.minimum))

    @cached_property
    def uses(self) -> Uses:
        """Return the eligible events' uses of the compressed nodes of their paths."""
        return Uses.of(self.trie, np.flatnonzero(self.eligible), self.columns["ts_ms"])

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
        with self.lock:
            if choice not in self.replays:
                self.replays[choice] = _Replayer(self, choice).result()
            return self.replays[choice]


def scoped_events(ctx: ToolContext, scope: Scope, queries: Queries | None = None,
                  columns: tuple[str, ...] = ()) -> ScopedEvents:
    """Load the scoped events with prefix hashes and their shared runs with one bound query (kept as evidence).

    `columns` adds pricing columns (`PRICING_EXTRA`) to `ScopedEvents.columns`. The events are
    loaded once per query and data version of the store (`memo`): the tools of one analysis
    that replay the same scope share them, and their replays.
    """
    with in_workspace(ctx.workspace_id):
        clause, params = where(scope, "notEmpty(prefix_hashes)")
    sql = EVENTS_SQL.replace("{where}", clause).replace("{columns}", _extra_columns(columns))
    sql = sql.replace("{candidates}", prefix_candidates(ctx.store))
    (queries or Queries(ctx.store)).evidence.append(Evidence(sql=sql, params=params))
    return memo_of(ctx.store).get(Loaded(sql, params, ctx.catalog), lambda: _load(ctx, sql, params))


def _load(ctx: ToolContext, sql: str, params: dict[str, Any]) -> ScopedEvents:
    """Run the events query (bound parameters) and read its answer."""
    return ScopedEvents(ctx.store.arrow(sql, params), ctx.catalog)


def _extra_columns(columns: tuple[str, ...]) -> str:
    """Return `, a, b` for the requested pricing columns; raise on any other name."""
    unknown = sorted(set(columns) - set(PRICING_EXTRA))
    if unknown:
        raise ValueError(f"columns {unknown} are not pricing columns {PRICING_EXTRA}")
    return "".join(f", {name}" for name in columns)


def replay_scope(ctx: ToolContext, scope: Scope, choice: Choice, queries: Queries | None = None) -> CacheReplay:
    """Replay the scoped events through per-(provider, model) prompt caches under `choice`."""
    return scoped_events(ctx, scope, queries).replay(choice)

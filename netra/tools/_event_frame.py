"""The scoped events some policies target, loaded once as numpy columns, and their cost.

    frame = load_frame(store, scope, pairs, evidence)   # one bound query, kept as evidence
    rows = frame.rows_of("summarizer", "gpt-4.1")        # positions of one (feature, model)
    cost = Pricer(catalog).cost(frame.events, rows)      # what `price_events` gives them

Only the events of the (feature, model) pairs asked for are read: every column `price_events`
needs, plus feature, timestamp (ms), request_id, prompt_hash, max_tokens, finish_reason,
provider, latency_ms and ttft_ms, put in (timestamp, request_id) order by Arrow's sort (faster
than ORDER BY over strings). The LowCardinality columns come from ClickHouse dictionary-encoded
and stay so (`Labels`: codes into their distinct values), so selecting a pair or re-pricing a
million events handles integers, not a million strings; `request_id` stays an Arrow array
until a cache replay joins on it.

`Pricer` prices events exactly as `pricing.price_events` does (same token classes, same
products, same order of the sum): an event's cost is linear in its token classes within its
pricing key (model, `is_batch`, `service_tier`, billed, long-context tier), so the one pricing
function (`price_classes`) prices one token of each class for each distinct key, and each
event's cost is its classes times its key's unit prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.persistence.analytics import AnalyticsStore
from netra.tools.base import Evidence
from netra.tools.scope import Scope, where
from netra.workloads.catalog import TIERS, PriceCatalog
from netra.workloads.pricing import CLASSES, PRICING_COLUMNS, TOKEN_COLUMNS, billed, price_classes, token_classes
from netra.workloads.schema import ARROW_SCHEMA

FRAME_COLUMNS = (*PRICING_COLUMNS, "feature", "timestamp", "request_id", "prompt_hash", "max_tokens",
                 "finish_reason", "provider", "latency_ms", "ttft_ms")
LABELS = ("model", "service_tier", "status", "feature", "finish_reason", "provider")
MS_PER_DAY = 86_400_000
# LowCardinality columns come as Arrow dictionaries (codes, not a string per row); the Arrow output is
# not compressed: embedded chDB hands it over in memory, where LZ4 only costs time on both sides (an
# HTTP client compresses its transport itself), as `_cache_replay.query` reads its events
ARROW_SETTINGS = ("SETTINGS output_format_arrow_low_cardinality_as_dictionary = 1, "
                  "output_format_arrow_compression_method = 'none'")
FRAME_SQL = "SELECT " + ", ".join(FRAME_COLUMNS) + "\nFROM workload_events {where}\n" + ARROW_SETTINGS
FRAME_ORDER = [("timestamp", "ascending"), ("request_id", "ascending")]
PAIRS_SQL = "(feature, model) IN {pairs:Array(Tuple(String, String))}"
# the frame of no pairs (no query is run)
_EMPTY = pa.table({name: pa.array([], ARROW_SCHEMA.field(name).type) for name in FRAME_COLUMNS})
# a prompt's long-context tier: the largest of `TIERS` it exceeds (0 for none), as in `PRICE_KEY_SQL`
_TIER_EDGES = np.array(TIERS, dtype=np.int64)
_TIER_VALUES = np.array((0, *TIERS), dtype=np.int64)


@dataclass(frozen=True)
class Labels:
    """A string column as codes into its distinct values."""

    codes: np.ndarray
    values: np.ndarray

    def strings(self, rows: np.ndarray) -> np.ndarray:
        """Return the values at `rows`."""
        return self.values[self.codes[rows]]

    def code(self, value: str) -> int:
        """Return the code of `value` (-1 when the column never holds it)."""
        hits = np.flatnonzero(self.values == value)
        return int(hits[0]) if len(hits) else -1

    def assigned(self, rows: np.ndarray, value: str) -> Labels:
        """Return a copy with `value` at `rows` (added to the values when new)."""
        values = self.values if self.code(value) >= 0 else np.append(self.values, np.array([value], dtype=object))
        codes = self.codes.copy()
        codes[rows] = int(np.flatnonzero(values == value)[0])
        return Labels(codes, values)


@dataclass
class Events:
    """Event columns as a simulation changes them: numbers and labels by column name.

    `changed()` gives a copy whose arrays are shared until `set` or `relabel` replaces one,
    so the loaded events are never modified.
    """

    numbers: dict[str, np.ndarray]
    labels: dict[str, Labels]

    def changed(self) -> Events:
        """Return a copy to change (arrays copied on write)."""
        return Events(dict(self.numbers), dict(self.labels))

    def set(self, name: str, rows: np.ndarray, values: np.ndarray | int) -> None:
        """Set number column `name` at `rows`."""
        column = self.numbers[name].copy()
        column[rows] = values
        self.numbers[name] = column

    def relabel(self, name: str, rows: np.ndarray, value: str) -> None:
        """Set label column `name` to `value` at `rows`."""
        self.labels[name] = self.labels[name].assigned(rows, value)


@dataclass
class EventFrame:
    """The loaded events (as logged), in order, and their request ids (`order` puts those in order)."""

    events: Events
    request_ids: pa.ChunkedArray
    order: np.ndarray
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.events.numbers["timestamp"])

    @property
    def nbytes(self) -> int:
        """Return the bytes the frame holds: its columns, codes, request ids and order."""
        arrays = [*self.events.numbers.values(), *(labels.codes for labels in self.events.labels.values())]
        return sum(a.nbytes for a in arrays) + self.request_ids.nbytes + self.order.nbytes

    @property
    def day(self) -> np.ndarray:
        """Return each event's UTC day number."""
        return self.events.numbers["timestamp"] // MS_PER_DAY

    def rows_of(self, feature: str, model: str) -> np.ndarray:
        """Return the positions of the events of (feature, model) as logged, in time order."""
        labels = self.events.labels
        wanted = (labels["feature"].codes == labels["feature"].code(feature))
        return np.flatnonzero(wanted & (labels["model"].codes == labels["model"].code(model)))

    def positions(self, rows: np.ndarray, request_ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Return where `request_ids` are among the events at `rows`, and which of them were found (a hash join)."""
        mine = self.request_ids.take(pa.array(self.order[rows], pa.int64())).combine_chunks()
        at = pc.index_in(request_ids, value_set=mine)
        return rows[at.drop_null().to_numpy()], at.is_valid().to_numpy(zero_copy_only=False)


def _labels(column: pa.ChunkedArray, order: np.ndarray) -> Labels:
    """Return a string column (its chunks' dictionaries unified) as codes in `order` and values."""
    if not column.num_chunks:
        return Labels(np.zeros(0, np.int64), np.zeros(0, object))
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in column.chunks])
    return Labels(codes.astype(np.int64)[order], column.chunk(0).dictionary.to_numpy(zero_copy_only=False))


def _numbers(table: pa.Table, order: np.ndarray) -> dict[str, np.ndarray]:
    """Return the numeric columns in `order` (timestamp as int64 milliseconds)."""
    names = [n for n in FRAME_COLUMNS if n not in LABELS and n != "request_id"]
    numbers = {n: table[n].to_numpy()[order] for n in names}
    numbers["timestamp"] = numbers["timestamp"].astype("datetime64[ms]").view(np.int64)
    return numbers


def _read(store: AnalyticsStore, scope: Scope, pairs: list[tuple[str, str]], evidence: list[Evidence]) -> pa.Table:
    """Run the frame query over the scoped events of `pairs`; record it in `evidence`."""
    clause, params = where(scope, PAIRS_SQL)
    sql, params = FRAME_SQL.replace("{where}", clause), {**params, "pairs": sorted(set(pairs))}
    evidence.append(Evidence(sql=sql, params=params))
    return store.arrow(sql, params)


def _events(table: pa.Table, order: np.ndarray) -> Events:
    """Return the events of `table` in `order`: numbers and labels."""
    return Events(_numbers(table, order), {n: _labels(table[n], order) for n in LABELS})


def _dictionaries(table: pa.Table) -> pa.Table:
    """Return `table` with its label columns dictionary-encoded, one dictionary per column."""
    for name in LABELS:
        if not pa.types.is_dictionary(table[name].type):
            table = table.set_column(table.column_names.index(name), name, pc.dictionary_encode(table[name]))
    return table.unify_dictionaries()


def load_frame(store: AnalyticsStore, scope: Scope, pairs: list[tuple[str, str]],
               evidence: list[Evidence]) -> EventFrame:
    """Read the scoped events of `pairs` (feature, model) with one bound query (none for no pairs)."""
    return _framed(_dictionaries(_read(store, scope, pairs, evidence) if pairs else _EMPTY))


def _framed(table: pa.Table) -> EventFrame:
    """Return the events of `table` (labels dictionary-encoded) in (timestamp, request_id) order."""
    order = pc.sort_indices(table, sort_keys=FRAME_ORDER).to_numpy().astype(np.int64)
    return EventFrame(_events(table, order), table["request_id"], order)


def joined_labels(columns: list[tuple[Labels, np.ndarray]]) -> Labels:
    """Return the labels at `rows` of each column, one column after the other, coded into all their values."""
    position = {v: i for i, v in enumerate(dict.fromkeys(v for column, _ in columns for v in column.values))}
    recoded = [(np.array([position[v] for v in column.values], np.int64), column, rows) for column, rows in columns]
    return Labels(np.concatenate([new[column.codes[rows]] for new, column, rows in recoded]),
                  np.array(list(position), dtype=object))


class FrameParts:
    """Some events of several frames (the events at `rows` of each), to join into one frame, frame after frame.

    Each frame's events keep their order, so the events of a pair read by one of them are in
    the order that frame gives them; the frames' request ids are kept as they are (not copied).
    """

    def __init__(self, parts: list[tuple[EventFrame, np.ndarray]]) -> None:
        self.parts = [(frame, rows) for frame, rows in parts if len(rows)]

    def frame(self) -> EventFrame:
        """Return the joined frame (the frame of no events when no part has any)."""
        if not self.parts:
            return _framed(_dictionaries(_EMPTY))
        events = Events(self.numbers(), {n: joined_labels([(f.events.labels[n], r) for f, r in self.parts])
                                         for n in LABELS})
        return EventFrame(events, *self.request_ids())

    def numbers(self) -> dict[str, np.ndarray]:
        """Return each number column: the parts' values one after the other."""
        names = self.parts[0][0].events.numbers
        return {n: np.concatenate([f.events.numbers[n][r] for f, r in self.parts]) for n in names}

    def request_ids(self) -> tuple[pa.ChunkedArray, np.ndarray]:
        """Return the request ids of every part's frame (chunks as they are) and where the events' ids are."""
        frames = [f for f, _ in self.parts]
        offsets = np.cumsum([0] + [len(f.request_ids) for f in frames])
        order = np.concatenate([f.order[r] + offset for (f, r), offset in zip(self.parts, offsets)])
        return pa.chunked_array([c for f in frames for c in f.request_ids.chunks], frames[0].request_ids.type), order


def tier_index(input_tokens: np.ndarray) -> np.ndarray:
    """Return each prompt's long-context tier as an index into (0, *TIERS): the largest it exceeds."""
    return np.searchsorted(_TIER_EDGES, input_tokens.astype(np.int64), side="left")


def key_parts(events: Events, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return the parts of the pricing key of the events at `rows`, as integers (see `PricingKeys`)."""
    n, labels = events.numbers, events.labels
    return (labels["model"].codes[rows], n["is_batch"][rows].astype(np.int64), labels["service_tier"].codes[rows],
            labels["status"].codes[rows], (n["output_tokens"][rows] > 0).astype(np.int64),
            tier_index(n["input_tokens"][rows]))


class PricingKeys:
    """The pricing key of some events, numbered.

    A key is: model, is_batch, service_tier, status and whether there is output (the two decide
    whether the event is billed), and the long-context tier. `table()` holds each distinct key once, as `price_classes` takes them; `index` gives each
    event's row in it. Keys are few, so they are counted, not sorted.
    """

    def __init__(self, events: Events, rows: np.ndarray) -> None:
        self.labels, parts = events.labels, key_parts(events, rows)
        dims = tuple(int(p.max()) + 1 for p in parts)
        flat = np.ravel_multi_index(parts, dims)
        seen = np.bincount(flat) > 0
        self.index, self.distinct = (np.cumsum(seen) - 1)[flat], np.unravel_index(np.flatnonzero(seen), dims)

    def table(self) -> dict[str, np.ndarray]:
        """Return the distinct keys as the columns `price_classes` reads."""
        model, batch, tier, status, output, context = self.distinct
        return {"model": self.labels["model"].values[model], "is_batch": batch,
                "service_tier": self.labels["service_tier"].values[tier],
                "billed": billed(self.labels["status"].values[status], output), "context_tier": _TIER_VALUES[context]}


class Pricer:
    """Prices events as `price_events` does: classes times the unit prices of their pricing key."""

    def __init__(self, catalog: PriceCatalog) -> None:
        self.catalog = catalog

    def cost(self, events: Events, rows: np.ndarray) -> np.ndarray:
        """Return the cost (USD) of the events at `rows`, with their columns as they are now."""
        if not len(rows):
            return np.zeros(0)
        classes = token_classes({k: events.numbers[k][rows] for k in TOKEN_COLUMNS})
        keys = PricingKeys(events, rows)
        units = self._units(keys.table())
        return sum(classes[k] * units[k][keys.index] for k in CLASSES)  # the order and form of price_events

    def _units(self, keys: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Return, per token class, the price of one token of it under each key (0 when unbilled)."""
        width, names = len(keys["model"]), list(CLASSES)
        tiled = {k: np.tile(v, len(names)) for k, v in keys.items()}
        one_token = {k: np.repeat(np.eye(len(names))[i], width) for i, k in enumerate(names)}
        cost = price_classes(self.catalog, tiled, one_token).cost.reshape(len(names), width)
        return dict(zip(names, cost))

"""The workload event: one row per LLM request, as a table of columns.

Token semantics follow OpenTelemetry GenAI: `input_tokens` includes cached reads
and cache writes; `output_tokens` includes reasoning tokens. `max_tokens` 0 means
"not set". `ttft_ms` 0 means the request was not streamed. `cost_usd` is computed from
the price catalog at load; `priced` is 0 when the model was not in the catalog
(its cost is then 0 and every cost tool reports how many such requests it saw).
`catalog_version` is the price catalog version the row was priced with (`+overrides` when
negotiated overrides changed its model's prices). `cache_write_1h_tokens` is the part of
`cache_write_tokens` written with a 1-hour TTL (Anthropic), priced at the 1-hour write price.
`workspace_id` is the workspace (one customer account) the event belongs to: every query is
scoped to one (see docs/workspaces.md); events loaded without one go to `local`.
`service_tier` is the provider's service tier as the response reported it (OpenAI
`priority`, `flex`, `default`; `batch` for Batch API requests; "" when not logged): it selects
the catalog's prices for that tier (see docs/pricing.md).
`missing_fields` says which fields the event's source does not carry: a bitmask of
`FIELD_BITS` (0, the default of old rows, = every field observed). A field whose bit is set
holds its default (0, "", "ok", empty), which is not a measurement: tools leave such events
out of that field's figures and report the figure as not in the telemetry
(`netra.tools.coverage`). `FIELD_COLUMNS` names the columns that carry each field: a source
with any of them observes it.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa


class Column(NamedTuple):
    """One column: its name, ClickHouse type and Arrow type."""

    name: str
    ch_type: str
    arrow: pa.DataType


_STR = pa.string()
COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "DateTime64(3, 'UTC')", pa.timestamp("ms", tz="UTC")),
    Column("user_id", "LowCardinality(String)", _STR),
    Column("feature", "LowCardinality(String)", _STR),
    Column("thread_id", "String", _STR),
    Column("run_id", "String", _STR),
    Column("trace_id", "String", _STR),
    Column("session_id", "String", _STR),
    Column("request_id", "String", _STR),
    Column("provider", "LowCardinality(String)", _STR),
    Column("model", "LowCardinality(String)", _STR),
    Column("input_tokens", "UInt32", pa.uint32()),
    Column("cached_input_tokens", "UInt32", pa.uint32()),
    Column("cache_write_tokens", "UInt32", pa.uint32()),
    Column("output_tokens", "UInt32", pa.uint32()),
    Column("reasoning_tokens", "UInt32", pa.uint32()),
    Column("max_tokens", "UInt32", pa.uint32()),
    Column("finish_reason", "LowCardinality(String)", _STR),
    Column("status", "LowCardinality(String)", _STR),
    Column("error_type", "LowCardinality(String)", _STR),
    Column("latency_ms", "UInt32", pa.uint32()),
    Column("ttft_ms", "UInt32", pa.uint32()),
    Column("is_batch", "UInt8", pa.uint8()),
    Column("logged_cost_usd", "Nullable(Float64)", pa.float64()),
    Column("cost_usd", "Float64", pa.float64()),
    Column("priced", "UInt8", pa.uint8()),
    Column("prompt_hash", "UInt64", pa.uint64()),
    Column("prefix_hashes", "Array(UInt64)", pa.list_(pa.uint64())),
    Column("block_size", "UInt16", pa.uint16()),
    Column("quality_score", "Nullable(Float32)", pa.float32()),
    Column("attributes", "Map(String, String)", pa.map_(_STR, _STR)),
    Column("catalog_version", "LowCardinality(String)", _STR),
    Column("cache_write_1h_tokens", "UInt32", pa.uint32()),
    Column("service_tier", "LowCardinality(String)", _STR),
    Column("workspace_id", "LowCardinality(String)", _STR),
    Column("missing_fields", "UInt32", pa.uint32()),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
ARROW_SCHEMA = pa.schema([pa.field(c.name, c.arrow) for c in COLUMNS])
DEFAULT_BLOCK_SIZE = 256

# a field a source may not log -> its bit in `missing_fields` (set: the source does not carry it)
FIELD_BITS: dict[str, int] = {
    "latency_ms": 1 << 0,
    "ttft_ms": 1 << 1,
    "status": 1 << 2,
    "user_id": 1 << 3,
    "session_id": 1 << 4,
    "prefix_hashes": 1 << 5,
    "quality_score": 1 << 6,
    "cached_input_tokens": 1 << 7,
    "max_tokens": 1 << 8,
    "finish_reason": 1 << 9,
}
# field -> the event columns that carry it (the session covers the thread, cache tokens both classes)
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {name: (name,) for name in FIELD_BITS} | {
    "session_id": ("session_id", "thread_id"),
    "cached_input_tokens": ("cached_input_tokens", "cache_write_tokens"),
}

"""DDL for the analytics store, in the order it must run. Every statement is idempotent."""

from __future__ import annotations

from netra.workloads.schema import COLUMNS

_COLUMNS_SQL = ",\n  ".join(f"{c.name} {c.ch_type}" for c in COLUMNS)

EVENTS_TABLE = f"""
CREATE TABLE IF NOT EXISTS workload_events (
  {_COLUMNS_SQL}
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (user_id, timestamp)
"""

HOURLY_TABLE = """
CREATE TABLE IF NOT EXISTS workload_hourly (
  hour DateTime('UTC'),
  user_id LowCardinality(String),
  requests AggregateFunction(count),
  errors AggregateFunction(countIf, UInt8),
  input_tokens AggregateFunction(sum, UInt64),
  output_tokens AggregateFunction(sum, UInt64),
  cost_usd AggregateFunction(sum, Float64),
  latency_p95 AggregateFunction(quantile(0.95), UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (user_id, hour)
"""

HOURLY_VIEW = """
CREATE MATERIALIZED VIEW IF NOT EXISTS workload_hourly_mv TO workload_hourly AS
SELECT
  toStartOfHour(timestamp) AS hour,
  user_id,
  countState() AS requests,
  countIfState(status != 'ok') AS errors,
  sumState(toUInt64(input_tokens)) AS input_tokens,
  sumState(toUInt64(output_tokens)) AS output_tokens,
  sumState(cost_usd) AS cost_usd,
  quantileState(0.95)(latency_ms) AS latency_p95
FROM workload_events
GROUP BY hour, user_id
"""

# a store created by an older Netra gains the columns added since (no-ops otherwise)
ADD_COLUMNS = tuple(f"ALTER TABLE workload_events ADD COLUMN IF NOT EXISTS {c.name} {c.ch_type}" for c in COLUMNS)

# First and last time each prefix block hash was seen, and how often, over every stored
# event: `kv_cache_finder` reads the hashes seen at two different times from here instead
# of exploding every block of every call. min/max are idempotent, so a row counted twice
# changes nothing but `n` (only ever used as the `n >= 2` prefilter). The view runs on
# every insert into `workload_events`, `INSERT ... SELECT` included; `truncate` empties it.
KV_PREFIX_TABLE = """
CREATE TABLE IF NOT EXISTS kv_prefix_seen (
  h UInt64,
  first_ts SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
  last_ts SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  n SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY h
"""

KV_PREFIX_VIEW = """
CREATE MATERIALIZED VIEW IF NOT EXISTS kv_prefix_seen_mv TO kv_prefix_seen AS
SELECT h, min(timestamp) AS first_ts, max(timestamp) AS last_ts, count() AS n
FROM workload_events ARRAY JOIN prefix_hashes AS h
GROUP BY h
"""

# a store whose events predate the view gets them once (a no-op once the table has rows)
KV_PREFIX_BACKFILL = """
INSERT INTO kv_prefix_seen
SELECT h, min(timestamp), max(timestamp), count()
FROM workload_events ARRAY JOIN prefix_hashes AS h
WHERE (SELECT count() FROM kv_prefix_seen) = 0
GROUP BY h
"""

# Cost per day and (feature, model), kept with every part written since it was added:
# ClickHouse answers the cost totals and days of the whole store, or of one feature or
# model, from these few rows, and reads the events for any other scope (and for parts of
# a store that predates it, which keep their plain, slower reads).
COST_PROJECTION = """
ALTER TABLE workload_events ADD PROJECTION IF NOT EXISTS cost_by_day (
  SELECT toDate(timestamp), feature, model, count(), sum(cost_usd), countIf(priced = 0),
         sumIf(cost_usd, status != 'ok')
  GROUP BY toDate(timestamp), feature, model)
"""

DDL: tuple[str, ...] = (EVENTS_TABLE, *ADD_COLUMNS, HOURLY_TABLE, HOURLY_VIEW,
                         KV_PREFIX_TABLE, KV_PREFIX_VIEW, KV_PREFIX_BACKFILL, COST_PROJECTION)

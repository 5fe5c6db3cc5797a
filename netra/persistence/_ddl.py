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

DDL: tuple[str, ...] = (EVENTS_TABLE, *ADD_COLUMNS, HOURLY_TABLE, HOURLY_VIEW)

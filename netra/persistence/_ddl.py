"""DDL for the analytics store, in the order it must run. Every statement is idempotent.

Every table is keyed by workspace first: `workload_events` is ordered by
`(workspace_id, timestamp)`, `workload_hourly` by `(workspace_id, user_id, hour)` and
`kv_prefix_seen` by `(workspace_id, h)`, so a query of one workspace reads its own rows
only. `EVENTS_TABLE` and the `ADD_COLUMNS` a store lacks run first, then the move of an
old-layout store (`_relayout.py`), then `DERIVED_DDL` (the tables and views derived from the events, backfilled when empty).
"""

from __future__ import annotations

from netra.workloads.schema import COLUMNS

_COLUMNS_SQL = ",\n  ".join(f"{c.name} {c.ch_type}" for c in COLUMNS)
EVENTS_KEY = "workspace_id, timestamp"

# Cost per workspace, day and (feature, model), kept with every part: ClickHouse answers the
# cost totals and days of a workspace, or of one of its features or models, from these few
# rows, and reads the events for any other scope.
COST_PROJECTION = """PROJECTION cost_by_day (
    SELECT workspace_id, toDate(timestamp), feature, model, count(), sum(cost_usd), countIf(priced = 0),
           sumIf(cost_usd, status != 'ok')
    GROUP BY workspace_id, toDate(timestamp), feature, model)"""


_EVENTS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {{name}} (
  {_COLUMNS_SQL},
  {COST_PROJECTION}
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY ({EVENTS_KEY})
"""


def events_table(name: str) -> str:
    """Return the CREATE of an events table called `name` (the name is Netra's, never input)."""
    return _EVENTS_TABLE.replace("{name}", name)


EVENTS_TABLE = events_table("workload_events")

HOURLY_TABLE = """
CREATE TABLE IF NOT EXISTS workload_hourly (
  workspace_id LowCardinality(String),
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
ORDER BY (workspace_id, user_id, hour)
"""

_HOURLY_SELECT = """
SELECT
  workspace_id,
  toStartOfHour(timestamp) AS hour,
  user_id,
  countState() AS requests,
  countIfState(status != 'ok') AS errors,
  sumState(toUInt64(input_tokens)) AS input_tokens,
  sumState(toUInt64(output_tokens)) AS output_tokens,
  sumState(cost_usd) AS cost_usd,
  quantileState(0.95)(latency_ms) AS latency_p95
FROM workload_events"""

HOURLY_VIEW = (f"CREATE MATERIALIZED VIEW IF NOT EXISTS workload_hourly_mv TO workload_hourly AS {_HOURLY_SELECT}\n"
               "GROUP BY workspace_id, hour, user_id")

# a store whose events predate the view (a store moved to the workspace layout) gets them once
HOURLY_BACKFILL = (f"INSERT INTO workload_hourly {_HOURLY_SELECT}\n"
                   "WHERE (SELECT count() FROM workload_hourly) = 0 GROUP BY workspace_id, hour, user_id")

# a store created by an older Netra gains the columns added since: only those it lacks are
# altered (an ALTER of a column that exists is a no-op but takes 30-170 ms on chDB; 36 of them
# made every open of a store cost about 2 s)
ADD_COLUMNS: dict[str, str] = {
    c.name: f"ALTER TABLE workload_events ADD COLUMN IF NOT EXISTS {c.name} {c.ch_type}" for c in COLUMNS}
EVENTS_COLUMNS_SQL = ("SELECT name FROM system.columns "
                      "WHERE database = currentDatabase() AND table = 'workload_events'")

# First and last time each prefix block hash was seen in a workspace, and how often, over
# every stored event: `kv_cache_finder` can read the hashes seen at two different times
# from here instead of exploding every block of every call. min/max are idempotent, so a
# row counted twice changes nothing but `n` (only ever used as the `n >= 2` prefilter). The
# view runs on every insert into `workload_events`, `INSERT ... SELECT` included;
# `truncate` empties it.
KV_PREFIX_TABLE = """
CREATE TABLE IF NOT EXISTS kv_prefix_seen (
  workspace_id LowCardinality(String),
  h UInt64,
  first_ts SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
  last_ts SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
  n SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY (workspace_id, h)
"""

KV_PREFIX_VIEW = """
CREATE MATERIALIZED VIEW IF NOT EXISTS kv_prefix_seen_mv TO kv_prefix_seen AS
SELECT workspace_id, h, min(timestamp) AS first_ts, max(timestamp) AS last_ts, count() AS n
FROM workload_events ARRAY JOIN prefix_hashes AS h
GROUP BY workspace_id, h
"""

# a store whose events predate the view gets them once (a no-op once the table has rows)
KV_PREFIX_BACKFILL = """
INSERT INTO kv_prefix_seen
SELECT workspace_id, h, min(timestamp), max(timestamp), count()
FROM workload_events ARRAY JOIN prefix_hashes AS h
WHERE (SELECT count() FROM kv_prefix_seen) = 0
GROUP BY workspace_id, h
"""

DERIVED_DDL: tuple[str, ...] = (HOURLY_TABLE, HOURLY_VIEW, HOURLY_BACKFILL,
                                 KV_PREFIX_TABLE, KV_PREFIX_VIEW, KV_PREFIX_BACKFILL)
DERIVED_TABLES = ("workload_hourly", "kv_prefix_seen")
DDL: tuple[str, ...] = (EVENTS_TABLE, *ADD_COLUMNS.values(), *DERIVED_DDL)

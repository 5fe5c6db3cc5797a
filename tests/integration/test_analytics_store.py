"""The analytics store on real chDB: idempotent schema, Arrow inserts, hourly view, bound parameters."""

from __future__ import annotations

import pytest

from netra.errors import ConfigError, ServiceError
from netra.persistence.analytics import open_store
from netra.workloads.schema import COLUMN_NAMES
from tests.support.factories import at, load

EVENTS = [
    {"timestamp": at(hours=0, seconds=10), "user_id": "u1", "model": "gpt-4o", "input_tokens": 1000,
     "output_tokens": 100, "latency_ms": 400, "prefix_hashes": [11, 12]},
    {"timestamp": at(hours=0, seconds=20), "user_id": "u1", "model": "gpt-4o", "input_tokens": 2000,
     "output_tokens": 0, "status": "error", "latency_ms": 900},
    {"timestamp": at(hours=1), "user_id": "u2", "model": "gpt-4o-mini", "input_tokens": 1000,
     "output_tokens": 1000, "latency_ms": 100},
]
HOURLY = """SELECT user_id, hour, countMerge(requests) AS requests, countIfMerge(errors) AS errors,
  sumMerge(input_tokens) AS input_tokens, round(sumMerge(cost_usd), 9) AS cost_usd
  FROM workload_hourly GROUP BY user_id, hour ORDER BY user_id, hour"""


def test_schema_is_idempotent_and_has_every_column(store):
    store.ensure_schema()
    store.ensure_schema()
    described = store.rows("DESCRIBE TABLE workload_events")
    assert [row["name"] for row in described] == list(COLUMN_NAMES)


def test_a_store_lacking_newer_columns_gains_them_when_opened(store, catalog):
    """A store an older Netra made (without the newest column) gets it added back, last as before."""
    store.client.command(f"ALTER TABLE workload_events DROP COLUMN {COLUMN_NAMES[-1]}")
    assert [row["name"] for row in store.rows("DESCRIBE TABLE workload_events")] == list(COLUMN_NAMES[:-1])
    store.ensure_schema()
    assert [row["name"] for row in store.rows("DESCRIBE TABLE workload_events")] == list(COLUMN_NAMES)
    load(store, catalog, EVENTS)
    assert store.count() == len(EVENTS)


def test_hourly_view_aggregates_per_user_and_hour(store, catalog):
    load(store, catalog, EVENTS)
    rows = store.rows(HOURLY)
    assert [(r["user_id"], r["requests"], r["errors"], r["input_tokens"]) for r in rows] == [
        ("u1", 2, 1, 3000), ("u2", 1, 0, 1000)]
    # the failed request reports no output: refused, not billed (docs/pricing.md)
    assert rows[0]["cost_usd"] == pytest.approx(1000 * 2.5e-6 + 100 * 1e-5)
    assert rows[1]["cost_usd"] == pytest.approx(1000 * 1.5e-7 + 1000 * 6e-7)


def test_list_columns_round_trip_through_arrow(store, catalog):
    load(store, catalog, EVENTS)
    assert store.scalar("SELECT prefix_hashes FROM workload_events WHERE user_id = {u:String} "
                        "ORDER BY timestamp LIMIT 1", {"u": "u1"}) == [11, 12]


@pytest.mark.parametrize("hostile", ["u1' OR 1=1 --", "u1\\'; DROP TABLE workload_events; --"])
def test_values_are_bound_not_formatted(store, catalog, hostile):
    load(store, catalog, EVENTS)
    assert store.scalar("SELECT count() FROM workload_events WHERE user_id = {u:String}", {"u": hostile}) == 0
    assert store.count() == 3


def test_bad_sql_is_a_service_error(store):
    with pytest.raises(ServiceError, match="analytics query failed"):
        store.rows("SELECT no_such_column FROM workload_events")


@pytest.mark.parametrize("url", ["clickhouse://h:9000", "/tmp/data", ""])
def test_unknown_url_scheme_is_a_config_error(url):
    with pytest.raises(ConfigError, match="NETRA_CLICKHOUSE_URL"):
        open_store(url)


def test_data_version_changes_when_events_change(store, catalog):
    empty = store.data_version()
    load(store, catalog, EVENTS[:1])
    assert store.data_version() != empty


def test_an_unreachable_server_is_a_service_error_without_credentials_or_host():
    with pytest.raises(ServiceError, match="cannot open the analytics store") as err:
        open_store("http://netra:s3cret@127.0.0.1:1")
    assert "s3cret" not in str(err.value) and "127.0.0.1" not in str(err.value)

"""Existing stores move into workspaces: records by `0002_workspaces` (SQLite and PostgreSQL),
workload events by the analytics store's relayout (chDB, on a store created with the old DDL)."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import pytest
from sqlalchemy import TextClause, text

from netra.persistence import migrations
from netra.persistence._relayout import old_layout
from netra.persistence.db import make_engine, make_session_factory, make_sync_engine
from netra.persistence.uow import UnitOfWork
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolContext, ToolDispatcher
from tests.support.databases import fresh_pg

NOW = "2025-01-01 00:00:00+00:00"
# table -> rows of its 0001 columns (user u1 owns everything but thread t2 and its message, u2's)
ROWS_0001: dict[str, list[dict[str, Any]]] = {
    "users": [{"id": u, "email": f"{u}@example.com", "name": u, "role": "user", "created_at": NOW, "updated_at": NOW}
              for u in ("u1", "u2", "u3")],
    "threads": [{"id": t, "user_id": u, "title": "", "metadata": "{}", "created_at": NOW, "updated_at": NOW}
                for t, u in (("t1", "u1"), ("t2", "u2"))],
    "messages": [{"id": m, "user_id": u, "thread_id": t, "role": "user", "content": "hi", "created_at": NOW}
                 for m, u, t in (("m1", "u1", "t1"), ("m2", "u2", "t2"))],
    "runs": [{"id": "r1", "user_id": "u1", "thread_id": "t1", "status": "success", "question": "q", "strategy": "",
              "created_at": NOW}],
    "agent_runs": [{"id": "a1", "user_id": "u1", "run_id": "r1", "agent": "triage", "status": "success",
                    "created_at": NOW}],
    "agent_reports": [{"id": "p1", "user_id": "u1", "run_id": "r1", "markdown": "# r", "structured": "{}",
                       "grounded": True, "created_at": NOW}],
    "references": [{"id": "f1", "user_id": "u1", "name": "memo", "content": "", "created_at": NOW, "updated_at": NOW}],
}
OWNED = {table: {row["id"]: row["user_id"] for row in rows} for table, rows in ROWS_0001.items() if table != "users"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_0001(request, tmp_path) -> Iterator[str]:
    """A database at `0001_initial` holding `ROWS_0001`: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield planted(f"sqlite:///{tmp_path / 'records.db'}")
        return
    with fresh_pg(request.getfixturevalue("postgres_url"), "netra_migrate") as url:
        yield planted(url)


def insert(table: str, row: dict[str, Any]) -> TextClause:
    """Return the INSERT of a row shaped like `row` into `table` (bound parameters)."""
    return text(f'INSERT INTO "{table}" ({", ".join(row)}) VALUES ({", ".join(":" + name for name in row)})')


def planted(url: str) -> str:
    """Migrate `url` to `0001_initial` and insert `ROWS_0001`; return the url."""
    migrations.upgrade(url, "0001_initial")
    engine = make_sync_engine(url)
    with engine.begin() as connection:
        for table, rows in ROWS_0001.items():
            connection.execute(insert(table, rows[0]), rows)
    engine.dispose()
    return url


def query(url: str, sql: str) -> list[tuple]:
    """Return the rows of one read."""
    engine = make_sync_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


async def _threads_in(url: str, workspace_id: str, user_id: str) -> list[str]:
    engine = make_engine(url)
    async with UnitOfWork(make_session_factory(engine), workspace_id=workspace_id) as uow:
        found = [thread.id for thread in await uow.threads.list(user_id)]
    await engine.dispose()
    return found


def check_workspaces(url: str, personal: dict[str, str]) -> None:
    """Assert a personal workspace per user, owned by them, and `local` without members."""
    assert sorted(personal) == ["u1", "u2", "u3"] and len(set(personal.values())) == 3
    assert query(url, "SELECT id, name FROM workspaces WHERE personal_of IS NULL") == [(LOCAL_WORKSPACE, "Local")]
    owners = query(url, "SELECT workspace_id, user_id, role FROM workspace_members")
    assert sorted(owners) == sorted((personal[user], user, "owner") for user in personal)


def check_moved(url: str, personal: dict[str, str]) -> None:
    """Assert every owned row is now in its owner's personal workspace."""
    for table, owned in OWNED.items():
        moved = dict(query(url, f'SELECT id, workspace_id FROM "{table}"'))
        assert moved == {row_id: personal[user] for row_id, user in owned.items()}, table


def test_records_move_into_their_owners_personal_workspaces(db_0001):
    migrations.upgrade(db_0001)
    personal = dict(query(db_0001, "SELECT personal_of, id FROM workspaces WHERE personal_of IS NOT NULL"))
    check_workspaces(db_0001, personal)
    check_moved(db_0001, personal)
    assert asyncio.run(_threads_in(db_0001, personal["u1"], "u1")) == ["t1"]
    assert asyncio.run(_threads_in(db_0001, personal["u2"], "u1")) == []


def test_the_migration_downgrades_keeping_the_records(db_0001):
    migrations.upgrade(db_0001)
    migrations.downgrade(db_0001, "0001_initial")
    assert migrations.current(db_0001) == "0001_initial"
    assert {table: len(query(db_0001, f'SELECT id FROM "{table}"')) for table in OWNED} == {
        table: len(rows) for table, rows in OWNED.items()}


# ---- the analytics store: a `workload_events` of the old layout (frozen: the DDL before workspaces) ----

OLD_EVENTS = """CREATE TABLE workload_events (
  timestamp DateTime64(3, 'UTC'), user_id LowCardinality(String), feature LowCardinality(String),
  request_id String, model LowCardinality(String), input_tokens UInt32, output_tokens UInt32,
  cost_usd Float64, status LowCardinality(String), prefix_hashes Array(UInt64), latency_ms UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (user_id, timestamp)"""
OLD_DERIVED = (
    "CREATE TABLE kv_prefix_seen (h UInt64, first_ts SimpleAggregateFunction(min, DateTime64(3, 'UTC')), "
    "last_ts SimpleAggregateFunction(max, DateTime64(3, 'UTC')), n SimpleAggregateFunction(sum, UInt64)) "
    "ENGINE = AggregatingMergeTree ORDER BY h",
    "CREATE MATERIALIZED VIEW kv_prefix_seen_mv TO kv_prefix_seen AS SELECT h, min(timestamp) AS first_ts, "
    "max(timestamp) AS last_ts, count() AS n FROM workload_events ARRAY JOIN prefix_hashes AS h GROUP BY h",
    "CREATE TABLE workload_hourly (hour DateTime('UTC'), user_id LowCardinality(String), "
    "requests AggregateFunction(count)) ENGINE = AggregatingMergeTree ORDER BY (user_id, hour)",
    "CREATE MATERIALIZED VIEW workload_hourly_mv TO workload_hourly AS SELECT toStartOfHour(timestamp) AS hour, "
    "user_id, countState() AS requests FROM workload_events GROUP BY hour, user_id",
)
OLD_ROWS = ("INSERT INTO workload_events SELECT toDateTime64('2026-03-02 00:00:00', 3, 'UTC') + number * 60, "
            "'u' || toString(number % 3), 'chat', 'old-' || toString(number), 'gpt-4o', 1000, 100, 0.01, 'ok', "
            "[number % 5, 99], 200 FROM numbers(300)")
DROP = ("DROP VIEW IF EXISTS workload_hourly_mv", "DROP VIEW IF EXISTS kv_prefix_seen_mv",
        "DROP TABLE IF EXISTS workload_hourly", "DROP TABLE IF EXISTS kv_prefix_seen",
        "DROP TABLE IF EXISTS workload_events")


SORTING_KEY_SQL = "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'workload_events'"
PER_WORKSPACE_SQL = "SELECT workspace_id, count() AS n, sum(cost_usd) AS cost FROM workload_events GROUP BY workspace_id"


def run_all(store: Any, statements: tuple[str, ...]) -> None:
    """Run each statement on the store's client."""
    for statement in statements:
        store.client.command(statement)


@pytest.fixture
def old_store(store) -> Iterator[Any]:
    """The session's store, emptied and remade with the old layout and 300 events; set right again after."""
    run_all(store, (*DROP, OLD_EVENTS, *OLD_DERIVED, OLD_ROWS))
    try:
        yield store
    finally:
        run_all(store, DROP)
        store.ensure_schema()


def test_an_old_store_moves_into_the_workspace_layout_once(old_store, catalog):
    assert old_layout(old_store.client)
    old_store.ensure_schema()
    assert old_store.scalar(SORTING_KEY_SQL) == "workspace_id, timestamp" and not old_layout(old_store.client)
    assert old_store.rows(PER_WORKSPACE_SQL) == [{"workspace_id": LOCAL_WORKSPACE, "n": 300, "cost": pytest.approx(3.0)}]
    old_store.ensure_schema()  # a second start moves nothing again
    assert old_store.count(LOCAL_WORKSPACE) == old_store.count() == 300


def test_a_moved_store_keeps_its_derived_tables_per_workspace(old_store, catalog):
    old_store.ensure_schema()
    assert old_store.scalar("SELECT countMerge(requests) FROM workload_hourly WHERE workspace_id = 'local'") == 300
    assert old_store.scalar("SELECT count() FROM kv_prefix_seen WHERE workspace_id = 'local'") == 6
    result = ToolDispatcher(ToolContext(old_store, catalog, workspace_id=LOCAL_WORKSPACE)).run("cost_analyzer", {})
    assert result.value("requests") == 300
    other = ToolDispatcher(ToolContext(old_store, catalog, workspace_id="someone-else")).run("cost_analyzer", {})
    assert other.value("requests") == 0

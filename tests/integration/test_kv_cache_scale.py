"""kv_cache_finder read through `kv_prefix_seen` equals a plain replay, on a generated workload.

The reference is a pure-Python replay of the same events (first-seen time per block hash, a
hit when first seen strictly earlier). It is checked after one insert, after two separate
inserts (the second holds earlier events and same-instant copies of the first), with the
table's parts left unmerged, after an `INSERT ... SELECT` from a staging table, on a store
whose events predate the table (backfill), and after `truncate`. The whole tool result must
also equal the one the plain SQL replay gives (a scope that covers every event).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from netra.persistence._ddl import KV_PREFIX_TABLE, KV_PREFIX_VIEW
from netra.tools import ToolDispatcher, _sql, kv_cache
from netra.tools.scope import in_workspace
from netra.workloads.schema import ARROW_SCHEMA, COLUMNS
from netra.workloads.synthetic import generate

EVENTS = 12_000
# every event is later than this: a scope from here holds them all but takes the plain replay
EVERYTHING = {"start": "2000-01-01T00:00:00Z"}
# replay totals compared exactly (cost_usd, a float sum, is compared approximately)
EXACT = ("requests", "blocks", "hit_blocks", "hit_tokens", "uncached_hit_tokens", "uncached_requests",
         "input_tokens", "cached_tokens", "hit_requests", "max_hit_blocks")
STAGING = "kv_scale_staging"
STAGING_SQL = f"CREATE TABLE {STAGING} ({', '.join(f'{c.name} {c.ch_type}' for c in COLUMNS)}) ENGINE = Memory"
MOVE_SQL = (f"INSERT INTO workload_events ({', '.join(ARROW_SCHEMA.names)}) "
            f"SELECT {', '.join(ARROW_SCHEMA.names)} FROM {STAGING}")


@pytest.fixture(scope="module")
def workload() -> pa.Table:
    """A generated `mixed` workload (shared prefixes, retries, several models)."""
    return generate("mixed", EVENTS, seed=11).table


@pytest.fixture
def unmerged(store) -> Iterator[None]:
    """Keep `kv_prefix_seen` in the parts its inserts wrote: no background merge (the tools never merge it)."""
    store.client.command("SYSTEM STOP MERGES kv_prefix_seen")
    yield
    store.client.command("SYSTEM START MERGES kv_prefix_seen")


# ---- the reference: a pure-Python replay ----

def first_seen(events: list[dict]) -> dict[int, Any]:
    """Return the first time each block hash was seen."""
    first: dict[int, Any] = {}
    for event in events:
        for h in event["prefix_hashes"]:
            first[h] = min(first.get(h, event["timestamp"]), event["timestamp"])
    return first


def replay(events: list[dict]) -> dict[tuple, dict[str, Any]]:
    """Return the replay totals per (feature, model, lead prefix or None)."""
    first = first_seen(events)
    groups: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for event in events:
        hits = sum(first[h] < event["timestamp"] for h in event["prefix_hashes"])
        lead = event["prefix_hashes"][0] if hits else None
        add(groups[(event["feature"], event["model"], lead)], event, hits)
    return {k: dict(v) for k, v in groups.items()}


def add(acc: dict[str, Any], event: dict, hits: int) -> None:
    """Add one request to its group's totals, as REPLAY_SQL sums them."""
    tokens, cached = hits * event["block_size"], event["cached_input_tokens"]
    for name, value in (("requests", 1), ("blocks", len(event["prefix_hashes"])), ("hit_blocks", hits),
                        ("hit_tokens", tokens), ("uncached_hit_tokens", max(tokens - cached, 0)),
                        ("uncached_requests", tokens > cached), ("input_tokens", event["input_tokens"]),
                        ("cached_tokens", cached), ("cost_usd", event["cost_usd"]), ("hit_requests", hits > 0)):
        acc[name] += value
    acc["max_hit_blocks"] = max(acc["max_hit_blocks"], hits)


# ---- loading and checking ----

def records(table: pa.Table) -> list[dict]:
    """Return the events as records holding the columns the replay reads."""
    return table.select(["timestamp", "feature", "model", "prefix_hashes", "block_size", "cached_input_tokens",
                         "input_tokens", "cost_usd"]).to_pylist()


def insert(store, table: pa.Table) -> list[dict]:
    """Insert events the way the generators do (an Arrow insert); return them as records."""
    store.insert_events(table)
    return records(table)


def shifted(table: pa.Table, seconds: float) -> pa.Table:
    """Return the events moved `seconds` later."""
    moved = pc.add(table.column("timestamp"), pa.scalar(timedelta(seconds=seconds)))
    return table.set_column(table.schema.get_field_index("timestamp"), "timestamp", moved)


def insert_select(store, table: pa.Table) -> list[dict]:
    """Insert events through a staging table and `INSERT ... SELECT`, as the file importer does."""
    store.client.command(STAGING_SQL)
    try:
        store.client.insert_arrow(STAGING, table.select(ARROW_SCHEMA.names))
        store.client.command(MOVE_SQL)
    finally:
        store.client.command(f"DROP TABLE IF EXISTS {STAGING}")
    return records(table)


def check(ctx, events: list[dict]) -> None:
    """Assert the tool's replay (through `kv_prefix_seen`) equals the Python replay of `events`."""
    with in_workspace(ctx.workspace_id):  # the dispatcher binds it around every tool call
        rows, _ = kv_cache._run_queries(ctx, kv_cache.KvCacheArgs())
    assert_groups_equal({(r["feature"], r["model"], r["lead"]): r for r in rows}, replay(events))


def assert_groups_equal(got: dict[tuple, dict], expected: dict[tuple, dict]) -> None:
    """Assert the same groups with the same totals (cost within a relative 1e-9)."""
    assert sorted(got, key=str) == sorted(expected, key=str)
    for key, totals in expected.items():
        assert {k: got[key][k] for k in EXACT} == {k: totals[k] for k in EXACT}, key
        assert got[key]["cost_usd"] == pytest.approx(totals["cost_usd"], rel=1e-9)


def same_as_plain_replay(ctx) -> None:
    """Assert the whole tool result equals the one the plain SQL replay gives."""
    dispatcher = ToolDispatcher(ctx)
    through_table, plain = dispatcher.run("kv_cache_finder", {}), dispatcher.run("kv_cache_finder", EVERYTHING)
    assert (through_table.figures, through_table.notes) == (plain.figures, plain.notes)
    assert_rows_close(through_table.rows, plain.rows)


def assert_rows_close(got: list[dict], expected: list[dict]) -> None:
    """Assert two row lists are equal, floats within a relative 1e-9 (sums run in any order)."""
    assert len(got) == len(expected)
    for row, other in zip(got, expected):
        assert {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in row.items()} == other


# ---- tests ----

def test_one_insert_matches_a_python_replay(ctx, workload):
    events = insert(ctx.store, workload)
    assert sum(r["hit_blocks"] for r in replay(events).values()) > 0
    check(ctx, events)
    same_as_plain_replay(ctx)


def test_two_inserts_out_of_order_with_same_instant_copies(ctx, workload):
    later, earlier = workload.slice(EVENTS // 2), workload.slice(0, EVENTS // 2)
    events = insert(ctx.store, later)
    check(ctx, events)
    events += insert(ctx.store, pa.concat_tables([earlier, later.slice(0, 300)]))
    check(ctx, events)
    same_as_plain_replay(ctx)


def test_unmerged_parts_give_the_same_answer(ctx, workload, unmerged):
    part = (workload.slice(0, EVENTS // 3), workload.slice(EVENTS // 3))
    events = insert(ctx.store, part[1]) + insert(ctx.store, part[0])
    # blocks seen once in each of two parts: only the parts' union tells they repeat
    events += insert(ctx.store, shifted(part[0].slice(0, 200), seconds=1)) + insert(ctx.store, part[0].slice(0, 50))
    assert ctx.store.scalar("SELECT count() FROM system.parts WHERE table = 'kv_prefix_seen' AND active") >= 4
    assert "ORDER BY h" in _sql.prefix_candidates(ctx.store)
    check(ctx, events)
    same_as_plain_replay(ctx)


def test_small_unmerged_parts_are_scanned_not_grouped(ctx, workload, unmerged):
    events = insert(ctx.store, workload)
    # a few late blocks, each seen once in a tiny part and once in the large one
    events += insert(ctx.store, shifted(workload.slice(0, 30), seconds=1)) + insert(ctx.store, workload.slice(0, 20))
    assert "_part" in _sql.prefix_candidates(ctx.store)
    check(ctx, events)
    same_as_plain_replay(ctx)


def test_insert_select_from_a_staging_table(ctx, workload):
    events = insert_select(ctx.store, workload)
    assert ctx.store.count() == EVENTS
    check(ctx, events)


def insert_without_the_table(store, table: pa.Table) -> list[dict]:
    """Insert events into a store as an older Netra left it (no `kv_prefix_seen`), then reopen it."""
    for statement in ("DROP VIEW IF EXISTS kv_prefix_seen_mv", "DROP TABLE IF EXISTS kv_prefix_seen"):
        store.client.command(statement)
    try:
        return insert(store, table)
    finally:
        store.ensure_schema()


def test_events_older_than_the_table_are_backfilled(ctx, workload):
    events = insert_without_the_table(ctx.store, workload)
    ctx.store.ensure_schema()
    check(ctx, events)


def test_truncate_empties_the_table_and_forgets_old_blocks(ctx, workload):
    insert(ctx.store, workload)
    ctx.store.truncate()
    assert ctx.store.scalar("SELECT count() FROM kv_prefix_seen") == 0
    events = insert(ctx.store, workload.slice(EVENTS // 2))
    check(ctx, events)
    same_as_plain_replay(ctx)


@pytest.mark.parametrize("ddl", [KV_PREFIX_TABLE, KV_PREFIX_VIEW])
def test_ddl_is_idempotent(store, ddl):
    store.client.command(ddl)
    store.client.command(ddl)

"""Move a store of the old layout into the workspace layout, once (idempotent).

Before workspaces, `workload_events` was ordered by `(user_id, timestamp)` and every query
read every event. A store of that layout (its sorting key is not `EVENTS_KEY`) is moved:

1. the views and tables derived from the events are dropped (`DERIVED_DDL` recreates and
   backfills them keyed by workspace);
2. a new events table of the workspace layout is created and filled with one
   `INSERT ... SELECT`, every event going to the `local` workspace;
3. the two tables are swapped with `EXCHANGE TABLES` (atomic), and the old one is dropped.

A move cut short leaves the old table in place (or a stale new one, dropped first on the next
try), so it simply runs again. Run it with one process per store (embedded chDB has one anyway).
"""

from __future__ import annotations

from typing import Any

from netra.persistence._ddl import EVENTS_KEY, events_table
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.schema import COLUMN_NAMES

MOVING = "workload_events_relayout"  # a name of Netra's, never input
SORTING_KEY_SQL = ("SELECT sorting_key FROM system.tables "
                   "WHERE database = currentDatabase() AND name = 'workload_events'")
DROP_DERIVED = ("DROP VIEW IF EXISTS workload_hourly_mv", "DROP VIEW IF EXISTS kv_prefix_seen_mv",
                "DROP TABLE IF EXISTS workload_hourly", "DROP TABLE IF EXISTS kv_prefix_seen")
# an event of the old layout has no workspace (''): it goes to `local`
_WORKSPACE_SQL = "if(workspace_id = '', {local:String}, workspace_id) AS workspace_id"


def copy_sql() -> str:
    """Return the INSERT ... SELECT that copies every event into the new table."""
    columns = ", ".join(COLUMN_NAMES)
    select = ", ".join(_WORKSPACE_SQL if name == "workspace_id" else name for name in COLUMN_NAMES)
    return f"INSERT INTO {MOVING} ({columns}) SELECT {select} FROM workload_events"


MOVE: tuple[str, ...] = (*DROP_DERIVED, f"DROP TABLE IF EXISTS {MOVING}", events_table(MOVING), copy_sql(),
                         f"EXCHANGE TABLES workload_events AND {MOVING}", f"DROP TABLE {MOVING}")


def old_layout(client: Any) -> bool:
    """Return whether the store's `workload_events` exists and is not ordered by workspace."""
    rows = client.query(SORTING_KEY_SQL).result_rows
    return bool(rows) and rows[0][0].replace(" ", "") != EVENTS_KEY.replace(" ", "")


def relayout(client: Any) -> bool:
    """Move an old-layout `workload_events` into the workspace layout; return whether it had to."""
    if not old_layout(client):
        return False
    for statement in MOVE:
        client.command(statement, parameters={"local": LOCAL_WORKSPACE})
    return True

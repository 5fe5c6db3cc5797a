"""The analytics store: `workload_events` in ClickHouse or chDB, via clickhouse-connect.

The same SQL runs on a ClickHouse server (`http://host:8123/db`) and on embedded
chDB (`chdb:///path`). Values reach SQL only as bound `{name:Type}` parameters. A failure is
translated by `_store_errors.store_error` (a value the store refuses: 400; else 503), its text
logged, never in the message.
Every event belongs to one workspace (`workspace_id`); the tools scope their queries to
one in `netra.tools.scope.where`. `count`, `data_version` and `delete_workspace` take the
workspace too. Opening a store of the old layout moves it first (`_relayout.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import clickhouse_connect
import pyarrow as pa

from netra.errors import ConfigError
from netra.persistence._ddl import ADD_COLUMNS, DERIVED_DDL, DERIVED_TABLES, EVENTS_COLUMNS_SQL, EVENTS_TABLE
from netra.persistence._relayout import relayout
from netra.persistence._store_errors import store_error
from netra.persistence.files import private_folder
from netra.workloads.schema import ARROW_SCHEMA

_IN_WORKSPACE = " WHERE workspace_id = {workspace_id:String}"
_VERSION_SQL = ("SELECT count() AS n, toUnixTimestamp64Milli(max(timestamp)) AS t, "
                "sum(cityHash64(request_id)) AS h FROM workload_events")
_DELETE_SQL = "ALTER TABLE {table} DELETE WHERE workspace_id = {{workspace_id:String}} SETTINGS mutations_sync = 2"

_SCHEMES = ("chdb://", "http://", "https://")


@dataclass
class AnalyticsStore:
    """A connected store; create one with `open_store(url)`."""

    url: str
    client: Any = field(repr=False)

    def ensure_schema(self) -> None:
        """Create the tables, columns and views that are missing; move an old-layout store first (idempotent)."""
        self.client.command(EVENTS_TABLE)
        for statement in self._missing_columns():
            self.client.command(statement)
        relayout(self.client)
        for statement in DERIVED_DDL:
            self.client.command(statement)

    def _missing_columns(self) -> list[str]:
        """Return the ADD COLUMN statements of the event columns this store lacks (one made by an older Netra)."""
        present = {row[0] for row in self.client.query(EVENTS_COLUMNS_SQL).result_rows}
        return [statement for name, statement in ADD_COLUMNS.items() if name not in present]

    def insert_events(self, table: pa.Table, workspace_id: str | None = None) -> int:
        """Insert an Arrow table of events (columns as in `schema.COLUMNS`), all into `workspace_id` when given."""
        table = table.select(ARROW_SCHEMA.names)
        if workspace_id is not None:
            index = table.schema.get_field_index("workspace_id")
            table = table.set_column(index, "workspace_id", pa.repeat(pa.scalar(workspace_id), table.num_rows))
        self.client.insert_arrow("workload_events", table)
        return table.num_rows

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """Run a query with bound parameters; return rows as dicts."""
        result = self._query(sql, params)
        names = result.column_names
        return [dict(zip(names, row)) for row in result.result_rows]

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a query with bound parameters; return an Arrow table."""
        return self._query(sql, params, self.client.query_arrow)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        return self._query(sql, params).result_rows[0][0]

    def count(self, workspace_id: str | None = None) -> int:
        """Return how many events the store holds (in `workspace_id` only, when given)."""
        sql, params = _scoped("SELECT count() FROM workload_events", workspace_id)
        return int(self.scalar(sql, params))

    def data_version(self, workspace_id: str | None = None) -> str:
        """Return a token that changes whenever events are added or removed (in `workspace_id`, when given)."""
        row = self.rows(*_scoped(_VERSION_SQL, workspace_id))[0]
        return f"{row['n']}-{row['t']}-{row['h']}"

    def delete_workspace(self, workspace_id: str) -> None:
        """Delete the workspace's events and what was derived from them (other workspaces keep theirs)."""
        for table in ("workload_events", *DERIVED_TABLES):
            self.client.command(_DELETE_SQL.format(table=table), parameters={"workspace_id": workspace_id})

    def truncate(self) -> None:
        """Delete every event of every workspace and what was derived from them (keeps the schema)."""
        for table in ("workload_events", *DERIVED_TABLES):
            self.client.command(f"TRUNCATE TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Release the connection (and, for chDB, the engine's hold on its path)."""
        _OPEN.pop(self.url, None)
        self.client.close()

    def _query(self, sql: str, params: Mapping[str, Any] | None, run: Any = None) -> Any:
        try:
            return (run or self.client.query)(sql, parameters=dict(params or {}))
        except Exception as exc:  # clickhouse-connect raises many types: translated, their text logged only
            raise store_error(exc, "query") from exc


_OPEN: dict[str, AnalyticsStore] = {}


def _scoped(sql: str, workspace_id: str | None) -> tuple[str, dict[str, Any]]:
    """Return `sql` (with no WHERE yet) limited to `workspace_id` when given, and its parameters."""
    if workspace_id is None:
        return sql, {}
    return sql + _IN_WORKSPACE, {"workspace_id": workspace_id}


def open_store(url: str) -> AnalyticsStore:
    """Connect to `url` (chdb:///path or http(s)://host:port/db) and ensure the schema.

    Stores are shared per URL within a process: embedded chDB allows one data path
    per process, so a second `open_store` of the same URL returns the open store.
    """
    if not url.startswith(_SCHEMES):
        raise ConfigError(f"NETRA_CLICKHOUSE_URL={url!r}: expected chdb:///path or http://host:8123")
    if url not in _OPEN:
        _OPEN[url] = _connect(url)
    return _OPEN[url]


def _connect(url: str) -> AnalyticsStore:
    _make_parent(url)
    store = AnalyticsStore(url=url, client=_client(url))
    store.ensure_schema()
    return store


def _client(url: str) -> Any:
    try:
        return clickhouse_connect.get_client(dsn=url)
    except Exception as exc:  # a busy chDB path, a refused connection, bad credentials
        raise store_error(exc, "connect") from exc


def _make_parent(url: str) -> None:
    from pathlib import Path

    if url.startswith("chdb://"):  # NETRA_HOME by default: created 0700
        private_folder(Path(url.removeprefix("chdb://")).parent)

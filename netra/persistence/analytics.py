"""The analytics store: `workload_events` in ClickHouse or chDB, via clickhouse-connect.

The same SQL runs on a ClickHouse server (`http://host:8123/db`) and on embedded
chDB (`chdb:///path`). Values reach SQL only as bound `{name:Type}` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import clickhouse_connect
import pyarrow as pa

from netra.errors import ConfigError, ServiceError
from netra.persistence._ddl import DDL
from netra.workloads.schema import ARROW_SCHEMA

_SCHEMES = ("chdb://", "http://", "https://")


@dataclass
class AnalyticsStore:
    """A connected store; create one with `open_store(url)`."""

    url: str
    client: Any = field(repr=False)

    def ensure_schema(self) -> None:
        """Create the table and the hourly view if they are missing (idempotent)."""
        for statement in DDL:
            self.client.command(statement)

    def insert_events(self, table: pa.Table) -> int:
        """Insert an Arrow table of events (columns as in `schema.COLUMNS`)."""
        self.client.insert_arrow("workload_events", table.select(ARROW_SCHEMA.names))
        return table.num_rows

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """Run a query with bound parameters; return rows as dicts."""
        result = self._query(sql, params)
        names = result.column_names
        return [dict(zip(names, row)) for row in result.result_rows]

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a query with bound parameters; return an Arrow table."""
        return self.client.query_arrow(sql, parameters=dict(params or {}))

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        return self._query(sql, params).result_rows[0][0]

    def count(self) -> int:
        """Return how many events the store holds."""
        return int(self.scalar("SELECT count() FROM workload_events"))

    def data_version(self) -> str:
        """Return a token that changes whenever events are added or removed."""
        row = self.rows("SELECT count() AS n, toUnixTimestamp64Milli(max(timestamp)) AS t, "
                        "sum(cityHash64(request_id)) AS h FROM workload_events")[0]
        return f"{row['n']}-{row['t']}-{row['h']}"

    def truncate(self) -> None:
        """Delete every event and what was derived from them (keeps the schema)."""
        for table in ("workload_events", "workload_hourly", "kv_prefix_seen"):
            self.client.command(f"TRUNCATE TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Release the connection (and, for chDB, the engine's hold on its path)."""
        _OPEN.pop(self.url, None)
        self.client.close()

    def _query(self, sql: str, params: Mapping[str, Any] | None):
        try:
            return self.client.query(sql, parameters=dict(params or {}))
        except Exception as exc:  # clickhouse-connect raises many types
            raise ServiceError(f"analytics query failed: {exc}") from exc


_OPEN: dict[str, AnalyticsStore] = {}


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
        where = url.split("@")[-1]  # never echo credentials
        raise ServiceError(f"cannot open the analytics store at {where}: {exc}") from exc


def _make_parent(url: str) -> None:
    from pathlib import Path

    if url.startswith("chdb://"):
        Path(url.removeprefix("chdb://")).parent.mkdir(parents=True, exist_ok=True)

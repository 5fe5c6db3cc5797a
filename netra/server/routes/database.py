"""Database monitoring: the records database's pool, schema revision, slow statements and sessions.

    GET /api/monitoring/database     (role admin or developer)
    {"backend": "postgresql",                                  # or "sqlite"; never the URL
     "pool": {"class": "AsyncAdaptedQueuePool", "status": "Pool size: 5  Connections in pool: 1 ...",
              "size": 5, "checked_in": 1, "checked_out": 0, "overflow": -4},   # null where the pool lacks one
     "schema": {"revision": "0001_initial", "head": "0001_initial"},
     "queries": {"threshold_ms": 200.0, "seen": 812, "slow": 2,
                 "slowest": [{"statement": "SELECT ... WHERE users.id = %(id_1)s::VARCHAR",
                              "duration_ms": 251.3, "at": "2025-01-01T12:00:00+00:00"}]},
     "activity": {"active": 1, "idle": 4}}                       # PostgreSQL only, else null

`queries` comes from `netra.persistence.querylog` (null until the app's engine is watched);
statements keep their placeholders only, never the bound values. `activity` counts the
sessions of `pg_stat_activity` on the current database by state.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from netra.persistence import migrations
from netra.persistence.querylog import log_of
from netra.server.deps import AppResources, get_resources
from netra.server.routes.monitoring import OPERATORS

router = APIRouter(tags=["monitoring"])
ACTIVITY_SQL = text("SELECT coalesce(state, 'unknown') AS state, count(*) AS sessions FROM pg_stat_activity "
                    "WHERE datname = current_database() GROUP BY 1 ORDER BY 1")

# output key -> the pool method that answers it (absent on some pool classes: answered null)
POOL_FIELDS: dict[str, str] = {"size": "size", "checked_in": "checkedin", "checked_out": "checkedout",
                               "overflow": "overflow"}


def pool_of(engine: AsyncEngine) -> dict[str, Any]:
    """Return the pool's class, status text and the counters its class has."""
    pool = engine.pool
    fields = {key: _call(getattr(pool, method, None)) for key, method in POOL_FIELDS.items()}
    return {"class": type(pool).__name__, "status": pool.status(), **fields}


def _call(method: Any) -> Any:
    """Return `method()` when it is callable, else None."""
    return method() if callable(method) else None


def schema_of(url: str) -> dict[str, str | None]:
    """Return the database's revision and the newest one the migrations define (sync)."""
    return {"revision": migrations.current(url), "head": migrations.head()}


async def activity_of(engine: AsyncEngine) -> dict[str, int] | None:
    """Return the current database's sessions by state (PostgreSQL), else None."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        rows = (await connection.execute(ACTIVITY_SQL)).all()
    return {row.state: int(row.sessions) for row in rows}


def queries_of(engine: AsyncEngine) -> dict[str, Any] | None:
    """Return the slow-statement log of the engine, or None when it is not watched."""
    log = log_of(engine)
    return None if log is None else log.snapshot()


async def database_body(resources: AppResources) -> dict[str, Any]:
    """Return the database monitoring answer for the app's engine."""
    engine: AsyncEngine = resources.engine  # type: ignore[assignment]  # started by `get_resources`
    schema = await asyncio.to_thread(schema_of, resources.settings.resolved_database_url())
    return {"backend": engine.dialect.name, "pool": pool_of(engine), "schema": schema,
            "queries": queries_of(engine), "activity": await activity_of(engine)}


@router.get("/api/monitoring/database", dependencies=OPERATORS)
async def database(resources: AppResources = Depends(get_resources)) -> dict[str, Any]:
    """Answer the records database's pool, schema revision, slow statements and sessions."""
    return await database_body(resources)

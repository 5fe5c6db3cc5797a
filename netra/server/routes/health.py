"""Health: liveness, readiness and metrics.

    GET /health, /healthz   liveness: answers while the process serves requests (touches nothing)
    GET /health/ready       readiness: checks each dependency; 200 when all answer, else 503
                            {"status": "ok" | "unavailable", "checks": {name: "ok" | "down" | "skipped"},
                             "down": [...]}
    GET /health/metrics     Prometheus text exposition (see `netra.server.metrics`)

The dependencies are the analytics store (`SELECT 1`), the records database (`SELECT 1`
through the app's own pool, connecting within `CONNECT_TIMEOUT_S`; a fresh engine is used
only when the app's could not be created, e.g. the database was down at start-up) and Redis
(`PING`) when `NETRA_REDIS_URL` is set. The pool pings a connection before lending it, so a
database that went away is reported down, and up again once it answers. `migrations` checks
that the records database is at the newest revision this code knows (`alembic_version`): a
database behind it (or ahead of it) is down; while the database itself is down the check is
`skipped`, so only `database` is named. A failure is logged by type only: connection errors
can carry URLs, and URLs can carry passwords.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, NamedTuple

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.concurrency import run_in_threadpool

from netra.config import Settings
from netra.persistence import migrations
from netra.persistence.db import make_engine
from netra.server.deps import AppResources, get_settings
from netra.server.metrics import exposition

router = APIRouter(tags=["health"])
LOG = logging.getLogger("netra.server.health")
PROBE_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0
Check = Callable[[Request, Settings], Awaitable[None]]
EngineQuery = Callable[[AsyncEngine], Awaitable[None]]
head_revision = functools.cache(migrations.head)  # the newest revision of this code's migrations


class MigrationsBehindError(Exception):
    """The records database is not at the newest revision of this code's migrations."""


@router.get("/healthz")
@router.get("/health")
def healthz() -> dict[str, str]:
    """Answer that the server is up."""
    return {"status": "ok"}


def _ping_analytics(resources: AppResources, settings: Settings) -> None:
    store, _ = resources.opened(settings)
    with resources.lock:  # embedded chDB: one statement at a time
        store.scalar("SELECT 1")


async def check_analytics(request: Request, settings: Settings) -> None:
    """Run `SELECT 1` on the analytics store (opened on first use)."""
    await run_in_threadpool(_ping_analytics, request.app.state.resources, settings)


async def app_engine(request: Request) -> AsyncEngine | None:
    """Return the app's engine (its resources started if needed), or None when it cannot be created."""
    resources: AppResources = request.app.state.resources
    try:
        await resources.start()
    except Exception as exc:  # the database is unreachable, or its URL unusable: probe a fresh engine
        LOG.warning("readiness: the app's engine could not be started (%s)", type(exc).__name__)
    return resources.engine


async def select_one(engine: AsyncEngine) -> None:
    """Check out a connection (connecting within `CONNECT_TIMEOUT_S`) and run `SELECT 1`."""
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def revision_of(connection: Connection) -> str | None:
    """Return the revision the database's `alembic_version` holds (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


async def at_head(engine: AsyncEngine) -> None:
    """Raise MigrationsBehindError unless the database's revision is the newest of this code."""
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        async with engine.connect() as connection:
            revision = await connection.run_sync(revision_of)
    if revision != head_revision():
        raise MigrationsBehindError(f"the records database is at {revision!r}, not {head_revision()!r}")


async def fresh_query(settings: Settings, query: EngineQuery) -> None:
    """Run `query` on a fresh engine of the settings, disposed of after."""
    engine = make_engine(settings.resolved_database_url())
    try:
        await query(engine)
    finally:
        await engine.dispose()


async def on_engine(request: Request, settings: Settings, query: EngineQuery) -> None:
    """Run `query` on the app's pool; on a fresh engine only if the app's could not be created."""
    engine = await app_engine(request)
    await (query(engine) if engine is not None else fresh_query(settings, query))


async def check_database(request: Request, settings: Settings) -> None:
    """Run `SELECT 1` on the records database."""
    await on_engine(request, settings, select_one)


async def check_migrations(request: Request, settings: Settings) -> None:
    """Check the records database is migrated to the newest revision."""
    await on_engine(request, settings, at_head)


async def check_redis(request: Request, settings: Settings) -> None:
    """PING Redis."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()


class Probe(NamedTuple):
    """A dependency's check: whether the settings use it, the check, and the dependency it needs up."""

    used: Callable[[Settings], bool]
    check: Check
    needs: str | None = None


# dependency -> its probe
CHECKS: dict[str, Probe] = {
    "analytics": Probe(lambda settings: True, check_analytics),
    "database": Probe(lambda settings: True, check_database),
    "migrations": Probe(lambda settings: True, check_migrations, needs="database"),
    "redis": Probe(lambda settings: bool(settings.redis_url), check_redis),
}


async def probe(name: str, check: Check, request: Request, settings: Settings) -> bool:
    """Return whether the check of dependency `name` passes within the timeout."""
    try:
        await asyncio.wait_for(check(request, settings), PROBE_TIMEOUT_S)
    except Exception as exc:  # any failure, whatever its type, means not ready
        LOG.warning("readiness: %s is down (%s)", name, type(exc).__name__)
        return False
    return True


async def run_checks(request: Request, settings: Settings) -> dict[str, str]:
    """Return each used dependency's state, checked concurrently."""
    names = [name for name, entry in CHECKS.items() if entry.used(settings)]
    results = await asyncio.gather(*(probe(name, CHECKS[name].check, request, settings) for name in names))
    passed = dict(zip(names, results))
    return {name: state(name, passed) for name in names}


def state(name: str, passed: dict[str, bool]) -> str:
    """Return a check's state: `ok`, `down`, or `skipped` when the dependency it needs is down."""
    needs = CHECKS[name].needs
    if needs is not None and not passed.get(needs, True):
        return "skipped"
    return "ok" if passed[name] else "down"


def readiness_body(checks: dict[str, str]) -> dict[str, Any]:
    """Return the readiness answer of the checks' states."""
    down = sorted(name for name, outcome in checks.items() if outcome == "down")
    return {"status": "unavailable" if down else "ok", "checks": checks, "down": down}


@router.get("/health/ready")
async def ready(request: Request, settings: Settings = Depends(get_settings)) -> JSONResponse:
    """Check every dependency; 503 names the ones down."""
    body = readiness_body(await run_checks(request, settings))
    return JSONResponse(body, status_code=503 if body["down"] else 200)


@router.get("/health/metrics")
def metrics() -> Response:
    """Answer the metrics in the Prometheus text format."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)

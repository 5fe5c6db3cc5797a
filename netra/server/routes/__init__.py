"""The API's routes, one module per resource; `ROUTERS` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from netra.server.routes import auth, health, ingest, tools
from netra.server.routes import reports, runs, threads

from netra.server.routes import circuit, database, llm_cache, monitoring, quality
from netra.server.routes import agent
from netra.server.routes import admin, config, references, supply_catalog, synthetic
from netra.server.routes import ws
from netra.server.routes import charts, web
from netra.server.routes import keys, workspaces
from netra.server.sse import assistants as sse_assistants, runs as sse_runs, threads as sse_threads

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    ingest.router,
    tools.router,
    auth.router,
    threads.router,
    runs.router,
    reports.router,
    monitoring.router,
    database.router,
    circuit.router,
    llm_cache.router,
    quality.router,
    agent.router,
    supply_catalog.router,
    references.router,
    config.router,
    admin.router,
    synthetic.router,
    ws.router,
    charts.router,
    web.router,
    workspaces.router,
    keys.router,
    sse_assistants.router,
    sse_threads.router,
    sse_runs.router,
)

__all__ = ["ROUTERS"]

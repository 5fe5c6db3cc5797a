"""The API's routes, one module per resource; `ROUTERS` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from netra.server.routes import auth, health, ingest, tools

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    ingest.router,
    tools.router,
    auth.router,
)

__all__ = ["ROUTERS"]

"""The FastAPI app factory.

    app = create_app()                                   # settings from NETRA_*, store opened on first use
    app = create_app(settings, store=store, catalog=c)   # tests: a given store and catalog
"""

from __future__ import annotations

from fastapi import FastAPI

from netra import __version__
from netra.config import Settings
from netra.persistence.analytics import AnalyticsStore
from netra.server.deps import AppResources, get_settings
from netra.server.errors import install_error_handlers
from netra.server.routes import ROUTERS
from netra.workloads.catalog import PriceCatalog

DESCRIPTION = ("Ingest LLM workload telemetry: workload events as JSON or NDJSON, and OpenTelemetry "
               "GenAI spans over OTLP/HTTP JSON. Not authenticated yet: bind to localhost.")


def create_app(settings: Settings | None = None, store: AnalyticsStore | None = None,
               catalog: PriceCatalog | None = None) -> FastAPI:
    """Return the app; `settings` replaces `get_settings()`, `store` and `catalog` skip opening them."""
    app = FastAPI(title="Netra", version=__version__, description=DESCRIPTION)
    app.state.resources = AppResources(store, catalog)
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    _assemble(app)
    return app


def _assemble(app: FastAPI) -> None:
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

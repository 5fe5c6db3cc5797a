"""The FastAPI app factory.

    app = create_app()                                   # settings from NETRA_*, store opened on first use
    app = create_app(settings, store=store, catalog=c)   # tests: a given store and catalog

Middleware, outermost first (`middleware(settings)`): client address (`X-Forwarded-For` of
trusted proxies only), request id, access log and metrics, security headers, CORS (when
`NETRA_CORS_ORIGINS` lists origins), the request body limit (413). Rate limits are an
app-wide dependency (`netra.server.ratelimit.rate_limit`); errors are answered by the
handlers of `netra.server.errors.HANDLERS`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import Depends, FastAPI
from starlette.middleware import Middleware

from netra import __version__
from netra.config import Settings
from netra.persistence.analytics import AnalyticsStore
from netra.server.auth.tokens import token_config
from netra.server.body_limit import BodyLimitMiddleware, BodyLimits
from netra.server.deps import AppResources, get_settings
from netra.server.errors import install_error_handlers
from netra.server.logfilter import install_query_filter
from netra.server.mcp_http import mount_mcp
from netra.server.middleware import AccessLogMiddleware, RequestIdMiddleware, SecurityHeadersMiddleware, cors
from netra.server.otlp import otlp_grpc
from netra.server.proxies import ClientAddressMiddleware, TrustedProxies
from netra.server.ratelimit import open_limiter, rate_limit
from netra.server.routes import ROUTERS
from netra.workloads.catalog import PriceCatalog

DESCRIPTION = ("Netra's HTTP API: ingest LLM workload telemetry (JSON/NDJSON events, OpenTelemetry GenAI "
               "spans over OTLP/HTTP protobuf or JSON, and OTLP/gRPC), run Apex tools, sign in (dev login or "
               "OpenID Connect), health and metrics, threads, runs and reports. Every ingest, tools and /api route "
               "needs a bearer token (GET /api/config excepted).")
APP_INFO = {"title": "Netra", "version": __version__, "description": DESCRIPTION}


def middleware(settings: Settings) -> list[Middleware]:
    """Return the app's middleware, outermost first."""
    return [Middleware(ClientAddressMiddleware, proxies=TrustedProxies.of(settings.trusted_proxies)),
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, log_json=settings.log_json),
            Middleware(SecurityHeadersMiddleware),
            *cors(settings.cors_origins),
            Middleware(BodyLimitMiddleware, limits=BodyLimits.of(settings))]


def create_app(settings: Settings | None = None, store: AnalyticsStore | None = None,
               catalog: PriceCatalog | None = None) -> FastAPI:
    """Return the app; `settings` replaces `get_settings()`, `store` and `catalog` skip opening them."""
    resolved = settings or get_settings()
    app = FastAPI(middleware=middleware(resolved), dependencies=[Depends(rate_limit)], lifespan=lifespan,
                  **APP_INFO)
    app.state.resources, app.state.limiter = AppResources(resolved, store, catalog), open_limiter(resolved)
    _assemble(app, settings)
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Check the signing key, start the app's resources (migrations, pools) before serving; close them after."""
    resources: AppResources = app.state.resources
    token_config(resources.settings)  # ConfigError: a weak signing key stops the server before it serves
    async with started(resources), app.state.mcp.running(), otlp_grpc(app):  # MCP; OTLP/gRPC if its port is set
        yield


@asynccontextmanager
async def started(resources: AppResources) -> AsyncIterator[AppResources]:
    """Start the app's resources (migrations, pools); close them after."""
    await resources.start()
    try:
        yield resources
    finally:
        await resources.close()


def _assemble(app: FastAPI, settings: Settings | None) -> None:
    install_query_filter()  # uvicorn would log query strings: OAuth codes, tokens in old clients' URLs
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.state.mcp = mount_mcp(app, app.state.resources.settings)  # the Apex tools over MCP (Streamable HTTP)

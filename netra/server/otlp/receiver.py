"""OTLP/gRPC: `TraceService.Export` on its own port, served by the app's lifespan on the app's event loop.

    NETRA_OTLP_GRPC_PORT=4317 netra serve      # or: netra serve --otlp-grpc-port 4317

The receiver implements the official generated `TraceServiceServicer` and takes the path of
`POST /v1/traces` (`netra.server.otlp.traces`): the same mapping, loader, catalog and workspace
scoping. It is off unless `NETRA_OTLP_GRPC_PORT` is set (0 binds any free port: tests); it binds
the HTTP server's interface (`NETRA_OTLP_GRPC_HOST`, 127.0.0.1 by default) without TLS: put a
TLS-terminating proxy in front of it beyond the loopback interface.

Every call needs a workspace key with the `ingest` scope in the metadata
(`authorization: Bearer nk_...`), checked as HTTP ingest checks it (`netra.server.keyauth`).
Messages are bounded by `NETRA_MAX_INGEST_BYTES` (after gRPC decompression), calls by
`NETRA_RATE_LIMIT_PER_MINUTE` per client address. Errors become gRPC status codes
(`STATUS_CODES`); the key is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import (
    TraceServiceServicer,
    add_TraceServiceServicer_to_server,
)

from netra.config import Settings
from netra.errors import ConfigError, ServiceError, UserInputError
from netra.persistence.apikeys import KeyScope
from netra.persistence.uow import UnitOfWork
from netra.server.auth.errors import AuthError, ForbiddenError, RevocationsUnavailableError
from netra.server.deps import AppResources, Loader
from netra.server.errors import (
    INTERNAL_MESSAGE,
    PayloadTooLargeError,
    RateLimitedError,
    nearest,
    translated,
)
from netra.server.keyauth import KeyGrant, grant_of
from netra.server.otlp.traces import TraceLoad, load_traces
from netra.workloads.importers._otlp_proto import export_document

LOG = logging.getLogger("netra.server.otlp")
EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
STOP_GRACE_S = 5.0
# error type -> the gRPC status it is answered with; a subclass not listed takes its nearest listed base's
STATUS_CODES: dict[type[BaseException], grpc.StatusCode] = {
    AuthError: grpc.StatusCode.UNAUTHENTICATED,
    ForbiddenError: grpc.StatusCode.PERMISSION_DENIED,
    RevocationsUnavailableError: grpc.StatusCode.UNAVAILABLE,
    PayloadTooLargeError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    RateLimitedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ConfigError: grpc.StatusCode.INTERNAL,
    UserInputError: grpc.StatusCode.INVALID_ARGUMENT,
    ServiceError: grpc.StatusCode.UNAVAILABLE,
}


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Return the gRPC status and message of an error; INTERNAL, without its text, for one not in STATUS_CODES."""
    code = nearest(STATUS_CODES, exc)
    if code is None:
        LOG.error("OTLP/gRPC export failed", exc_info=exc)
        return grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE
    return code, str(exc)


class TraceReceiver(TraceServiceServicer):
    """`TraceService.Export` over the app's resources: authenticate, rate-limit, load."""

    def __init__(self, resources: AppResources, limiter: Any) -> None:
        self.resources, self.limiter = resources, limiter

    async def Export(self, request: ExportTraceServiceRequest,  # noqa: N802 (the generated servicer's name)
                     context: grpc.aio.ServicerContext) -> ExportTraceServiceResponse:
        """Load the export's model-call spans into the key's workspace; answer its partial success."""
        try:
            return await self.export(request, context)
        except Exception as exc:  # noqa: BLE001 (the one boundary where every error becomes a status)
            await context.abort(*status_of(translated(exc)))

    async def export(self, request: ExportTraceServiceRequest,
                     context: grpc.aio.ServicerContext) -> ExportTraceServiceResponse:
        """Answer one call; raise the Netra error of what went wrong."""
        await self.count(context.peer())
        grant = await self.grant(dict(context.invocation_metadata() or ()).get("authorization"))
        load = await asyncio.to_thread(self.load, request, grant.workspace_id)
        return load.response()

    async def count(self, peer: str) -> None:
        """Count the call against its client address (the peer less its port); raise RateLimitedError past the limit."""
        address = peer.rsplit(":", 1)[0]
        decision = await self.limiter.hit(f"rate:{EXPORT_METHOD}:ip:{address}") if self.limiter else None
        if decision is not None and not decision.allowed:
            raise RateLimitedError(decision.retry_after)

    async def grant(self, authorization: str | None) -> KeyGrant:
        """Return the grant of the metadata's key for `ingest` (AuthError as HTTP ingest raises it)."""
        await self.resources.start()
        async with UnitOfWork(self.resources.session_factory) as uow:  # type: ignore[arg-type]
            return await grant_of(uow, authorization, KeyScope.INGEST)

    def load(self, request: ExportTraceServiceRequest, workspace_id: str) -> TraceLoad:
        """Map and load the export (in a worker thread: loads block, one at a time)."""
        store, catalog = self.resources.opened()
        loader = Loader(store, catalog, self.resources.lock)
        return load_traces(loader, export_document(request), workspace_id)


def grpc_server(resources: AppResources, limiter: Any) -> grpc.aio.Server:
    """Return an unstarted gRPC server holding the receiver, its messages bounded by NETRA_MAX_INGEST_BYTES."""
    limit = resources.settings.max_ingest_bytes
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit)])
    add_TraceServiceServicer_to_server(TraceReceiver(resources, limiter), server)
    return server


@asynccontextmanager
async def otlp_grpc(app: Any) -> AsyncIterator[int | None]:
    """Serve OTLP/gRPC while the app runs when NETRA_OTLP_GRPC_PORT is set; yield the bound port (None: off).

    The port is kept in `app.state.otlp_grpc_port` too.
    """
    settings = app.state.resources.settings
    if settings.otlp_grpc_port is None:
        yield None
        return
    async with _serving(grpc_server(app.state.resources, app.state.limiter), settings) as port:
        app.state.otlp_grpc_port = port
        yield port


@asynccontextmanager
async def _serving(server: grpc.aio.Server, settings: Settings) -> AsyncIterator[int]:
    """Bind `server` to NETRA_OTLP_GRPC_HOST:PORT, start it and (on exit) stop it; yield the bound port."""
    port = _bound(server, f"{settings.otlp_grpc_host}:{settings.otlp_grpc_port}")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(STOP_GRACE_S)


def _bound(server: grpc.aio.Server, address: str) -> int:
    """Bind `address`; return the port; raise ConfigError naming the setting when it cannot be bound."""
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise ConfigError(f"NETRA_OTLP_GRPC_PORT: cannot listen on {address}: {exc}") from exc
    if not port:
        raise ConfigError(f"NETRA_OTLP_GRPC_PORT: cannot listen on {address}")
    return port

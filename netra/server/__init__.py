"""Netra's HTTP API: `create_app()` builds the FastAPI app; `netra serve` runs it.

    GET  /healthz              liveness
    POST /api/ingest/events    workload events as a JSON array or NDJSON
    POST /v1/traces            OTLP/HTTP traces, protobuf or JSON (OpenTelemetry GenAI / OpenInference spans);
                               OTLP/gRPC on NETRA_OTLP_GRPC_PORT (`netra.server.otlp`)

`from netra.server import create_app` imports `netra.server.app` on first use, not with the
package: importing a submodule (`netra.server.auth.records`, say) does not load the whole server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netra.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """Return `create_app` from `netra.server.app`, imported now; any other name is missing."""
    if name == "create_app":
        from netra.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

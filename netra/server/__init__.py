"""Netra's HTTP API: `create_app()` builds the FastAPI app; `netra serve` runs it.

    GET  /healthz              liveness
    POST /api/ingest/events    workload events as a JSON array or NDJSON
    POST /v1/traces            OTLP/HTTP traces, protobuf or JSON (OpenTelemetry GenAI / OpenInference spans);
                               OTLP/gRPC on NETRA_OTLP_GRPC_PORT (`netra.server.otlp`)
"""

from __future__ import annotations

from netra.server.app import create_app

__all__ = ["create_app"]

"""OTLP traces on every transport: OTLP/HTTP (protobuf, JSON) at `POST /v1/traces`, OTLP/gRPC on its own port.

    from netra.server.otlp import load_traces, otlp_grpc
"""

from __future__ import annotations

from netra.server.otlp.receiver import TraceReceiver, otlp_grpc
from netra.server.otlp.traces import TraceLoad, load_traces, protobuf_document

__all__ = ["TraceLoad", "TraceReceiver", "load_traces", "otlp_grpc", "protobuf_document"]

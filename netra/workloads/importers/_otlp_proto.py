"""OTLP protobuf traces: the official `opentelemetry-proto` messages, read as the OTLP/JSON mapping reads them.

    export_document(ExportTraceServiceRequest.FromString(body))   # -> {"resourceSpans": [...]}
    export_response(rejected_spans=1, error_message="...")        # -> ExportTraceServiceResponse

OTLP/HTTP protobuf and OTLP/gRPC carry the same `ExportTraceServiceRequest`; protobuf's own
JSON mapping (`MessageToDict`) turns it into the document an OTLP/JSON export is, with the two
differences the OTLP specification makes to that mapping undone: trace and span ids are hex,
not base64. Everything else (int64 as strings, enums by name, camelCase keys) is what
`_otlp` already reads, so a span is mapped by one table whatever its transport.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from netra.workloads.importers._otlp import spans

# span fields that are ids: bytes on the wire, hex in OTLP/JSON
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex(value: Any) -> Any:
    """Return a base64 id (protobuf's JSON mapping of bytes) as lower-case hex; keep what is not base64."""
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, TypeError, ValueError):
        return value


def export_document(request: ExportTraceServiceRequest) -> dict:
    """Return the OTLP/JSON document of a protobuf export request (ids as hex)."""
    document = MessageToDict(request)
    for _, span in spans(document):
        span.update({key: _hex(span[key]) for key in ID_FIELDS if key in span})
    return document


def export_response(rejected_spans: int = 0, error_message: str = "") -> ExportTraceServiceResponse:
    """Return the OTLP answer: empty when every span was taken, else its partial success."""
    if not rejected_spans:
        return ExportTraceServiceResponse()
    partial = ExportTracePartialSuccess(rejected_spans=rejected_spans, error_message=error_message)
    return ExportTraceServiceResponse(partial_success=partial)

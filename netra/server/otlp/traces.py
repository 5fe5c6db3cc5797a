"""One path for OTLP traces from every transport: decode the export, map its spans, load them.

    document = protobuf_document(body)                    # OTLP/HTTP protobuf; gRPC hands the message over
    load = load_traces(loader, document, grant.workspace_id)
    load.response()                                       # the ExportTraceServiceResponse, partial success

OTLP/HTTP JSON, OTLP/HTTP protobuf and OTLP/gRPC differ only in how the export arrives: each
becomes the same OTLP/JSON document (`netra.workloads.importers._otlp_proto`), mapped span by
span by one table (`_otlp.SPAN_ALIASES`) and loaded all-or-nothing by the app's one `Loader`
into the workspace of the caller's ingest key, priced by the catalog as every ingest is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from netra.server.deps import Loader
from netra.server.errors import BadPayloadError
from netra.workloads.importers._otlp_proto import export_document, export_response
from netra.workloads.importers.loader import IngestSummary
from netra.workloads.importers.otel import otlp_batch

REPORTED_IN_MESSAGE = 3  # rejected spans named in the partial success' message
SOURCE = "otlp"


@dataclass(frozen=True)
class TraceLoad:
    """The outcome of one export: the load's summary and how many spans were not model calls."""

    summary: IngestSummary
    skipped: int

    @property
    def rejected_spans(self) -> int:
        """Return how many model-call spans were rejected (every reason)."""
        return sum(self.summary.rejected.values())

    def error_message(self) -> str:
        """Return the partial success' message: counts by reason, then the first spans by row."""
        rejected = self.summary.rejected
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(rejected.items()))
        first = "; ".join(f"span {r.row}: {r.detail or r.reason}"
                          for r in self.summary.rejections[:REPORTED_IN_MESSAGE])
        return f"{self.rejected_spans} spans rejected ({reasons}); {first}"

    def response(self) -> ExportTraceServiceResponse:
        """Return the OTLP answer: empty, or the partial success of the rejected spans."""
        return export_response(self.rejected_spans, self.error_message() if self.rejected_spans else "")


def protobuf_document(body: bytes) -> dict:
    """Return the OTLP/JSON document of a protobuf `ExportTraceServiceRequest`; BadPayloadError if it is not one."""
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise BadPayloadError(f"body is not an OTLP protobuf ExportTraceServiceRequest: {exc}") from exc
    return export_document(request)


def load_traces(loader: Loader, document: Any, workspace_id: str) -> TraceLoad:
    """Load the model-call spans of an OTLP/JSON document into `workspace_id`; return the outcome."""
    batch, skipped = otlp_batch(document)
    return TraceLoad(loader.load([batch], SOURCE, workspace_id), skipped)

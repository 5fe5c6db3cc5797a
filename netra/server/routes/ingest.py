"""Ingest: workload events as JSON, and OpenTelemetry traces over OTLP/HTTP (protobuf or JSON).

    POST /api/ingest/events   Content-Type: application/json (an array) | application/x-ndjson
    POST /v1/traces           Content-Type: application/x-protobuf | application/json (OTLP/HTTP)

Both take a workspace API key with the `ingest` scope, `Authorization: Bearer nk_...`
(`netra.server.keyauth`): after the Content-Type check (415) and before the body is read, 401
without one, or with a user's access token; 403 for a key without the scope. The events go to
the key's workspace (a `workspace_id` in the body is ignored), and duplicates are looked for in
that workspace only.
Each request loads all-or-nothing through `load_batches` and answers
`{"accepted", "duplicates", "rejected": {reason: n}, "rejections": [{"row", "reason", "detail"}],
"unknown_models"}`; `/v1/traces` adds `skipped_spans` and, when spans were rejected, the
OTLP `partialSuccess`. A protobuf export is answered in protobuf: an `ExportTraceServiceResponse`,
with `partial_success` when spans were rejected (the OTLP/gRPC receiver, `netra.server.otlp`,
takes the same path). An event's row is its 1-based position in the array, or its NDJSON
line number; a span's row is its 1-based position in the export.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any, Callable, NamedTuple

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from netra.persistence.apikeys import KeyScope
from netra.server.deps import Loader, get_loader
from netra.server.errors import BadPayloadError, UnsupportedMediaTypeError
from netra.server.keyauth import KeyGrant, key_with
from netra.server.limits import limited_body
from netra.server.otlp.traces import TraceLoad, load_traces, protobuf_document
from netra.workloads.importers.loader import IngestSummary
from netra.workloads.importers.records import rows_batch

router = APIRouter(tags=["ingest"])
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl",
                          "application/x-jsonlines", "application/json-lines"})
JSON_TYPES = frozenset({"application/json", ""})
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
PROTOBUF = "application/x-protobuf"


def media_type(request: Request) -> str:
    """Return the request's Content-Type without parameters, lower-cased ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def events_format(request: Request) -> str:
    """Return 'ndjson' or 'json' by Content-Type; raise UnsupportedMediaTypeError for any other."""
    media = media_type(request)
    if media not in NDJSON_TYPES | JSON_TYPES:
        raise UnsupportedMediaTypeError(f"Content-Type {media!r} is not supported: send a JSON array "
                                        "(application/json) or NDJSON (application/x-ndjson)")
    return "ndjson" if media in NDJSON_TYPES else "json"


def otlp_format(request: Request) -> str:
    """Return 'protobuf' or 'json' by Content-Type; raise UnsupportedMediaTypeError for any other."""
    media = media_type(request)
    if media not in PROTOBUF_TYPES | JSON_TYPES:
        raise UnsupportedMediaTypeError(f"Content-Type {media!r} is not supported: send OTLP/HTTP protobuf "
                                        "(application/x-protobuf) or JSON (application/json)")
    return "protobuf" if media in PROTOBUF_TYPES else "json"


Body = Annotated[bytes, Depends(limited_body)]
Load = Annotated[Loader, Depends(get_loader)]
IngestKey = Annotated[KeyGrant, Depends(key_with(KeyScope.INGEST))]


@router.post("/api/ingest/events")
def ingest_events(fmt: Annotated[str, Depends(events_format)], key: IngestKey, body: Body,
                  loader: Load) -> dict[str, Any]:
    """Load workload events (keys are event column names) into the key's workspace; answer what was accepted."""
    summary = loader.load([rows_batch(event_entries(body, fmt))], "api/events", key.workspace_id)
    return summary_body(summary)


@router.post("/v1/traces", response_model=None)
def ingest_traces(fmt: Annotated[str, Depends(otlp_format)], key: IngestKey, body: Body,
                  loader: Load) -> Response:
    """Load the model-call spans of an OTLP/HTTP export as workload events of the key's workspace.

    The answer is in the request's encoding: the JSON load summary, or a protobuf
    `ExportTraceServiceResponse`.
    """
    encoding = OTLP_ENCODINGS[fmt]
    return encoding.answer(load_traces(loader, encoding.read(body), key.workspace_id))


def event_entries(body: bytes, fmt: str) -> list[tuple[int, Any]]:
    """Return (row number, entry) pairs of a JSON array or NDJSON body."""
    if fmt == "ndjson":
        return parse_ndjson(body)
    entries = parse_json(body)
    if not isinstance(entries, list):
        raise BadPayloadError("expected a JSON array of event objects (or NDJSON with Content-Type: "
                              "application/x-ndjson)")
    return list(enumerate(entries, 1))


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadPayloadError(f"body is not valid UTF-8 (byte {exc.start})") from exc


def parse_json(body: bytes) -> Any:
    """Return the parsed body; raise BadPayloadError with the parser's position."""
    try:
        return json.loads(_text(body))
    except json.JSONDecodeError as exc:
        raise BadPayloadError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
                              f"(char {exc.pos})") from exc


def parse_ndjson(body: bytes) -> list[tuple[int, Any]]:
    """Return (line number, value) of every non-blank line; raise BadPayloadError naming a bad line."""
    lines = enumerate(_text(body).split("\n"), 1)
    return [(number, _parse_line(number, line)) for number, line in lines if line.strip()]


def _parse_line(number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadPayloadError(f"invalid JSON on line {number}: {exc.msg} at column {exc.colno}") from exc


def summary_body(summary: IngestSummary) -> dict[str, Any]:
    """Return the JSON answer of a load."""
    return {"accepted": summary.accepted, "duplicates": summary.duplicates, "rejected": summary.rejected,
            "rejections": [asdict(r) for r in summary.rejections], "unknown_models": summary.unknown_models}


def partial_success(load: TraceLoad) -> dict[str, Any]:
    """Return the OTLP `partialSuccess` of a load that rejected spans; {} when none was."""
    if not load.rejected_spans:
        return {}
    return {"partialSuccess": {"rejectedSpans": load.rejected_spans, "errorMessage": load.error_message()}}


def json_answer(load: TraceLoad) -> Response:
    """Return the JSON answer of an OTLP/HTTP JSON export: the load summary, skipped spans, partial success."""
    return JSONResponse(summary_body(load.summary) | {"skipped_spans": load.skipped} | partial_success(load))


def protobuf_answer(load: TraceLoad) -> Response:
    """Return the protobuf answer of an OTLP/HTTP protobuf export: its `ExportTraceServiceResponse`."""
    return Response(load.response().SerializeToString(), media_type=PROTOBUF)


class OtlpEncoding(NamedTuple):
    """How an OTLP/HTTP encoding is read and answered."""

    read: Callable[[bytes], Any]
    answer: Callable[[TraceLoad], Response]


# otlp_format's name of the request's encoding -> how to read it and answer in it
OTLP_ENCODINGS: dict[str, OtlpEncoding] = {
    "json": OtlpEncoding(parse_json, json_answer),
    "protobuf": OtlpEncoding(protobuf_document, protobuf_answer),
}

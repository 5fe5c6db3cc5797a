"""OTLP as exporters send it, on a real server with its lifespan: OTLP/HTTP protobuf (plain, gzip) and OTLP/gRPC.

The export is the JSON fixture turned into the official `ExportTraceServiceRequest` by
protobuf's own JSON parser (ids hex -> bytes), so each transport must store exactly the rows
the OTLP/JSON path stores (`test_ingest_api.STORED_SPANS`).
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Iterator

import grpc
import httpx
import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from netra.config import Settings
from tests.integration.api.seeding import workspace_of
from tests.integration.test_ingest_api import SPAN_SQL, SPANS, STORED_SPANS
from tests.support.live import DEV, Live, live_server

pytestmark = pytest.mark.timeout(120)
LIMIT = 32 * 1024
PROTOBUF = "application/x-protobuf"
TRACE = "0af7651916cd43dd8448eb211c80319c"


def to_protobuf(document: dict) -> ExportTraceServiceRequest:
    """Return an OTLP/JSON export as the protobuf message (OTLP/JSON ids are hex, protobuf's JSON base64)."""
    for resource_spans in document["resourceSpans"]:
        for span in (s for scope in resource_spans["scopeSpans"] for s in scope["spans"]):
            span.update({k: base64.b64encode(bytes.fromhex(span[k])).decode() for k in ("traceId", "spanId")})
    return ParseDict(document, ExportTraceServiceRequest())


EXPORT = to_protobuf(json.loads(SPANS))


@pytest.fixture(scope="module")
def live(session_store, catalog, tmp_path_factory) -> Iterator[Live]:
    """A server with its lifespan, OTLP/gRPC on a free port, over the session store."""
    home = tmp_path_factory.mktemp("otlp")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'netra.db'}", max_ingest_bytes=LIMIT,
                        otlp_grpc_port=0, **DEV)
    with live_server(settings, session_store, catalog) as server:
        yield server


def issued_key(base_url: str, scopes: list[str]) -> tuple[str, str]:
    """Return a new workspace key with `scopes`, and its workspace id (a developer signed in to make it)."""
    token = httpx.post(f"{base_url}/auth/dev-login", json={"email": "otlp@example.com"}, timeout=30).json()
    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {token['access_token']}"}) as user:
        workspace = workspace_of(user)
        created = user.post(f"/api/workspaces/{workspace}/keys", json={"name": "otlp", "scopes": scopes})
    assert created.status_code == 201, created.text
    return created.json()["key"], workspace


@pytest.fixture(scope="module")
def key(live: Live) -> tuple[str, str]:
    """An ingest key and its workspace."""
    return issued_key(live.url, ["ingest"])


@pytest.fixture
def stub(live: Live, store) -> Iterator[TraceServiceStub]:
    """A gRPC client of the server's OTLP/gRPC receiver, over an emptied store."""
    with grpc.insecure_channel(f"127.0.0.1:{live.app.state.otlp_grpc_port}") as channel:
        yield TraceServiceStub(channel)


def post(live: Live, body: bytes, token: str, content_type: str = PROTOBUF, **headers: str) -> httpx.Response:
    """POST a body to /v1/traces with the key."""
    headers = {"content-type": content_type, "authorization": f"Bearer {token}", **headers}
    return httpx.post(f"{live.url}/v1/traces", content=body, headers=headers, timeout=30)


def stored(store) -> list[tuple]:
    """Return the fixture trace's stored rows, as `STORED_SPANS` lists them."""
    return [tuple(row.values()) for row in store.rows(SPAN_SQL, {"trace": TRACE})]


def assert_partial_success(answer: ExportTraceServiceResponse) -> None:
    """Check the answer reports the fixture's one rejected span, by its row."""
    assert answer.partial_success.rejected_spans == 1
    assert "span 8: input_tokens is missing" in answer.partial_success.error_message


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_protobuf_export_lands_and_is_answered_in_protobuf(live, key, store, encoding: str):
    """Store the same rows as OTLP/JSON; answer an ExportTraceServiceResponse with the partial success."""
    body = EXPORT.SerializeToString()
    answer = post(live, gzip.compress(body) if encoding == "gzip" else body, key[0], **{"content-encoding": encoding})
    assert (answer.status_code, answer.headers["content-type"]) == (200, PROTOBUF), answer.text
    assert_partial_success(ExportTraceServiceResponse.FromString(answer.content))
    assert stored(store) == STORED_SPANS


@pytest.mark.parametrize("content_type", [PROTOBUF, "application/protobuf", f"{PROTOBUF}; proto=export"])
def test_protobuf_is_never_415(live, key, store, content_type: str):
    """Take every protobuf Content-Type; a full success is an empty response."""
    answer = post(live, ExportTraceServiceRequest().SerializeToString(), key[0], content_type)
    assert (answer.status_code, answer.content, store.count()) == (200, b"", 0)


def test_events_go_to_the_keys_workspace(live, key, store):
    """Store the spans in the key's workspace, whatever the transport."""
    post(live, EXPORT.SerializeToString(), key[0])
    assert store.rows("SELECT DISTINCT workspace_id FROM workload_events") == [{"workspace_id": key[1]}]


# body, extra headers, status, error, part of the message
HTTP_REFUSALS = [
    (gzip.compress(b"\n" * (LIMIT + 1)), {"content-encoding": "gzip"}, 413, "payload_too_large", f"{LIMIT} bytes"),
    (b"\x0a" + b"\x00" * (LIMIT + 1), {}, 413, "payload_too_large", f"{LIMIT} bytes"),
    (b"\xff\xff\xff", {}, 400, "bad_payload", "not an OTLP protobuf ExportTraceServiceRequest"),
    (b"\x1f\x8b broken", {"content-encoding": "gzip"}, 400, "bad_payload", "not valid gzip"),
]


@pytest.mark.parametrize(("body", "headers", "status", "error", "message"), HTTP_REFUSALS,
                         ids=["gzip-bomb", "oversize", "not-protobuf", "bad-gzip"])
def test_protobuf_refusals(live, key, store, body: bytes, headers: dict, status: int, error: str, message: str):
    """Refuse a body over the limit (also once inflated) with 413, one that is not an export with 400."""
    answer = post(live, body, key[0], **headers)
    assert (answer.status_code, answer.json()["error"]["code"], store.count()) == (status, error, 0), answer.text
    assert message in answer.json()["error"]["message"]


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_grpc_export_lands_with_its_partial_success(key, stub, store, compression):
    """Store the same rows as OTLP/HTTP; answer the partial success of the rejected span."""
    answer = stub.Export(EXPORT, metadata=[("authorization", f"Bearer {key[0]}")], compression=compression)
    assert_partial_success(answer)
    assert stored(store) == STORED_SPANS


def refused_status(stub: TraceServiceStub, request: ExportTraceServiceRequest, metadata: list,
                   compression: grpc.Compression = grpc.Compression.NoCompression) -> grpc.StatusCode:
    """Return the status code of an Export call that must fail."""
    with pytest.raises(grpc.RpcError) as failed:
        stub.Export(request, metadata=metadata, compression=compression)
    return failed.value.code()


@pytest.mark.parametrize("metadata", [[], [("authorization", "Bearer nk_bogus_key")], [("authorization", "Basic x")]],
                         ids=["no-key", "unknown-key", "not-bearer"])
def test_grpc_needs_an_ingest_key(stub, store, metadata: list):
    """Refuse a call without a valid key with UNAUTHENTICATED; store nothing."""
    assert refused_status(stub, EXPORT, metadata) == grpc.StatusCode.UNAUTHENTICATED
    assert store.count() == 0


def test_grpc_read_key_is_denied(live, stub, store):
    """Refuse a key without the `ingest` scope with PERMISSION_DENIED."""
    read_key, _ = issued_key(live.url, ["read"])
    assert refused_status(stub, EXPORT, [("authorization", f"Bearer {read_key}")]) == grpc.StatusCode.PERMISSION_DENIED
    assert store.count() == 0


def oversized() -> ExportTraceServiceRequest:
    """Return an export over LIMIT bytes that compresses to far less (a span name of LIMIT bytes)."""
    request = ExportTraceServiceRequest()
    request.CopyFrom(EXPORT)
    request.resource_spans[0].scope_spans[0].spans[0].name = "x" * LIMIT
    return request


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_grpc_message_over_the_limit_is_refused(key, stub, store, compression):
    """Refuse a message over NETRA_MAX_INGEST_BYTES, also when it is gzip-compressed under it."""
    code = refused_status(stub, oversized(), [("authorization", f"Bearer {key[0]}")], compression)
    assert (code, store.count()) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 0)

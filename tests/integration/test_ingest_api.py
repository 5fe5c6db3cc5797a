"""The HTTP ingest API on a real uvicorn server over the chDB store: events, OTLP traces, refusals, 401.

OTLP/HTTP protobuf and OTLP/gRPC, on a server with its lifespan: `test_otlp_transports.py`.

Ingest takes a workspace API key (`Authorization: Bearer nk_...`): the module's client holds
one with the `ingest` scope, created by the signed-in user for their personal workspace.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from netra.config import Settings
from netra.persistence.analytics import AnalyticsStore
from netra.server import create_app
from netra.workloads.catalog import PriceCatalog
from tests.integration.api.seeding import workspace_of
from tests.support.servers import serving

LIMIT = 32 * 1024
SPANS = (Path(__file__).resolve().parents[1] / "fixtures" / "otel" / "genai_spans.json").read_bytes()
JSON, NDJSON, PROTOBUF = "application/json", "application/x-ndjson", "application/x-protobuf"
EVENTS = [
    {"timestamp": 1772409600000, "request_id": "e1", "model": "gpt-4o", "input_tokens": 1000,
     "output_tokens": 100, "user_id": "u1", "feature": "chat"},
    {"timestamp": 1772409660000, "model": "gpt-4o-mini", "input_tokens": 400, "cached_input_tokens": 300,
     "output_tokens": 20, "user_id": "u2", "feature": "search", "is_batch": True},
]


def ndjson(entries: list) -> bytes:
    """Return `entries` as NDJSON lines."""
    return "".join(json.dumps(e) + "\n" for e in entries).encode()


@pytest.fixture(scope="module")
def base_url(session_store: AnalyticsStore, catalog: PriceCatalog) -> Iterator[str]:
    """A uvicorn server in a background thread over the test store; its base URL."""
    settings = Settings(max_ingest_bytes=LIMIT, auth_mode="dev")
    with serving(lambda url: create_app(settings=settings, store=session_store, catalog=catalog)) as url:
        yield url


@pytest.fixture(scope="module")
def token(base_url: str) -> str:
    """A workspace ingest key, created by a user signed in through the development login."""
    answer = httpx.post(f"{base_url}/auth/dev-login", json={"email": "ingest@example.com"}, timeout=30)
    assert answer.status_code == 200, answer.text
    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {answer.json()['access_token']}"}) as user:
        created = user.post(f"/api/workspaces/{workspace_of(user)}/keys", json={"name": "tests"})
    assert created.status_code == 201, created.text
    return created.json()["key"]


@pytest.fixture
def client(base_url: str, token: str, store: AnalyticsStore) -> Iterator[httpx.Client]:
    """An HTTP client of the server holding the ingest key, over an emptied store."""
    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def post(client: httpx.Client, path: str, body: bytes, content_type: str = JSON, **headers: str) -> httpx.Response:
    """POST raw bytes with a Content-Type (and any other headers)."""
    return client.post(path, content=body, headers={"content-type": content_type, **headers})


# request id, model, input, cached, output, status, user, feature
STORED_SPANS = [
    ("0000000000000001", "gpt-4o-2024-08-06", 1200, 1000, 300, "ok", "alice", "support-bot"),
    ("0000000000000004", "gpt-4o-mini", 0, 0, 0, "error", "", "support-bot"),
    ("0000000000000005", "claude-3-5-sonnet-20241022", 2048, 1500, 256, "ok", "svc-batch", "summarizer"),
    ("0000000000000006", "gpt-4o-mini", 800, 512, 40, "ok", "bob", "summarizer"),
    ("0000000000000009", "claude-3-5-haiku-20241022", 3250, 3000, 120, "ok", "svc-batch", "summarizer"),
]
OTLP_SUMMARY = {"accepted": 5, "duplicates": 0, "skipped_spans": 3, "rejected": {"missing_column": 1}}
SPAN_SQL = """SELECT request_id, model, input_tokens, cached_input_tokens, output_tokens, status, user_id, feature
  FROM workload_events WHERE trace_id = {trace:String} ORDER BY request_id"""


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_otlp_export_lands_as_events(client, store, encoding: str):
    """Store the model-call spans with their tokens and models; report skipped and rejected spans."""
    body = gzip.compress(SPANS) if encoding == "gzip" else SPANS
    answer = post(client, "/v1/traces", body, **{"content-encoding": encoding}).json()
    assert {k: answer[k] for k in OTLP_SUMMARY} == OTLP_SUMMARY
    assert answer["partialSuccess"]["rejectedSpans"] == 1
    assert "span 8: input_tokens is missing" in answer["partialSuccess"]["errorMessage"]
    rows = store.rows(SPAN_SQL, {"trace": "0af7651916cd43dd8448eb211c80319c"})
    assert [tuple(row.values()) for row in rows] == STORED_SPANS


# endpoint, content type, body
REPOSTS = [
    ("/v1/traces", JSON, SPANS),
    ("/api/ingest/events", JSON, json.dumps(EVENTS).encode()),
    ("/api/ingest/events", NDJSON, ndjson(EVENTS)),
]


@pytest.mark.parametrize(("path", "content_type", "body"), REPOSTS, ids=["otlp", "array", "ndjson"])
def test_reposting_adds_nothing(client, store, path: str, content_type: str, body: bytes):
    """A second post of the same body is all duplicates: span ids, request ids or content hashes."""
    first = post(client, path, body, content_type).json()
    again = post(client, path, body, content_type).json()
    assert (again["accepted"], again["duplicates"]) == (0, first["accepted"])
    assert store.count() == first["accepted"] > 0


EVENT_SQL = """SELECT user_id, model, input_tokens, cached_input_tokens, is_batch, toUnixTimestamp(timestamp) AS t
  FROM workload_events WHERE feature = {feature:String}"""


@pytest.mark.parametrize(("content_type", "body"), [(JSON, json.dumps(EVENTS).encode()), (NDJSON, ndjson(EVENTS)),
                                                    (f"{NDJSON}; charset=utf-8", ndjson(EVENTS))])
def test_events_post_as_array_or_ndjson(client, store, content_type: str, body: bytes):
    """Load events posted as a JSON array or as NDJSON, coercing their values."""
    answer = post(client, "/api/ingest/events", body, content_type)
    assert (answer.status_code, answer.json()["accepted"], answer.json()["rejections"]) == (200, 2, [])
    assert store.rows(EVENT_SQL, {"feature": "search"}) == [
        {"user_id": "u2", "model": "gpt-4o-mini", "input_tokens": 400, "cached_input_tokens": 300,
         "is_batch": 1, "t": 1772409660}]


GOOD = {"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 5, "output_tokens": 1}
# content type, body, rejected by reason, rejections (row, reason)
REJECTING = [
    (NDJSON, ndjson([GOOD, 3, GOOD | {"output_tokens": -1}]) + b"\n" + ndjson([{"input_tokens": 1}]),
     {"malformed_row": 1, "negative_tokens": 1, "missing_column": 1},
     [(2, "malformed_row"), (3, "negative_tokens"), (5, "missing_column")]),
    (JSON, json.dumps([GOOD, GOOD | {"timestamp": "soon"}, GOOD | {"input_tokens": "many"}]).encode(),
     {"bad_timestamp": 1, "non_numeric_tokens": 1}, [(2, "bad_timestamp"), (3, "non_numeric_tokens")]),
]


@pytest.mark.parametrize(("content_type", "body", "rejected", "rows"), REJECTING, ids=["ndjson", "array"])
def test_rejected_rows_are_reported_by_row_and_reason(client, store, content_type, body, rejected, rows):
    """Load the good rows; report each bad one by line or position, with its reason and detail."""
    answer = post(client, "/api/ingest/events", body, content_type).json()
    assert (answer["accepted"], answer["rejected"], store.count()) == (1, rejected, 1)
    assert [(r["row"], r["reason"]) for r in answer["rejections"]] == rows
    assert all(r["detail"] for r in answer["rejections"])


# endpoint, content type, body, extra headers, status, error, part of the message
REFUSALS = [
    ("/api/ingest/events", JSON, b"[" + b" " * LIMIT + b"]", {}, 413, "payload_too_large", f"limit of {LIMIT} bytes"),
    ("/v1/traces", JSON, gzip.compress(b" " * (LIMIT + 1)), {"content-encoding": "gzip"}, 413, "payload_too_large",
     f"limit of {LIMIT} bytes"),
    ("/api/ingest/events", JSON, b'[{"input_tokens": 1,]', {}, 400, "bad_payload", "at line 1 column 21"),
    ("/api/ingest/events", NDJSON, ndjson([GOOD]) + b"{oops\n", {}, 400, "bad_payload", "invalid JSON on line 2"),
    ("/v1/traces", JSON, b'{"resourceSpans": [', {}, 400, "bad_payload", "invalid JSON: Expecting value"),
    ("/v1/traces", JSON, b"[1, 2]", {}, 400, "bad_request", "not an OTLP/JSON traces export"),
    ("/api/ingest/events", JSON, json.dumps(GOOD).encode(), {}, 400, "bad_payload", "expected a JSON array"),
    ("/api/ingest/events", JSON, b"[\xff]", {}, 400, "bad_payload", "not valid UTF-8"),
    ("/v1/traces", JSON, b"\x1f\x8b broken", {"content-encoding": "gzip"}, 400, "bad_payload", "not valid gzip"),
    ("/v1/traces", "text/plain", SPANS, {}, 415, "unsupported_media_type", "send OTLP/HTTP protobuf"),
    ("/v1/traces", PROTOBUF, b"\xff\xff", {}, 400, "bad_payload", "not an OTLP protobuf"),
    ("/api/ingest/events", "text/csv", b"a,b\n", {}, 415, "unsupported_media_type", "application/x-ndjson"),
    ("/v1/traces", JSON, SPANS, {"content-encoding": "br"}, 415, "unsupported_media_type", "'br'"),
]


@pytest.mark.parametrize(("path", "content_type", "body", "headers", "status", "error", "message"), REFUSALS,
                         ids=["too-large", "gzip-too-large", "invalid-json", "invalid-ndjson", "truncated-otlp",
                              "not-otlp", "not-array", "not-utf8", "bad-gzip", "otlp-text", "bad-protobuf", "csv",
                              "brotli"])
def test_refusals_say_why_and_load_nothing(client, store, path, content_type, body, headers, status, error, message):
    """Answer 400, 413 or 415 with a JSON error naming the problem; nothing is loaded."""
    answer = post(client, path, body, content_type, **headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, error), answer.text
    assert message in answer.json()["error"]["message"]
    assert store.count() == 0


def test_chunked_upload_over_the_limit_is_refused(client, store):
    """Refuse a body without Content-Length once it streams past the limit."""
    chunks = iter([b"[", b" " * LIMIT, b"]"])
    answer = client.post("/api/ingest/events", content=chunks, headers={"content-type": JSON})
    assert (answer.status_code, answer.json()["error"]["code"], store.count()) == (413, "payload_too_large", 0)


# endpoint, content type, body: each needs a token
PROTECTED = [("/api/ingest/events", JSON, json.dumps(EVENTS).encode()), ("/v1/traces", JSON, SPANS)]


@pytest.mark.parametrize(("path", "content_type", "body"), PROTECTED, ids=["events", "otlp"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"], ids=["no-token", "bad-token"])
def test_ingest_needs_a_token(base_url, store, path: str, content_type: str, body: bytes, authorization: str | None):
    """Without a valid bearer token, answer 401 and load nothing."""
    headers = {"content-type": content_type, **({"authorization": authorization} if authorization else {})}
    answer = httpx.post(base_url + path, content=body, headers=headers, timeout=30)
    assert (answer.status_code, store.count()) == (401, 0)
    assert answer.json()["error"]["code"] in {"missing_token", "invalid_token"}


@pytest.mark.parametrize(("path", "expected"), [("/healthz", {"status": "ok"})])
def test_health(client, path: str, expected: dict):
    """Answer liveness without touching the store."""
    assert client.get(path).json() == expected

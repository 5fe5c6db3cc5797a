"""The request body limit on every route, on both backends: 413 whether the length is declared or not.

The server of this module takes bodies of at most 4096 bytes (`NETRA_MAX_BODY_BYTES`) and
ingest bodies of at most 8192 (`NETRA_MAX_INGEST_BYTES`). A body sent without a
Content-Length (chunked) is counted as it arrives and refused once past the limit.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.integration.api.conftest import backend_settings

LIMITS = {"max_body_bytes": 4096, "max_ingest_bytes": 8192}
CHUNK = 1000


@pytest.fixture(params=["embedded", "services"])
def api_settings(request, tmp_path) -> Iterator:
    """The backend's settings with the small body limits of this module."""
    with backend_settings(request, tmp_path / "home") as settings:
        yield settings.model_copy(update=LIMITS)


def title_body(size: int) -> bytes:
    """Return a JSON object `{"title": "xxx..."}` of `size` bytes."""
    return b'{"title": "' + b"x" * (size - 13) + b'"}'


def streamed(body: bytes) -> Iterator[bytes]:
    """Yield `body` in chunks: httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), CHUNK):
        yield body[start:start + CHUNK]


# method, path, body size, sent chunked -> status
BODIES = [
    ("POST", "/api/threads", 5000, False, 413),
    ("POST", "/api/threads", 5000, True, 413),
    ("PATCH", "/api/threads/{thread}", 5000, True, 413),
    ("POST", "/api/threads/{thread}/messages", 5000, True, 413),
    ("POST", "/api/tools/cost_analyzer", 5000, True, 413),
    ("POST", "/threads", 5000, True, 413),
    ("POST", "/api/threads", 4000, True, 422),  # under the limit: the route answers (a title over 300 characters)
]


@pytest.mark.parametrize(("method", "path", "size", "chunked", "status"), BODIES,
                         ids=["declared", "chunked", "patch", "message", "tool", "sse-thread", "under"])
def test_a_body_over_the_limit_answers_413_on_every_route(api, method, path, size, chunked, status):
    alice = api.login("alice@example.com")
    thread = alice.post("/api/threads", json={}).json()["id"]
    body = title_body(size)
    answer = alice.request(method, path.format(thread=thread), content=streamed(body) if chunked else body,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert status != 413 or answer.json()["error"]["code"] == "payload_too_large"


# declared body size -> status of an anonymous ingest: 413 before the token is looked at, else 401
INGEST = [(9000, 413), (6000, 401)]


@pytest.mark.parametrize(("size", "status"), INGEST, ids=["over-ingest-limit", "over-body-limit-only"])
def test_ingest_takes_its_own_limit_checked_before_sign_in(api, size, status):
    """Ingest may take 8192 bytes (more than other routes); a longer declared body is refused before sign-in."""
    answer = api.anonymous.post("/api/ingest/events", content=b"[" + b" " * (size - 2) + b"]",
                                headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert status != 413 or "NETRA_MAX_INGEST_BYTES" in answer.json()["error"]["message"]

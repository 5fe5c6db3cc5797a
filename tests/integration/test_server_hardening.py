"""Server hardening on a real uvicorn server: headers, request ids, errors, CORS, limits, proxies, health, metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any, Iterator

import httpx
import pytest
import redis
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from netra.config import Settings
from netra.errors import ConfigError
from netra.persistence.analytics import AnalyticsStore
from netra.server import create_app
from netra.server.deps import get_settings
from netra.server.middleware import security_headers
from netra.workloads.catalog import PriceCatalog
from tests.support.databases import migrated_pg
from tests.support.servers import serving as served

CLOSED_DB = "postgresql://postgres@127.0.0.1:1/x"
CLOSED_REDIS = "redis://127.0.0.1:1/0"
SECRET = "secret-internal-detail"
BACKEND = "db.internal.example:5432/prod"  # what a ConfigError may name, never shown to a client
ORIGIN, STRANGER = "https://app.example", "https://evil.example"
READY = {"status": "ok", "checks": {"analytics": "ok", "database": "ok", "migrations": "ok"}, "down": []}
SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer",
            "content-security-policy": "default-src 'self'"}


def settings(**fields: Any) -> Settings:
    """Settings for one test app: dev login, no rate limit, no Redis, small body limits, unless given."""
    return Settings(**({"auth_mode": "dev", "rate_limit_per_minute": 0, "redis_url": "", "max_ingest_bytes": 1000,
                        "max_body_bytes": 2000} | fields))


def boom() -> None:
    """A route that fails with an unexpected error."""
    raise RuntimeError(SECRET)


def misconfigured() -> None:
    """A route that meets a setting it cannot use."""
    raise ConfigError(f"NETRA_DATABASE_URL=...{BACKEND!r}: expected sqlite:/// or postgresql://")


def typed(n: int) -> dict[str, int]:
    """A route with a typed query parameter."""
    return {"n": n}


def hardened_app(store: AnalyticsStore, catalog: PriceCatalog, **fields: Any) -> FastAPI:
    """The app under test, with extra routes: one that fails, one misconfigured, one that validates."""
    app = create_app(settings(**fields), store=store, catalog=catalog)
    app.add_api_route("/test/boom", boom)
    app.add_api_route("/test/misconfigured", misconfigured)
    app.add_api_route("/test/typed", typed)
    return app




@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[httpx.Client]:
    """Serve `app` with uvicorn in a thread; yield a client of it."""
    with served(lambda url: app, log_level="critical") as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def sign_in(client: httpx.Client) -> httpx.Client:
    """Sign `client` in through the development login (ingest and tools need a token); return it."""
    answer = client.post("/auth/dev-login", json={"email": "hardening@example.com"})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


@pytest.fixture(scope="module")
def client(session_store: AnalyticsStore, catalog: PriceCatalog) -> Iterator[httpx.Client]:
    """A signed-in client of the default test app (CORS allows `ORIGIN`)."""
    with serving(hardened_app(session_store, catalog, cors_origins=[ORIGIN])) as http:
        yield sign_in(http)


@pytest.mark.parametrize("path", ["/healthz", "/api/tools", "/nope", "/test/boom"])
def test_security_headers_on_every_answer(client, path: str):
    """Every answer, errors included, carries the security headers."""
    headers = client.get(path).headers
    assert {name: headers.get(name) for name in SECURITY} == SECURITY
    assert "camera=()" in headers["permissions-policy"] and "strict-transport-security" not in headers


def test_docs_load_without_csp(client):
    """Swagger UI loads its scripts from a CDN: the docs page has no CSP."""
    answer = client.get("/docs")
    assert answer.status_code == 200 and "content-security-policy" not in answer.headers


@pytest.mark.parametrize(("scheme", "hsts"), [("https", True), ("http", False)])
def test_hsts_only_over_https(scheme: str, hsts: bool):
    """Strict-Transport-Security is sent on https requests only."""
    assert ("Strict-Transport-Security" in security_headers({"path": "/", "scheme": scheme})) is hsts


# sent X-Request-ID, whether it is echoed as is
REQUEST_IDS = [("abc-123.def:4_5", True), ("has space", False), ("x" * 129, False), (None, False)]


@pytest.mark.parametrize(("sent", "echoed"), REQUEST_IDS, ids=["safe", "space", "too-long", "absent"])
def test_request_id_echoed_or_generated(client, sent: str | None, echoed: bool):
    """A safe incoming id is echoed; otherwise a fresh one is made."""
    answer = client.get("/healthz", headers={"X-Request-ID": sent} if sent else {})
    request_id = answer.headers["x-request-id"]
    assert (request_id == sent) is echoed and len(request_id) >= 8


# method, path, body, content type, status, code
ERRORS = [
    ("GET", "/nope", b"", "", 404, "not_found"),
    ("POST", "/api/tools/no_such_tool", b"{}", "application/json", 404, "tool_not_found"),
    ("POST", "/api/ingest/events", b"[" + b" " * 2000 + b"]", "application/json", 413, "payload_too_large"),
    ("POST", "/api/tools/cost_analyzer", b'{"feature": "' + b"x" * 3000 + b'"}', "application/json", 413,
     "payload_too_large"),
    ("POST", "/api/ingest/events", b"hello", "text/plain", 415, "unsupported_media_type"),
    ("GET", "/test/typed?n=many", b"", "", 422, "validation_failed"),
    ("POST", "/api/tools/cost_analyzer", b'{"start": "yesterday"}', "application/json", 422, "invalid_arguments"),
    ("POST", "/api/tools/cost_analyzer", b'{"feature": ', "application/json", 400, "bad_payload"),
    ("GET", "/test/boom", b"", "", 500, "internal_error"),
    ("GET", "/test/misconfigured", b"", "", 500, "server_misconfigured"),
    ("DELETE", "/healthz", b"", "", 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "status", "code"), ERRORS,
                         ids=["404", "404-tool", "413", "413-tool", "415", "422", "422-tool", "400", "500", "500-config",
                              "405"])
def test_one_error_body_shape(client, method, path, body, content_type, status, code):
    """Every error answers {"error": {"code", "message", "request_id"}} with the echoed request id."""
    answer = client.request(method, path, content=body, headers={"content-type": content_type})
    error = answer.json()["error"]
    assert (answer.status_code, error["code"], set(answer.json())) == (status, code, {"error"}), answer.text
    assert error["message"] and error["request_id"] == answer.headers["x-request-id"]


@pytest.mark.parametrize(("path", "cause"), [("/test/boom", SECRET), ("/test/misconfigured", BACKEND)])
def test_a_500_hides_the_cause(client, path: str, cause: str):
    """A 500 says nothing of the exception that caused it: no message, no host or database of a setting."""
    assert cause not in client.get(path).text


# origin, whether it is allowed
ORIGINS = [(ORIGIN, True), (STRANGER, False)]


@pytest.mark.parametrize(("origin", "allowed"), ORIGINS, ids=["listed", "unlisted"])
def test_cors_allows_listed_origins_only(client, origin: str, allowed: bool):
    """A listed origin gets Access-Control-Allow-Origin, on requests and preflights; another does not."""
    simple = client.get("/api/tools", headers={"Origin": origin})
    preflight = client.options("/api/tools", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert (simple.headers.get("access-control-allow-origin") == origin) is allowed
    assert (preflight.status_code == 200, preflight.headers.get("access-control-allow-origin") == origin) == \
        (allowed, allowed)


LIMITED = "/api/config"  # limited like every API route, and needs no token: counted by client IP


def assert_limited(client: httpx.Client, limit: int) -> None:
    """The first `limit` requests pass, the next answers 429 with Retry-After; health is never limited."""
    statuses = [client.get(LIMITED).status_code for _ in range(limit)]
    refused = client.get(LIMITED)
    assert (statuses, refused.status_code, refused.json()["error"]["code"]) == ([200] * limit, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.get("/healthz").status_code == 200


def test_rate_limit_in_process(session_store, catalog):
    """Without Redis, the process counts: the request past the limit answers 429."""
    with serving(hardened_app(session_store, catalog, rate_limit_per_minute=3)) as http:
        assert_limited(http, 3)


def test_rate_limit_in_redis(session_store, catalog, redis_url: str):
    """With Redis, the window's counter is `rate:{endpoint}:{id}` there."""
    redis.Redis.from_url(redis_url).delete(f"rate:{LIMITED}:ip:127.0.0.1")
    with serving(hardened_app(session_store, catalog, rate_limit_per_minute=3, redis_url=redis_url)) as http:
        assert_limited(http, 3)
    assert int(redis.Redis.from_url(redis_url).get(f"rate:{LIMITED}:ip:127.0.0.1")) == 4


def test_redis_unreachable_still_serves(session_store, catalog, caplog):
    """When Redis is down every request is allowed; the outage is logged once and counted."""
    with serving(hardened_app(session_store, catalog, rate_limit_per_minute=1, redis_url=CLOSED_REDIS)) as http:
        statuses = [http.get(LIMITED).status_code for _ in range(3)]
        metrics = http.get("/health/metrics").text
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert (statuses, len(warnings)) == ([200] * 3, 1)
    assert "netra_rate_limit_backend_errors_total" in metrics


def test_ready_names_the_database_when_down(session_store, catalog, postgres_url: str):
    """/health/ready answers 503 naming `database` (its migrations skipped) while it is down, 200 once it is back."""
    app = hardened_app(session_store, catalog, database_url=CLOSED_DB)
    with serving(app) as http, migrated_pg(postgres_url, "netra_ready") as migrated:
        down = http.get("/health/ready")
        app.dependency_overrides[get_settings] = lambda: settings(database_url=migrated)
        up = http.get("/health/ready")
    assert (down.status_code, down.json()["down"], down.json()["checks"]["migrations"]) == (503, ["database"], "skipped")
    assert (up.status_code, up.json()) == (200, READY)


def test_liveness(client):
    """/health and /healthz answer without touching any dependency."""
    assert [client.get(path).json() for path in ("/health", "/healthz")] == [{"status": "ok"}] * 2


def sample(exposition: str, name: str, labels: dict[str, str]) -> float | None:
    """Return the value of the sample `name` with `labels` in a text exposition, or None."""
    samples = (s for family in text_string_to_metric_families(exposition) for s in family.samples)
    return next((s.value for s in samples if s.name == name and s.labels == labels), None)


def counted(client: httpx.Client, name: str, labels: dict[str, str]) -> httpx.Response:
    """Return the exposition once it holds the sample (a request is counted just after its answer is sent)."""
    deadline, answer = time.monotonic() + 5, client.get("/health/metrics")
    while sample(answer.text, name, labels) is None and time.monotonic() < deadline:
        time.sleep(0.01)
        answer = client.get("/health/metrics")
    return answer


def test_metrics_count_requests(client):
    """The exposition holds the request counter by route and status, and tool calls by tool."""
    for _ in range(3):
        client.get("/healthz")
    client.post("/api/tools/cost_analyzer", json={})
    answer = counted(client, "netra_tool_calls_total", {"tool": "cost_analyzer", "status": "200"})
    assert answer.headers["content-type"].startswith("text/plain")
    assert sample(answer.text, "netra_http_requests_total", {"method": "GET", "route": "/healthz", "status": "200"}) >= 3
    assert sample(answer.text, "netra_tool_calls_total", {"tool": "cost_analyzer", "status": "200"}) >= 1


def logged(caplog: pytest.LogCaptureFixture, marker: str) -> str:
    """Return the first log line holding `marker`, waiting for the server thread to write it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(marker in r.getMessage() for r in caplog.records):
        time.sleep(0.01)
    return next(r.getMessage() for r in caplog.records if marker in r.getMessage())


def test_access_log_is_json_without_secrets(client, caplog):
    """One JSON line per request: id, method, path without the query, status, duration; no headers."""
    with caplog.at_level(logging.INFO, logger="netra.access"):
        client.get("/healthz?token=hunter2", headers={"Authorization": "Bearer hunter2", "X-Request-ID": "log-1"})
        line = json.loads(logged(caplog, "log-1"))
    assert {k: line[k] for k in ("request_id", "method", "path", "status")} == \
        {"request_id": "log-1", "method": "GET", "path": "/healthz", "status": 200}
    assert "hunter2" not in caplog.text and line["duration_ms"] >= 0


# NETRA_TRUSTED_PROXIES, X-Forwarded-For of a first request from 127.0.0.1 -> the client the access log and the
# rate limit see, and the status of a second request forwarded for 7.7.7.7 (429: counted against the same client)
FORWARDED = [
    ([], "6.6.6.6", "127.0.0.1", 429),
    (["10.0.0.0/8"], "6.6.6.6", "127.0.0.1", 429),
    (["127.0.0.0/8"], "6.6.6.6", "6.6.6.6", 200),
    (["127.0.0.1", "10.0.0.0/8"], "1.1.1.1, 6.6.6.6, 10.2.3.4", "6.6.6.6", 200),
    (["127.0.0.1"], "not-an-address", "127.0.0.1", 200),
]


@pytest.mark.parametrize(("proxies", "forwarded", "client_ip", "second"), FORWARDED,
                         ids=["no-proxies", "other-proxy", "trusted", "chain", "garbage"])
def test_forwarded_for_is_believed_from_trusted_proxies_only(session_store, catalog, caplog, proxies, forwarded,
                                                            client_ip, second):
    """Only a trusted proxy's X-Forwarded-For names the client; a client cannot pick its own rate-limit bucket."""
    app = hardened_app(session_store, catalog, trusted_proxies=proxies, rate_limit_per_minute=1)
    with caplog.at_level(logging.INFO, logger="netra.access"), serving(app) as http:
        sent = [{"X-Forwarded-For": value, "X-Request-ID": f"xff-{n}"} for n, value in enumerate((forwarded, "7.7.7.7"))]
        statuses = [http.get(LIMITED, headers=headers).status_code for headers in sent]
        line = json.loads(logged(caplog, "xff-0"))
    assert (statuses, line["client"]) == ([200, second], client_ip)

"""The app's ASGI middleware: request ids, access logs and metrics, security headers, CORS.

`netra.server.app.middleware(settings)` lists them outermost first; each is a small pure ASGI
class that only touches HTTP requests (WebSocket and lifespan pass through).

Request ids: an incoming `X-Request-ID` of 1-128 characters `[A-Za-z0-9._:-]` is kept, any
other value (or none) is replaced by a fresh one; the id is echoed on every answer, put in
error bodies (`current_request_id()`) and in the access log.

Access log: one line per request on the `netra.access` logger (JSON when `NETRA_LOG_JSON`):
request id, client address (`netra.server.proxies` resolved it), method, path (never the
query string), status and duration. Headers and bodies are never logged, so tokens and keys
cannot leak there.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any, Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from netra.server.metrics import observe_request

Scope = dict[str, Any]
Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Any, Send], Awaitable[None]]

ACCESS_LOG = logging.getLogger("netra.access")
REQUEST_ID: ContextVar[str] = ContextVar("netra_request_id", default="")
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DOCS_PATHS = ("/docs", "/redoc")  # Swagger UI and ReDoc load scripts from a CDN: no CSP there
CONTENT_SECURITY_POLICY = "default-src 'self'"
HSTS = "max-age=63072000; includeSubDomains"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_HEADERS = ["Authorization", "Content-Type", "X-Request-ID", "Last-Event-ID", "X-Api-Key", "X-Netra-Workspace"]
CORS_EXPOSED = ["X-Request-ID", "Retry-After", "Location", "Content-Location"]


def current_request_id() -> str:
    """Return the id of the request being answered ('' outside a request)."""
    return REQUEST_ID.get()


def incoming_request_id(scope: Scope) -> str:
    """Return the request's `X-Request-ID` when it is safe to echo and log, else a new id."""
    value = Headers(scope=scope).get("x-request-id", "")
    return value if SAFE_REQUEST_ID.fullmatch(value) else uuid.uuid4().hex


def security_headers(scope: Scope) -> dict[str, str]:
    """Return the security headers of an answer to `scope` (CSP off the docs, HSTS over https)."""
    headers = dict(SECURITY_HEADERS)
    if not scope.get("path", "").startswith(DOCS_PATHS):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


def adding_headers(send: Send, headers: dict[str, str]) -> Send:
    """Return `send` that adds `headers` to the response start (a header the app set wins)."""
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableHeaders(scope=message)
            for name, value in headers.items():
                response_headers.setdefault(name, value)
        await send(message)
    return wrapped


def recording_status(send: Send, status: list[int]) -> Send:
    """Return `send` that writes the response status into `status[0]`."""
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        await send(message)
    return wrapped


def access_line(scope: Scope, status: int, duration_s: float, as_json: bool) -> str:
    """Return the access-log line of one request."""
    client = (scope.get("client") or ("",))[0]
    fields = {"event": "http_request", "request_id": current_request_id(), "client": client,
              "method": scope["method"], "path": scope["path"], "status": status,
              "duration_ms": round(duration_s * 1000, 2)}
    if as_json:
        return json.dumps(fields)
    return " ".join(f"{name}={value}" for name, value in fields.items())


def configure_access_log() -> None:
    """Give the `netra.access` logger a stderr handler at INFO, once, if it has none."""
    if ACCESS_LOG.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)


class RequestIdMiddleware:
    """Give each request an id: kept from `X-Request-ID` or made; echoed on the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        """Set the request id for this request and echo it."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = incoming_request_id(scope)
        REQUEST_ID.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        await self.app(scope, receive, adding_headers(send, {"X-Request-ID": request_id}))


class AccessLogMiddleware:
    """Log one line per request and record its metrics (an unhandled error counts as 500)."""

    def __init__(self, app: ASGIApp, log_json: bool = True) -> None:
        self.app, self.log_json = app, log_json
        configure_access_log()

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        """Answer the request, then log and count it."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status, started = [500], time.perf_counter()
        try:
            await self.app(scope, receive, recording_status(send, status))
        finally:
            self.record(scope, status[0], time.perf_counter() - started)

    def record(self, scope: Scope, status: int, duration_s: float) -> None:
        """Count the request in the metrics and write its access-log line."""
        observe_request(scope, status, duration_s)
        ACCESS_LOG.info(access_line(scope, status, duration_s, self.log_json))


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        """Answer the request with the security headers added."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await self.app(scope, receive, adding_headers(send, security_headers(scope)))


def cors(origins: list[str]) -> list[Middleware]:
    """Return the CORS middleware for the allow-list `origins` (none when it is empty)."""
    if not origins:
        return []
    return [Middleware(CORSMiddleware, allow_origins=origins, allow_methods=CORS_METHODS,
                       allow_headers=CORS_HEADERS, expose_headers=CORS_EXPOSED, max_age=600)]

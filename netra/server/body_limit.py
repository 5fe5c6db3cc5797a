"""A request body limit on every route: a pure ASGI middleware counting the bytes as they stream in.

    Middleware(BodyLimitMiddleware, limits=BodyLimits.of(settings))

A body over its route's limit is answered 413 `payload_too_large`, in the app's error shape:

1. A declared `Content-Length` over the limit is refused before the app runs or a byte is read.
2. A body sent without one (chunked) is counted as it arrives; the read that passes the limit
   raises `PayloadTooLargeError` and the rest is never read, so no oversized body is ever held.
3. Whatever the app makes of that error (FastAPI's body parser turns any read failure into a
   400), the client gets the 413: an answer the app starts after the limit was passed is
   replaced. Only an answer that began before the body was over (a stream reading as it
   writes) is left alone.

The ingest routes take `NETRA_MAX_INGEST_BYTES` (their gzip bodies are checked again once
inflated, `netra.server.limits`), every other route `NETRA_MAX_BODY_BYTES`. WebSocket frames
have their own cap (`netra.server.ws.protocol.MAX_FRAME_BYTES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from netra.config import Settings
from netra.server.errors import PayloadTooLargeError, error_response
from netra.server.middleware import ASGIApp, Message, Scope, Send

# path prefix -> the setting that bounds its bodies; the first match wins
LIMIT_SETTINGS: tuple[tuple[str, str], ...] = (
    ("/api/ingest/", "max_ingest_bytes"),
    ("/v1/traces", "max_ingest_bytes"),
    ("/", "max_body_bytes"),
)


class Limit:
    """A body limit: the most bytes, and the setting that says so (named in the 413 message)."""

    def __init__(self, size: int, setting: str) -> None:
        self.size, self.setting = size, setting

    def error(self) -> PayloadTooLargeError:
        """Return the error of a body over this limit."""
        return PayloadTooLargeError(f"request body exceeds the limit of {self.size} bytes "
                                    f"(NETRA_{self.setting.upper()}); send a smaller body")


@dataclass(frozen=True)
class BodyLimits:
    """The limit of each path prefix, in the order of LIMIT_SETTINGS."""

    by_prefix: tuple[tuple[str, Limit], ...]

    @classmethod
    def of(cls, settings: Settings) -> BodyLimits:
        """Return the limits the settings give each prefix of LIMIT_SETTINGS."""
        return cls(tuple((prefix, Limit(getattr(settings, name), name)) for prefix, name in LIMIT_SETTINGS))

    def of_path(self, path: str) -> Limit:
        """Return the limit of a request path."""
        return next(limit for prefix, limit in self.by_prefix if path.startswith(prefix))


def declared_length(scope: Scope) -> int | None:
    """Return the request's Content-Length when it is a number, else None."""
    value = Headers(scope=scope).get("content-length", "").strip()
    return int(value) if value.isdigit() else None


@dataclass
class _Meter:
    """One request's body against its limit: the bytes received, and who has answered."""

    scope: Scope
    receive: Any
    send: Send
    limit: Limit
    received: int = 0
    over: bool = False
    started: bool = False  # the app's answer has begun
    refused: bool = False  # the 413 has been sent

    def declared_over(self) -> bool:
        """Return whether the declared Content-Length is over the limit."""
        return (declared_length(self.scope) or 0) > self.limit.size

    async def run(self, app: ASGIApp) -> None:
        """Let the app answer with the counted body; answer 413 if it let the meter's error through."""
        try:
            await app(self.scope, self.counted, self.relayed)
        except PayloadTooLargeError:
            if self.started:
                raise
            await self.refuse()

    async def counted(self) -> Message:
        """Return the next message of the request; raise PayloadTooLargeError once the body is over."""
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.over = self.over or self.received > self.limit.size
        if self.over:
            raise self.limit.error()
        return message

    async def relayed(self, message: Message) -> None:
        """Send the app's answer on; in place of an answer begun after the body was over, send the 413."""
        if self.refused:
            return
        if self.over and not self.started:
            return await self.refuse()
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)

    async def refuse(self) -> None:
        """Answer 413 `payload_too_large` (once)."""
        if not self.refused:
            self.refused = True
            answer = error_response(413, "payload_too_large", str(self.limit.error()))
            await answer(self.scope, self.receive, self.send)


class BodyLimitMiddleware:
    """Refuse HTTP request bodies over their route's limit with 413, counting streamed bytes."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        """Answer the request, its body metered."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        meter = _Meter(scope, receive, send, self.limits.of_path(scope["path"]))
        await (meter.refuse() if meter.declared_over() else meter.run(self.app))

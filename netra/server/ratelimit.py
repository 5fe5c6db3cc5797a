"""Rate limits: a fixed window of `NETRA_RATE_LIMIT_PER_MINUTE` requests per client and endpoint.

The counter of a window is `rate:{endpoint}:{id}`, where the endpoint is the route's path
template (`/api/tools/{name}`) and the id is the authenticated user (`user:<id>`, when an
valid bearer token names one) or else the client IP (`ip:<address>`).
Counters live in Redis when `NETRA_REDIS_URL` is set (shared by every worker), in the
process otherwise. `rate_limit` is an app-wide dependency, so it runs once the router has
matched the request (an unknown path is not counted) and before the route's own
dependencies; a request over the limit raises `RateLimitedError`, answered 429 with
`Retry-After` (seconds) by its handler.

When Redis cannot be reached the request is allowed: the outage is logged once (until
Redis answers again) and counted in `netra_rate_limit_backend_errors_total`.

Health, metrics and the API docs are not limited; neither are CORS preflights.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import NamedTuple, Protocol

from redis.exceptions import RedisError

from fastapi import Request

from netra.config import Settings
from netra.server.auth.deps import request_token
from netra.server.auth.errors import AuthError
from netra.server.auth.tokens import token_config, validate_token
from netra.server.errors import RateLimitedError
from netra.server.metrics import RATE_LIMIT_BACKEND_ERRORS, route_of
from netra.server.middleware import Scope

LOG = logging.getLogger("netra.server.ratelimit")
WINDOW_S = 60
EXEMPT_PATHS = ("/health", "/docs", "/redoc", "/openapi.json")  # /health covers /healthz
MAX_MEMORY_KEYS = 10_000
REDIS_TIMEOUT_S = 0.5


class Decision(NamedTuple):
    """Whether a request may go on, and otherwise after how many seconds it may."""

    allowed: bool
    retry_after: int


class Limiter(Protocol):
    """A fixed-window counter."""

    async def hit(self, key: str) -> Decision:
        """Count one request against `key` and decide."""


def verdict(count: int, limit: int, remaining_s: float) -> Decision:
    """Return the decision for the `count`-th request of a window with `remaining_s` left."""
    return Decision(count <= limit, max(1, math.ceil(remaining_s)))


class MemoryLimiter:
    """Counters in this process (each worker counts on its own)."""

    def __init__(self, limit: int, window_s: int = WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    async def hit(self, key: str) -> Decision:
        """Count one request against `key` in its current window."""
        now = time.monotonic()
        with self.lock:
            self._prune(now)
            start, count = self.windows.get(key, (now, 0))
            start, count = (now, 0) if now - start >= self.window_s else (start, count)
            self.windows[key] = (start, count + 1)
        return verdict(count + 1, self.limit, start + self.window_s - now)

    def _prune(self, now: float) -> None:
        if len(self.windows) >= MAX_MEMORY_KEYS:
            self.windows = {k: v for k, v in self.windows.items() if now - v[0] < self.window_s}


class RedisLimiter:
    """Counters in Redis (`INCR`, expiring with the window); allows every request while Redis is down."""

    def __init__(self, url: str, limit: int, window_s: int = WINDOW_S) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                              socket_timeout=REDIS_TIMEOUT_S)
        self.limit, self.window_s, self.down = limit, window_s, False

    async def hit(self, key: str) -> Decision:
        """Count one request against `key` in Redis; allow it when Redis fails."""
        try:
            count, ttl = await self._count(key)
        except (RedisError, OSError) as exc:
            return self._degraded(exc)
        self.down = False
        return verdict(count, self.limit, ttl if ttl > 0 else self.window_s)

    async def _count(self, key: str) -> tuple[int, int]:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(key).expire(key, self.window_s, nx=True).ttl(key)
            count, _, ttl = await pipe.execute()
        return count, ttl

    def _degraded(self, exc: Exception) -> Decision:
        RATE_LIMIT_BACKEND_ERRORS.inc()
        if not self.down:
            LOG.warning("rate limiting: Redis is unreachable (%s); requests are allowed until it is back",
                        type(exc).__name__)
        self.down = True
        return Decision(True, 0)


def open_limiter(settings: Settings) -> Limiter | None:
    """Return the limiter the settings ask for: Redis, in-process, or none (limit 0 or less)."""
    limit = settings.rate_limit_per_minute
    if limit <= 0:
        return None
    return RedisLimiter(settings.redis_url, limit) if settings.redis_url else MemoryLimiter(limit)


def client_id(scope: Scope) -> str:
    """Return who is counted: the authenticated user when known, else the client IP."""
    user = (scope.get("state") or {}).get("user_id")
    if user:
        return f"user:{user}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def is_limited(scope: Scope) -> bool:
    """Return whether the request counts against a limit."""
    return scope["type"] == "http" and scope["method"] != "OPTIONS" and not scope["path"].startswith(EXEMPT_PATHS)


def window_key(scope: Scope) -> str:
    """Return the counter key of the request's window: `rate:{endpoint}:{id}`."""
    return f"rate:{route_of(scope)[0]}:{client_id(scope)}"


def token_user(request: Request) -> str | None:
    """Return the user id of the request's valid token (bearer, else `x-api-key`), or None (the route decides on errors)."""
    try:
        return validate_token(token_config(request.app.state.resources.settings), request_token(request)).user_id
    except AuthError:
        return None


async def rate_limit(request: Request) -> None:
    """App dependency: count the request against its user (else IP); raise RateLimitedError past the limit."""
    limiter: Limiter | None = request.app.state.limiter
    if limiter is not None and is_limited(request.scope):
        request.state.user_id = getattr(request.state, "user_id", None) or token_user(request)
        decision = await limiter.hit(window_key(request.scope))
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after)

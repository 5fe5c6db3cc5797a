"""A small byte cache: in-process by default, Redis when NETRA_REDIS_URL is set.

Used for tool results (the key holds the store's data version, so new events make old
entries unreachable rather than stale) and LLM responses (`cache:llm:{hash}`); never for
sign-outs, which must not be forgotten (`token_revocations` in the records database). A
Redis cache that cannot reach Redis degrades to misses: `get` answers None, `set`/`delete`
do nothing; the outage is logged once (until Redis answers again) and counted in
`netra_cache_backend_errors_total{cache}`.

    cache = open_cache(settings.redis_url, name="llm", prefix="")
    cache.set("cache:llm:ab12", b"...", ttl_s=3600); cache.get("cache:llm:ab12")
    cache.keys("cache:llm:"); cache.clear("cache:llm:")
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

from netra.metrics import CACHE_BACKEND_ERRORS

DEFAULT_TTL_S = 3600
REDIS_TIMEOUT_S = 0.5
LOG = logging.getLogger("netra.cache")


class Cache(Protocol):
    """What the cache offers: bytes by key with a time to live, and prefix listing."""

    def get(self, key: str) -> bytes | None:
        """Return the bytes at `key`, or None."""

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value` at `key` for `ttl_s` seconds."""

    def delete(self, key: str) -> None:
        """Forget `key`."""

    def keys(self, prefix: str) -> list[str]:
        """Return the live keys starting with `prefix`."""

    def clear(self, prefix: str) -> int:
        """Forget every key starting with `prefix`; return how many there were."""


class MemoryCache:
    """In-process cache with expiry, bounded in entries (oldest dropped first)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.entries: dict[str, tuple[float, bytes]] = {}
        self.max_entries, self.lock = max_entries, threading.Lock()

    def get(self, key: str) -> bytes | None:
        """Return the live value at `key`, or None."""
        expires, value = self.entries.get(key, (0.0, b""))
        return value if expires > time.monotonic() else None

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value`, dropping the oldest entry when full."""
        with self.lock:
            if len(self.entries) >= self.max_entries and key not in self.entries:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = (time.monotonic() + ttl_s, value)

    def delete(self, key: str) -> None:
        """Forget `key`."""
        with self.lock:
            self.entries.pop(key, None)

    def keys(self, prefix: str) -> list[str]:
        """Return the live keys starting with `prefix`."""
        now = time.monotonic()
        return [key for key, (expires, _) in list(self.entries.items()) if key.startswith(prefix) and expires > now]

    def clear(self, prefix: str) -> int:
        """Forget every key starting with `prefix`."""
        found = self.keys(prefix)
        for key in found:
            self.delete(key)
        return len(found)


class RedisCache:
    """Cache in Redis under a key prefix, with Redis expiry; misses while Redis is unreachable."""

    def __init__(self, url: str, prefix: str = "netra:", name: str = "cache") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                           socket_timeout=REDIS_TIMEOUT_S)
        self.prefix, self.name, self.down = prefix, name, False

    def _call(self, action: Callable[[], Any], fallback: Any) -> Any:
        """Run a Redis call; on a connection failure log once, count it and return `fallback`."""
        from redis.exceptions import RedisError

        try:
            result = action()
        except (RedisError, OSError) as exc:
            return self._degraded(exc, fallback)
        self.down = False
        return result

    def _degraded(self, exc: Exception, fallback: Any) -> Any:
        CACHE_BACKEND_ERRORS.labels(self.name).inc()
        if not self.down:
            LOG.warning("%s cache: Redis is unreachable (%s); serving misses until it is back",
                        self.name, type(exc).__name__)
        self.down = True
        return fallback

    def get(self, key: str) -> bytes | None:
        """Return the value at `key`, or None."""
        return self._call(lambda: self.client.get(self.prefix + key), None)

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value` with an expiry."""
        self._call(lambda: self.client.set(self.prefix + key, value, ex=ttl_s), None)

    def delete(self, key: str) -> None:
        """Forget `key`."""
        self._call(lambda: self.client.delete(self.prefix + key), None)

    def keys(self, prefix: str) -> list[str]:
        """Return the keys starting with `prefix` (SCAN, never KEYS)."""
        pattern = _glob_escaped(self.prefix + prefix) + "*"
        found = self._call(lambda: list(self.client.scan_iter(match=pattern, count=500)), [])
        return [key.decode()[len(self.prefix):] for key in found]

    def clear(self, prefix: str) -> int:
        """Forget every key starting with `prefix`."""
        found = [self.prefix + key for key in self.keys(prefix)]
        if found:
            self._call(lambda: self.client.delete(*found), None)
        return len(found)


def _glob_escaped(text: str) -> str:
    """Return `text` with Redis glob characters escaped."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


BACKENDS: dict[str, Callable[..., Cache]] = {
    "": lambda url, **_: MemoryCache(),
    "redis": RedisCache,
    "rediss": RedisCache,
}


def open_cache(url: str, **options: Any) -> Cache:
    """Return the cache for NETRA_REDIS_URL (empty: in-process); `options` go to RedisCache."""
    from netra.errors import ConfigError

    scheme = url.split("://", 1)[0] if url else ""
    if scheme not in BACKENDS:
        raise ConfigError(f"NETRA_REDIS_URL scheme {scheme!r}: expected redis:// or rediss://")
    return BACKENDS[scheme](url, **options)

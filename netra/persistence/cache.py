"""A small byte cache: in-process by default, Redis when NETRA_REDIS_URL is set.

Used to keep tool results: the key holds the store's data version, so new events
make old entries unreachable rather than stale.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol

DEFAULT_TTL_S = 3600


class Cache(Protocol):
    """What the cache offers: get and set bytes by key, with a time to live."""

    def get(self, key: str) -> bytes | None:
        """Return the bytes at `key`, or None."""

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value` at `key` for `ttl_s` seconds."""


class MemoryCache:
    """In-process cache with expiry, bounded in entries (oldest dropped first)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.entries: dict[str, tuple[float, bytes]] = {}
        self.max_entries = max_entries

    def get(self, key: str) -> bytes | None:
        """Return the live value at `key`, or None."""
        expires, value = self.entries.get(key, (0.0, b""))
        return value if expires > time.monotonic() else None

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value`, dropping the oldest entry when full."""
        if len(self.entries) >= self.max_entries:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = (time.monotonic() + ttl_s, value)


class RedisCache:
    """Cache in Redis, under a key prefix, with Redis expiry."""

    def __init__(self, url: str, prefix: str = "netra:") -> None:
        import redis

        self.client, self.prefix = redis.Redis.from_url(url), prefix

    def get(self, key: str) -> bytes | None:
        """Return the value at `key`, or None."""
        return self.client.get(self.prefix + key)

    def set(self, key: str, value: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
        """Store `value` with an expiry."""
        self.client.set(self.prefix + key, value, ex=ttl_s)


BACKENDS: dict[str, Callable[[str], Cache]] = {
    "": lambda url: MemoryCache(),
    "redis": RedisCache,
    "rediss": RedisCache,
}


def open_cache(url: str) -> Cache:
    """Return the cache for NETRA_REDIS_URL (empty: in-process)."""
    from netra.errors import ConfigError

    scheme = url.split("://", 1)[0] if url else ""
    if scheme not in BACKENDS:
        raise ConfigError(f"NETRA_REDIS_URL scheme {scheme!r}: expected redis:// or rediss://")
    return BACKENDS[scheme](url)

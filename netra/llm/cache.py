"""The LLM response cache: LangChain's cache interface over Netra's byte cache.

Entries live at `cache:llm:{sha256(llm_string, prompt)}` in Redis when NETRA_REDIS_URL is
set, in the process otherwise; hits and misses are counted here (for the admin stats
endpoint) and in `netra_llm_cache_hits_total` / `netra_llm_cache_misses_total`.

    cache = LLMCache(open_cache(settings.redis_url, name="llm", prefix=""))
    ChatOpenAI(..., cache=cache)
    cache.stats()   # {"backend": "redis", "entries": 3, "hits": 5, "misses": 3, "hit_rate": 0.625}
    cache.clear()   # entries removed
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Sequence

from langchain_core._api.beta_decorator import suppress_langchain_beta_warning
from langchain_core.caches import BaseCache
from langchain_core.load import dumps, loads
from langchain_core.outputs import Generation

from netra.metrics import LLM_CACHE_HITS, LLM_CACHE_MISSES
from netra.persistence.cache import Cache, MemoryCache

PREFIX = "cache:llm:"
TTL_S = 24 * 3600


def cache_key(prompt: str, llm_string: str) -> str:
    """Return the key of a request: the prefix and a SHA-256 of model settings and prompt."""
    digest = hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()
    return PREFIX + digest


class LLMCache(BaseCache):
    """LangChain cache whose entries are JSON-serialised generations in a `Cache`."""

    def __init__(self, backend: Cache | None = None, ttl_s: int = TTL_S) -> None:
        self.backend, self.ttl_s = backend or MemoryCache(max_entries=4096), ttl_s
        self.hits = self.misses = 0
        self.lock = threading.Lock()

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        """Return the cached generations of this request, or None (counted either way)."""
        raw = self.backend.get(cache_key(prompt, llm_string))
        self._count(raw is not None)
        with suppress_langchain_beta_warning():
            return loads(raw.decode(), allowed_objects="core") if raw is not None else None

    def _count(self, hit: bool) -> None:
        with self.lock:
            self.hits, self.misses = self.hits + hit, self.misses + (not hit)
        (LLM_CACHE_HITS if hit else LLM_CACHE_MISSES).inc()

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        """Keep the generations of this request for `ttl_s` seconds."""
        self.backend.set(cache_key(prompt, llm_string), dumps(list(return_val)).encode(), self.ttl_s)

    def clear(self, **kwargs: Any) -> int:  # type: ignore[override]
        """Forget every cached response; return how many there were."""
        return self.backend.clear(PREFIX)

    def stats(self) -> dict[str, Any]:
        """Return the backend, entry count, hits, misses and hit rate of this process."""
        asked = self.hits + self.misses
        return {"backend": "memory" if isinstance(self.backend, MemoryCache) else "redis",
                "entries": len(self.backend.keys(PREFIX)), "hits": self.hits, "misses": self.misses,
                "hit_rate": round(self.hits / asked, 4) if asked else 0.0}

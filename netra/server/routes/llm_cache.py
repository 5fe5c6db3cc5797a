"""The LLM response cache, for admins: its statistics, and clearing it.

    GET    /api/admin/llm-cache   {"backend": "redis", "entries": 3, "hits": 5, "misses": 3, "hit_rate": 0.625}
    DELETE /api/admin/llm-cache   {"cleared": 3}

Entries are counted in the backend (Redis, shared by every worker; or this process);
hits and misses are this process's since it started (`netra.llm.cache.LLMCache.stats`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from netra.llm.cache import LLMCache
from netra.server.deps import AppResources, get_resources, require_role, signed_in

router = APIRouter(tags=["llm cache"], dependencies=[Depends(signed_in), Depends(require_role("admin"))])


def llm_cache(resources: AppResources = Depends(get_resources)) -> LLMCache:
    """Dependency: the app's LLM response cache."""
    return resources.cache("llm_cache")


@router.get("/api/admin/llm-cache")
def stats(cache: LLMCache = Depends(llm_cache)) -> dict[str, Any]:
    """Answer the cache's backend, entry count, hits, misses and hit rate."""
    return cache.stats()


@router.delete("/api/admin/llm-cache")
def clear(cache: LLMCache = Depends(llm_cache)) -> dict[str, int]:
    """Forget every cached LLM response; answer how many there were."""
    return {"cleared": cache.clear()}

"""Tool results are cached per data version, in-process and in real Redis."""

from __future__ import annotations

import uuid

import pytest

from netra.persistence.cache import MemoryCache, RedisCache, open_cache
from netra.errors import ConfigError
from netra.tools import ToolDispatcher
from tests.support.factories import at, load

ROWS = [{"timestamp": at(hours=h), "model": "gpt-4o", "feature": "chat", "input_tokens": 1000,
         "output_tokens": 100, "request_id": f"r{h}"} for h in range(3)]


@pytest.fixture(params=["memory", "redis"])
def cache(request):
    """Each cache backend: in-process, and a real Redis under a unique prefix."""
    if request.param == "memory":
        return MemoryCache()
    return RedisCache(request.getfixturevalue("redis_url"), prefix=f"netra-test-{uuid.uuid4().hex}:")


def test_second_identical_call_is_served_from_cache(ctx, cache):
    load(ctx.store, ctx.catalog, ROWS)
    dispatcher = ToolDispatcher(ctx, cache=cache)
    first, second = dispatcher.run("cost_analyzer", {}), dispatcher.run("cost_analyzer", {})
    assert (first.cached, second.cached) == (False, True)
    assert second.figures == first.figures and second.call_id == first.call_id


def test_new_events_change_the_data_version_and_miss(ctx, cache):
    load(ctx.store, ctx.catalog, ROWS)
    dispatcher = ToolDispatcher(ctx, cache=cache)
    before = dispatcher.run("cost_analyzer", {})
    load(ctx.store, ctx.catalog, [{**ROWS[0], "request_id": "extra", "timestamp": at(days=1)}])
    after = dispatcher.run("cost_analyzer", {})
    assert not after.cached and after.value("requests") == before.value("requests") + 1


def test_memory_cache_entries_expire():
    cache = MemoryCache()
    cache.set("k", b"v", ttl_s=0)
    assert cache.get("k") is None


@pytest.mark.parametrize("url", ["memcached://x", "http://127.0.0.1:6379"])
def test_unknown_cache_url_is_a_clear_error(url):
    with pytest.raises(ConfigError, match="NETRA_REDIS_URL"):
        open_cache(url)

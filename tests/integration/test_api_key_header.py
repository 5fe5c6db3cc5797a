"""A token sent as `x-api-key` (how Studio and agent-chat-ui send their key) counts as its user.

The rate limiter keys a signed-in request by its user, whichever header carries the token, so
a client that only sends `x-api-key` is not counted by IP beside everyone behind its address.
"""

from __future__ import annotations

import redis

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog
from tests.integration.test_server_hardening import LIMITED, hardened_app, serving


def test_a_token_in_x_api_key_is_rate_limited_as_its_user(session_store: AnalyticsStore, catalog: PriceCatalog,
                                                          redis_url: str):
    """Four requests with the token in `x-api-key` count under `rate:{endpoint}:user:{id}`, not the IP."""
    with serving(hardened_app(session_store, catalog, rate_limit_per_minute=10, redis_url=redis_url)) as http:
        signed = http.post("/auth/dev-login", json={"email": "key-header@example.com"}).json()
        user_key = f"rate:{LIMITED}:user:{signed['user']['id']}"
        redis.Redis.from_url(redis_url).delete(user_key)
        statuses = [http.get(LIMITED, headers={"x-api-key": signed["access_token"]}).status_code for _ in range(4)]
    assert (statuses, int(redis.Redis.from_url(redis_url).get(user_key) or 0)) == ([200] * 4, 4)

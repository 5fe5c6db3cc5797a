"""The cap on a user's open WebSocket connections (NETRA_WS_CONNECTIONS_PER_USER), on a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
from websockets.asyncio.client import connect

from netra.config import Settings
from tests.support.live import DEV, Live, live_server, name
from tests.support.ws_client import DEADLINE_S, authenticate, connected, until_closed

pytestmark = pytest.mark.timeout(120)
PER_USER = 2


@pytest.fixture
def capped(store, catalog, tmp_path: Path) -> Iterator[Live]:
    """An embedded server that lets a user hold PER_USER connections."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'netra.db'}", redis_url="",
                        ws_connections_per_user=PER_USER, **DEV)
    with live_server(settings, store, catalog) as server:
        yield server


async def _refused(live: Live, token: str) -> tuple[list[Any], int | None, str | None]:
    """Open one more connection of the token's user; return the messages it got, its close code and reason."""
    async with connect(live.ws(token).url, open_timeout=DEADLINE_S) as ws:
        await authenticate(ws, token)
        messages, code, reason = await until_closed(ws)
    return [message["data"]["code"] for message in messages], code, reason


async def _past_the_cap(live: Live) -> dict[str, Any]:
    token = live.token(name())
    async with connected(live.ws(token)), connected(live.ws(token)):
        refused = await _refused(live, token)
        async with connected(live.ws(live.token(name()))):  # another user is not held back
            return {"refused": refused, "other_user": True}


def test_a_connection_past_the_users_cap_is_refused_with_4429(capped):
    assert asyncio.run(_past_the_cap(capped)) == {
        "refused": (["too_many_connections"], 4429, "too_many_connections"), "other_user": True}

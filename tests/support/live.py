"""Live-run servers for the WebSocket tests: a real uvicorn server of this process, its app and settings.

    with live_server(settings.model_copy(update=DEV), store, catalog) as live:
        async with connected(live.ws(live.token(name()))) as ws: ...

The server runs with its lifespan (migrations, run manager) and uvicorn's default WebSocket
implementation.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from fastapi import FastAPI

from netra.config import Settings
from netra.server import create_app
from netra.server.runs.log import open_event_log
from tests.support.servers import serving
from tests.support.ws_client import Message, Server

WS = "websockets-sansio"  # uvicorn's default WebSocket implementation (its `websockets` one is deprecated)
DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False}


@dataclass
class Live(Server):
    """A server of this process: its app too."""

    app: Any = None

    async def logged(self, run_id: str) -> list[Message]:
        """Return the run's event log, read through the log (Redis: a client of our own; else the app's)."""
        if not self.settings.redis_url:  # type: ignore[union-attr]
            return await self.app.state.resources.events.read(run_id)
        log = open_event_log(self.settings)  # type: ignore[arg-type]
        try:
            return await log.read(run_id)
        finally:
            await log.aclose()


@contextlib.contextmanager
def live_server(settings: Settings, store: Any, catalog: Any) -> Iterator[Live]:
    """Serve the app over `settings` with its lifespan; yield the running server."""
    apps: list[FastAPI] = []
    with serving(lambda url: apps.append(create_app(settings, store=store, catalog=catalog)) or apps[-1],
                 lifespan="on", ws=WS) as url:
        yield Live(url, settings=settings, app=apps[0])


def name() -> str:
    """Return a user name of this test only."""
    return f"u{uuid.uuid4().hex[:8]}"

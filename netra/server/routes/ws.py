"""Live runs over WebSocket, and the process's connection counts.

    WS  /ws                  the live-run protocol; first frame {"action": "auth", "data": {"token": "<JWT>"}}
    GET /api/ws/stats        (role admin or developer; 401 without a token, 403 for a user)
    {"active": 2, "users": 1, "opened_total": 9, "messages_in": 40, "messages_out": 388,
     "by_user": [{"user_id": "...", "connections": 2, "messages_in": 12, "messages_out": 90}]}

`/ws` is a plain Starlette WebSocket route: the app-wide HTTP dependencies (rate limits)
take a `Request` and do not apply to it. The token comes in the first frame, never in the
URL, and is checked like `signed_in` (a refused one closes the socket with 4401/4403, see
`netra.server.ws.auth`), then again before each action and on a timer.
The counts are this process's (`by_user`: at most 100 users, most connections first). A user
holding NETRA_WS_CONNECTIONS_PER_USER connections already gets an `error` message
`too_many_connections`, then the close code 4429.
"""

from __future__ import annotations

import json
from contextlib import suppress

from fastapi import APIRouter, Depends, Request, WebSocket
from pydantic import BaseModel

from netra.server.deps import require_role
from netra.server.ws.auth import CLOSED, authenticate
from netra.server.ws.connections import TooManyConnectionsError, connections_of
from netra.server.ws.protocol import CLOSE_TOO_MANY, failure
from netra.server.ws.session import Session

router = APIRouter(tags=["websocket"])
OPERATORS = [Depends(require_role("admin", "developer"))]


class UserConnections(BaseModel):
    """One user's open connections and their messages."""

    user_id: str
    connections: int
    messages_in: int
    messages_out: int


class WsStats(BaseModel):
    """The process's WebSocket connections: open now, and messages since start."""

    active: int
    users: int
    opened_total: int
    messages_in: int
    messages_out: int
    by_user: list[UserConnections]


async def live(websocket: WebSocket) -> None:
    """Accept the socket, check the token of its first frame, then serve the live-run protocol until it closes."""
    resources = websocket.app.state.resources
    await resources.start()
    await websocket.accept()
    guard = await authenticate(websocket, resources)
    if guard is not None:
        await serve(websocket, Session(websocket, resources, connections_of(websocket.app), guard))


async def serve(websocket: WebSocket, session: Session) -> None:
    """Serve the session; refuse it (`too_many_connections`, 4429) when its user holds the most allowed."""
    try:
        await session.serve()
    except TooManyConnectionsError as exc:  # raised by `connect`, before the session sent anything
        with suppress(*CLOSED):
            await websocket.send_text(json.dumps(failure(exc, "connect")))
            await websocket.close(CLOSE_TOO_MANY, "too_many_connections")


router.add_websocket_route("/ws", live, name="live_runs")


@router.get("/api/ws/stats", response_model=WsStats, dependencies=OPERATORS)
async def ws_stats(request: Request) -> WsStats:
    """Return the process's open connections per user and the messages in/out since start."""
    return WsStats(**connections_of(request.app).stats())

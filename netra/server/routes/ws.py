"""Live runs over WebSocket, and the process's connection counts.

    WS  /ws?token=<JWT>      the live-run protocol (docs/websocket.md)
    GET /api/ws/stats        (role admin or developer; 401 without a token, 403 for a user)
    {"active": 2, "users": 1, "opened_total": 9, "messages_in": 40, "messages_out": 388,
     "by_user": [{"user_id": "...", "connections": 2, "messages_in": 12, "messages_out": 90}]}

`/ws` is a plain Starlette WebSocket route: the app-wide HTTP dependencies (rate limits)
take a `Request` and do not apply to it. The token is checked like `signed_in` after the
handshake (a refused one closes the socket with 4401/4403, see `netra.server.ws.session`).
The counts are this process's (`by_user`: at most 100 users, most connections first).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, WebSocket
from pydantic import BaseModel

from netra.server.auth.deps import require_role
from netra.server.deps import signed_in
from netra.server.ws.auth import authenticate
from netra.server.ws.connections import connections_of
from netra.server.ws.session import Session

router = APIRouter(tags=["websocket"])
OPERATORS = [Depends(signed_in), Depends(require_role("admin", "developer"))]


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
    """Accept the socket, check its token, then serve the live-run protocol until it closes."""
    resources = websocket.app.state.resources
    await resources.start()
    await websocket.accept()
    claims = await authenticate(websocket, resources)
    if claims is not None:
        await Session(websocket, resources, connections_of(websocket.app), claims).serve()


router.add_websocket_route("/ws", live, name="live_runs")


@router.get("/api/ws/stats", response_model=WsStats, dependencies=OPERATORS)
async def ws_stats(request: Request) -> WsStats:
    """Return the process's open connections per user and the messages in/out since start."""
    return WsStats(**connections_of(request.app).stats())

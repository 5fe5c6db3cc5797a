"""Live runs over WebSocket: `/ws`, the token in the first frame (routes in `netra.server.routes.ws`).

    protocol.py      frames in (one pydantic model per action), messages out, error codes
    auth.py          the token of a socket's first frame, checked like `signed_in` and again later (4401 / 4403)
    session.py       one connection: heartbeats, idle timeout, the `ACTIONS` dispatch, run followers
    connections.py   the process's open connections per user, `stats()`, the WEBSOCKETS_ACTIVE gauge

The protocol (actions, message types, errors, heartbeats, resume) is described in docs/websocket.md.
"""

from __future__ import annotations

from netra.server.ws.auth import TokenGuard, authenticate
from netra.server.ws.connections import Connection, ConnectionManager, connections_of
from netra.server.ws.session import ACTIONS, Session

__all__ = ["ACTIONS", "Connection", "ConnectionManager", "Session", "TokenGuard", "authenticate", "connections_of"]

"""The open WebSocket connections of this process, per user, with their message counts.

    connections = connections_of(app)          # one manager per app, made on first use
    conn = connections.connect(user_id)        # WEBSOCKETS_ACTIVE + 1; TooManyConnectionsError at `per_user`
    connections.received(conn); connections.sent(conn)
    connections.disconnect(conn)               # WEBSOCKETS_ACTIVE - 1 (once per connection)
    connections.stats()                        # what GET /api/ws/stats answers

Counts are of this process only (every server process has its own connections);
`messages_in` / `messages_out` count since the process started, closed connections included.
A user may hold `per_user` (NETRA_WS_CONNECTIONS_PER_USER) connections at once per process:
`connect` refuses one more (the `/ws` route answers `too_many_connections`, closing with 4429).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from netra.errors import UserInputError
from netra.metrics import WEBSOCKETS_ACTIVE

TOP_USERS = 100  # `stats()["by_user"]` lists at most this many users, most connections first


class TooManyConnectionsError(UserInputError):
    """The user already holds NETRA_WS_CONNECTIONS_PER_USER open connections to this process."""


@dataclass
class Connection:
    """One open connection: its id, its user, when it opened, and its message counts."""

    user_id: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    opened_at: float = field(default_factory=time.time)
    messages_in: int = 0
    messages_out: int = 0


@dataclass
class ConnectionManager:
    """Tracks the process's open connections; keeps the `WEBSOCKETS_ACTIVE` gauge."""

    per_user: int = 0  # open connections a user may hold (0: no limit)
    connections: dict[str, Connection] = field(default_factory=dict)
    opened_total: int = 0
    messages_in: int = 0
    messages_out: int = 0

    def connect(self, user_id: str) -> Connection:
        """Register a new connection of `user_id`; raise TooManyConnectionsError past `per_user`."""
        self._room_for(user_id)
        conn = Connection(user_id)
        self.connections[conn.id] = conn
        self.opened_total += 1
        WEBSOCKETS_ACTIVE.inc()
        return conn

    def _room_for(self, user_id: str) -> None:
        """Raise TooManyConnectionsError when the user already holds `per_user` connections (0: no limit)."""
        if 0 < self.per_user <= self.count(user_id):
            raise TooManyConnectionsError(f"you have {self.per_user} connections open already "
                                          f"(NETRA_WS_CONNECTIONS_PER_USER={self.per_user}): close one first")

    def disconnect(self, conn: Connection) -> None:
        """Forget a connection (a second call does nothing)."""
        if self.connections.pop(conn.id, None) is not None:
            WEBSOCKETS_ACTIVE.dec()

    def received(self, conn: Connection) -> None:
        """Count a frame received on `conn`."""
        conn.messages_in += 1
        self.messages_in += 1

    def sent(self, conn: Connection) -> None:
        """Count a message sent on `conn`."""
        conn.messages_out += 1
        self.messages_out += 1

    def count(self, user_id: str | None = None) -> int:
        """Return the number of open connections (of `user_id` when given)."""
        return sum(1 for conn in self.connections.values() if user_id in (None, conn.user_id))

    def by_user(self) -> list[dict[str, Any]]:
        """Return per user: open connections and their messages in/out, most connections first."""
        users: dict[str, dict[str, Any]] = {}
        for conn in self.connections.values():
            entry = users.setdefault(conn.user_id, {"user_id": conn.user_id, "connections": 0,
                                                    "messages_in": 0, "messages_out": 0})
            entry.update(connections=entry["connections"] + 1, messages_in=entry["messages_in"] + conn.messages_in,
                         messages_out=entry["messages_out"] + conn.messages_out)
        return sorted(users.values(), key=lambda entry: (-entry["connections"], entry["user_id"]))[:TOP_USERS]

    def stats(self) -> dict[str, Any]:
        """Return the counts: open connections, users, totals since start, and the top users."""
        users = self.by_user()
        return {"active": len(self.connections), "users": len({c.user_id for c in self.connections.values()}),
                "opened_total": self.opened_total, "messages_in": self.messages_in,
                "messages_out": self.messages_out, "by_user": users}


def connections_of(app: Any) -> ConnectionManager:
    """Return the app's connection manager (`app.state.ws_connections`), made on first use."""
    if getattr(app.state, "ws_connections", None) is None:
        app.state.ws_connections = ConnectionManager(app.state.resources.settings.ws_connections_per_user)
    return app.state.ws_connections

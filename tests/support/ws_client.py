"""A client of Netra's `/ws` live-run protocol for tests and benches (`websockets`, asyncio).

    async with connected(endpoint(base_url, token)) as ws:   # auth frame sent, connection_established checked
        ack = await started(ws, "Cut spend?")                 # start_agent -> its ack
        events = run_events(await until(ws, is_final))        # the run's events, through the terminal one

The token goes in the connection's first frame, `{"action": "auth", "data": {"token": ...}}`,
never in the URL.

Every wait is bounded by DEADLINE_S (generous: tests never assert durations).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from netra.config import Settings
from tests.support import http
from tests.support.roles import grant

DEADLINE_S = 60.0
Message = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects (`ws://host:port/ws`) and the token its first frame sends."""

    url: str
    token: str


def endpoint(base_url: str, token: str) -> Endpoint:
    """Return the `/ws` endpoint of an `http://` server, with `token`."""
    return Endpoint(f"{base_url.replace('http://', 'ws://')}/ws", token)


@dataclass
class Server:
    """A running server (dev login on): its URL, settings, and the tokens of users signed in (once per name)."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None  # needed to give a user a role (the records database)

    def token(self, name: str, role: str | None = None) -> str:
        """Sign `name`@example.com in through `POST /auth/dev-login` (once), with the stored `role`; return the token."""
        if name not in self.tokens:
            body = {"email": f"{name}@example.com"}
            self.tokens[name] = http.request("POST", f"{self.url}/auth/dev-login", json=body).json()["access_token"]
            if role:
                grant(self.settings, body["email"], role)  # type: ignore[arg-type]
        return self.tokens[name]

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        """GET `path` (with the bearer token when given)."""
        return http.request("GET", self.url + path, headers={"Authorization": f"Bearer {token}"} if token else {})

    def ws(self, token: str) -> Endpoint:
        """Return the `/ws` endpoint with `token`."""
        return endpoint(self.url, token)


async def receive(ws: ClientConnection, deadline_s: float = DEADLINE_S) -> Message:
    """Return the next message (bounded by a generous deadline)."""
    return json.loads(await asyncio.wait_for(ws.recv(), deadline_s))


async def until(ws: ClientConnection, done: Callable[[Message], bool], deadline_s: float = DEADLINE_S) -> list[Message]:
    """Return the messages up to and including the first one `done` accepts.

    Each `heartbeat` is answered with a `ping` (a silent client is closed after `ws_timeout_s`);
    heartbeats and pongs are left out of the answer.
    """
    messages = [await receive(ws, deadline_s)]
    while not done(messages[-1]):
        if messages[-1]["type"] == "heartbeat":
            await send(ws, "ping")
        messages.append(await receive(ws, deadline_s))
    return [m for m in messages if m["type"] not in ("heartbeat", "pong")]


async def send(ws: ClientConnection, action: str, **data: Any) -> None:
    """Send one action frame."""
    await ws.send(json.dumps({"action": action, "data": data}))


def is_final(message: Message) -> bool:
    """Whether the message is a run's terminal event."""
    return bool(message["metadata"].get("final"))


def of_type(kind: str) -> Callable[[Message], bool]:
    """Return a check accepting messages of type `kind`."""
    return lambda message: message["type"] == kind


def seq_at_least(seq: int) -> Callable[[Message], bool]:
    """Return a check accepting run events with a seq of at least `seq`."""
    return lambda message: (message["metadata"]["seq"] or 0) >= seq


def run_events(messages: list[Message]) -> list[Message]:
    """Return the run events among the messages (those with a seq)."""
    return [m for m in messages if m["metadata"]["seq"] is not None]


def plain(events: list[Message]) -> list[Message]:
    """Return the events as JSON carries them (tuples become lists)."""
    return json.loads(json.dumps(events, default=str))


async def authenticate(ws: ClientConnection, token: str) -> None:
    """Send the `auth` frame every connection starts with."""
    await send(ws, "auth", token=token)


@contextlib.asynccontextmanager
async def connected(to: Endpoint) -> AsyncIterator[ClientConnection]:
    """Connect, send the token; check `connection_established` comes first; yield the socket."""
    async with connect(to.url, max_size=None, open_timeout=DEADLINE_S) as ws:
        await authenticate(ws, to.token)
        first = await receive(ws)
        assert first["type"] == "connection_established", first
        yield ws


async def started(ws: ClientConnection, question: str, **options: Any) -> Message:
    """Send `start_agent`; return its `ack`."""
    await send(ws, "start_agent", message=question, **options)
    ack = await receive(ws)
    assert ack["type"] == "ack", ack
    return ack


async def resumed(to: Endpoint, run_id: str, after_seq: int, deadline_s: float = DEADLINE_S) -> list[Message]:
    """Connect, `resume` the run after `after_seq`; return its events through the terminal one."""
    async with connected(to) as ws:
        await send(ws, "resume", run_id=run_id, after_seq=after_seq)
        return run_events(await until(ws, is_final, deadline_s))


async def until_closed(ws: ClientConnection) -> tuple[list[Message], int | None, str | None]:
    """Return every message until the server closes the socket, then the close code and reason."""
    messages: list[Message] = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            messages.append(await receive(ws))
    return messages, ws.close_code, ws.close_reason

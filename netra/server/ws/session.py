"""One WebSocket connection of a signed-in user: its frames, heartbeats and followed runs.

    await websocket.accept()
    guard = await authenticate(websocket, resources)        # netra.server.ws.auth; None: refused and closed
    if guard is not None:
        await Session(websocket, resources, connections_of(app), guard).serve()

`serve` sends `connection_established`, then reads frames until the client leaves or stays
silent for `ws_timeout_s` (any frame counts; the connection is then closed with 4408),
while a task sends a `heartbeat` every `ws_heartbeat_s`. The token is checked again before
each frame is answered and by a second task (when it expires, and every `ws_heartbeat_s`):
once it is expired or signed out, the client gets an `error` and the close code 4401.
Each frame is parsed and dispatched through `ACTIONS` (action -> model of its data,
handler); whatever goes wrong is answered by an `error` message and the connection stays open.

Runs are started and followed in the connection's workspace (`?workspace=<id>` or the
`X-Netra-Workspace` header, else the user's personal one; `netra.server.ws.workspace`).
Runs belong to the run manager (`resources.runs`), never to a connection: `start_agent`
starts one and the connection then follows the run's event log (`resources.events`),
`resume` follows a run from a given seq, `decide` continues a thread paused for approval
(a new run, acknowledged and followed like a question), and closing the socket only stops the following.
The runs a connection follows, and how, are `netra.server.ws.follow.Followers`'. Sends are
serialised by a lock; a send to a closed socket is dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, NamedTuple

from starlette.websockets import WebSocket

from netra.persistence.models import Run
from netra.server.auth.errors import AuthError
from netra.server.resources import AppResources
from netra.server.runs import FINISHED, Ask, RunEndedError, owner_of
from netra.server.ws.auth import CLOSED, TokenGuard
from netra.server.ws.connections import Connection, ConnectionManager
from netra.server.ws.follow import Followers
from netra.server.ws.protocol import (AUTH_CLOSE_BASE, CLOSE_IDLE, Data, Decide, LogExpiredError, Ping, Resume,
                                      StartAgent, StopAgent, UserMessage, error_message, failure, message, parse)
from netra.server.ws.workspace import owned_run, writer_of

Handler = Callable[["Session", str, Any], Awaitable[None]]


class Action(NamedTuple):
    """What a client action is: the model of its `data` and the session method answering it."""

    model: type[Data]
    handler: Handler


@dataclass
class Session:
    """The connection of one user: sends, the heartbeat, the runs it follows."""

    websocket: WebSocket
    resources: AppResources
    connections: ConnectionManager
    guard: TokenGuard
    conn: Connection | None = None
    followers: Followers = field(init=False)
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False

    def __post_init__(self) -> None:
        self.followers = Followers(self.resources.events, self.send)

    @property
    def user_id(self) -> str:
        """The signed-in user's id."""
        return self.guard.claims.user_id

    async def serve(self) -> None:
        """Announce the connection, beat, watch the token, answer frames until the client leaves or goes silent."""
        self.conn = self.connections.connect(self.user_id)
        timers = asyncio.gather(self._beat(), self._watch())  # the heartbeat, and the token's expiry and sign-out
        try:
            await self.send(self._established())
            await self._answer_frames()
        finally:
            await self._stop(timers)

    async def _answer_frames(self) -> None:
        while (frame := await self._next()) is not None and await self._signed_in():
            await self.handle(frame)

    async def _signed_in(self) -> bool:
        """Return whether the token still holds; when not, tell the client why and close (4401; 4503)."""
        try:
            await self.guard.check()
            return True
        except AuthError as exc:
            await self.send(error_message(exc.code, str(exc)))
            await self.close(AUTH_CLOSE_BASE + exc.status, exc.code)
            return False

    async def _watch(self) -> None:
        """Check the token when it expires and every `ws_heartbeat_s`, until it no longer holds."""
        while not self.closed:
            await asyncio.sleep(self.guard.wait_s(self.resources.settings.ws_heartbeat_s))
            if not await self._signed_in():
                return

    def _established(self) -> dict[str, Any]:
        settings = self.resources.settings
        return message("connection_established", {"connection_id": self.conn.id, "user_id": self.user_id,  # type: ignore[union-attr]
                                                  "heartbeat_s": settings.ws_heartbeat_s,
                                                  "timeout_s": settings.ws_timeout_s})

    async def _next(self) -> dict[str, Any] | None:
        """Return the next frame; None when the client left or sent nothing for `ws_timeout_s`."""
        try:
            frame = await asyncio.wait_for(self.websocket.receive(), self.resources.settings.ws_timeout_s)
        except TimeoutError:
            await self._close_idle()
            return None
        return None if frame["type"] == "websocket.disconnect" else frame

    async def _close_idle(self) -> None:
        timeout = self.resources.settings.ws_timeout_s
        await self.send(error_message("idle_timeout", f"no frame from the client for {timeout:g} s: closing"))
        await self.close(CLOSE_IDLE, "idle timeout")

    async def handle(self, frame: dict[str, Any]) -> None:
        """Answer one frame; a bad frame or a refused action gets an `error` message."""
        self.connections.received(self.conn)  # type: ignore[arg-type]
        action, data = None, None
        try:
            action, data = parse(frame, MODELS)
            await ACTIONS[action].handler(self, action, data)
        except Exception as exc:  # every failure is answered; the connection stays open
            await self.send(failure(exc, action, getattr(data, "run_id", None)))

    async def ask(self, action: str, data: StartAgent) -> None:
        """Start a run of the question (`start_agent`, `user_message`); acknowledge it and follow its log."""
        await self._start(action, data.ask(), data.multitask)

    async def decide(self, action: str, data: Decide) -> None:
        """Continue the thread's run paused for approval with the user's decision (`decide`), as a new run."""
        await self._start(action, data.ask())

    async def _start(self, action: str, ask: Ask, multitask: str = "reject") -> None:
        """Start a run in the connection's workspace; acknowledge it and follow its log."""
        self.followers.room_for(None)
        owner = (await writer_of(self.websocket, self.resources, self.guard.claims)).owner
        handle = await self.resources.runs.submit(owner, ask, multitask)
        await self.send(message("ack", {"action": action, "run_id": handle.run_id, "thread_id": handle.thread_id,
                                        "status": handle.status}, handle.run_id, handle.thread_id))
        self.followers.follow(handle.run_id, 0)

    async def stop(self, action: str, data: StopAgent) -> None:
        """Cancel the user's run; acknowledge (the run's log ends with an `error` of code `cancelled`).

        A run the records show finished is `run_ended` without asking the manager (its terminal
        event is logged after the record is settled, before the manager forgets the run).
        """
        run = await self._owned_run(data.run_id)
        if run.status in FINISHED or not await self.resources.runs.cancel(owner_of(run), run.id):
            raise RunEndedError(f"run {run.id!r} has already ended")
        await self.send(message("ack", {"action": action, "run_id": run.id, "thread_id": run.thread_id},
                                run.id, run.thread_id))

    async def pong(self, action: str, data: Ping) -> None:
        """Answer `ping` with `pong`."""
        await self.send(message("pong", {}))

    async def resume(self, action: str, data: Resume) -> None:
        """Acknowledge, then send the run's events after `after_seq` and follow it to its terminal event."""
        run = await self._owned_run(data.run_id)
        await self._followable(run)
        await self.send(message("ack", {"action": action, "run_id": run.id, "thread_id": run.thread_id,
                                        "after_seq": data.after_seq}, run.id, run.thread_id))
        self.followers.follow(run.id, data.after_seq)

    async def _followable(self, run: Run) -> None:
        """Raise when this connection cannot follow the run: too many followed already, or its log expired."""
        self.followers.room_for(run.id)
        if run.status in FINISHED and not await self.resources.events.last_seq(run.id):
            raise LogExpiredError(f"run {run.id!r} ended ({run.status}) and its event log expired: "
                                  f"read it with GET /api/runs/{run.id}")

    async def _owned_run(self, run_id: str) -> Run:
        """Return the user's run of the connection's workspace (NotFoundError for any other, or a missing one)."""
        return await owned_run(self.websocket, self.resources, self.guard.claims, run_id)

    async def _beat(self) -> None:
        """Send a `heartbeat` every `ws_heartbeat_s` while the connection is open."""
        while not self.closed:
            await asyncio.sleep(self.resources.settings.ws_heartbeat_s)
            await self.send(message("heartbeat", {}))

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one message as JSON; once the socket has gone away, drop it."""
        try:
            async with self.sending:
                await self._write(payload)
        except CLOSED:  # the client left; the receive loop ends the session
            self.closed = True

    async def _write(self, payload: dict[str, Any]) -> None:
        if not self.closed:
            await self.websocket.send_text(json.dumps(payload, default=str))
            self.connections.sent(self.conn)  # type: ignore[arg-type]

    async def close(self, code: int, reason: str) -> None:
        """Close the socket with `code` and `reason` (after any message being sent)."""
        async with self.sending:
            self.closed = True
            try:
                await self.websocket.close(code, reason)
            except CLOSED:
                pass

    async def _stop(self, timers: asyncio.Future) -> None:
        """Stop the heartbeat, the token watch and the followers (never the runs); forget the connection."""
        self.closed = True
        tasks = [timers, *self.followers.tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.connections.disconnect(self.conn)  # type: ignore[arg-type]


# action -> the model of its data and the session method answering it
ACTIONS: dict[str, Action] = {
    "start_agent": Action(StartAgent, Session.ask),
    "user_message": Action(UserMessage, Session.ask),
    "stop_agent": Action(StopAgent, Session.stop),
    "ping": Action(Ping, Session.pong),
    "resume": Action(Resume, Session.resume),
    "decide": Action(Decide, Session.decide),
}
MODELS: dict[str, type[Data]] = {action: entry.model for action, entry in ACTIONS.items()}

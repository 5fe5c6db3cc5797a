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
`resume` follows a run from a given seq, and closing the socket only stops the following.
A connection follows a run at most once at a time (a second `resume` of the same run
replaces the first), and at most MAX_FOLLOWED_RUNS runs at once (`too_many_runs`). A follower waits on the log FOLLOW_POLL_S at a time; a failed read of
the log (Redis) is retried from the last seq sent, RELAY_RETRIES times in a row, before the
client gets an `error` (`service_unavailable`). Sends are serialised by a lock; a send to a
closed socket is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Awaitable, Callable, NamedTuple

from starlette.websockets import WebSocket

from netra.errors import NetraError
from netra.persistence.models import FINISHED, Run
from netra.server.auth.errors import AuthError
from netra.server.resources import AppResources
from netra.server.runs.records import owner_of
from netra.server.ws.auth import CLOSED, TokenGuard
from netra.server.ws.connections import Connection, ConnectionManager
from netra.server.ws.protocol import (AUTH_CLOSE_BASE, CLOSE_IDLE, MAX_FOLLOWED_RUNS, Data, LogExpiredError, Ping,
                                      Resume, RunEndedError, StartAgent, StopAgent, TooManyRunsError, UserMessage,
                                      error_message, failure, message, parse)
from netra.server.ws.workspace import owned_run, writer_of

LOG = logging.getLogger("netra.ws")
FOLLOW_POLL_S = 2.0  # one wait of a follower on the log (below the Redis client's 5 s socket timeout)
RELAY_RETRIES = 3  # failed log reads in a row a follower retries before it answers `service_unavailable`
RELAY_BACKOFF_S = 1.0
Handler = Callable[["Session", str, Any], Awaitable[None]]


@dataclass
class Cursor:
    """Where a follower of a run stands: the last seq it sent, and its failed reads in a row."""

    run_id: str
    seq: int
    failures: int = 0


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
    followers: dict[str, asyncio.Task] = field(default_factory=dict)
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False

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
        self._room_for(None)
        owner = (await writer_of(self.websocket, self.resources, self.guard.claims)).owner
        handle = await self.resources.runs.start(owner, data.message, data.thread_id, data.strategy, data.multitask)
        await self.send(message("ack", {"action": action, "run_id": handle.run_id, "thread_id": handle.thread_id,
                                        "status": handle.status}, handle.run_id, handle.thread_id))
        self.follow(handle.run_id, 0)

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
        self.follow(run.id, data.after_seq)

    async def _followable(self, run: Run) -> None:
        """Raise when this connection cannot follow the run: too many followed already, or its log expired."""
        self._room_for(run.id)
        if run.status in FINISHED and not await self.resources.events.last_seq(run.id):
            raise LogExpiredError(f"run {run.id!r} ended ({run.status}) and its event log expired: "
                                  f"read it with GET /api/runs/{run.id}")

    def _room_for(self, run_id: str | None) -> None:
        """Raise TooManyRunsError when following one more run would pass MAX_FOLLOWED_RUNS."""
        if run_id not in self.followers and len(self.followers) >= MAX_FOLLOWED_RUNS:
            raise TooManyRunsError(f"this connection already follows {MAX_FOLLOWED_RUNS} runs: wait for one to end")

    async def _owned_run(self, run_id: str) -> Run:
        """Return the user's run of the connection's workspace (NotFoundError for any other, or a missing one)."""
        return await owned_run(self.websocket, self.resources, self.guard.claims, run_id)

    def follow(self, run_id: str, after_seq: int) -> None:
        """Relay the run's logged events after `after_seq` to this connection (replacing an earlier follower)."""
        previous = self.followers.pop(run_id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.create_task(self._relay(run_id, after_seq), name=f"ws-follow:{run_id}")
        self.followers[run_id] = task
        task.add_done_callback(partial(self._forget, run_id))

    def _forget(self, run_id: str, task: asyncio.Task) -> None:
        if self.followers.get(run_id) is task:
            del self.followers[run_id]

    async def _relay(self, run_id: str, after_seq: int) -> None:
        """Send the run's events after `after_seq` until its final one, retrying a failed log read a few times."""
        cursor = Cursor(run_id, after_seq)
        while not await self._forward(cursor):
            await asyncio.sleep(RELAY_BACKOFF_S)

    async def _forward(self, cursor: Cursor) -> bool:
        """Follow the log from the cursor; True when done (final event sent, or failures given up on)."""
        try:
            async with aclosing(self.resources.events.follow(cursor.run_id, cursor.seq, FOLLOW_POLL_S)) as events:
                async for event in events:
                    await self._deliver(cursor, event)
            return True
        except NetraError as exc:  # the log's store failed (ServiceError): retry from the last seq sent
            return await self._failed(cursor, exc)

    async def _deliver(self, cursor: Cursor, event: dict[str, Any] | None) -> None:
        if event is not None:  # None: FOLLOW_POLL_S passed without an event
            cursor.seq, cursor.failures = event["metadata"]["seq"], 0
            await self.send(event)

    async def _failed(self, cursor: Cursor, exc: NetraError) -> bool:
        """Count a failed read; past RELAY_RETRIES in a row, answer it as an `error` and stop following."""
        cursor.failures += 1
        LOG.warning("websocket: following run %s failed (%d): %s", cursor.run_id, cursor.failures, exc)
        if cursor.failures <= RELAY_RETRIES:
            return False
        await self.send(failure(exc, "follow", cursor.run_id))
        return True

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
        tasks = [timers, *self.followers.values()]
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
}
MODELS: dict[str, type[Data]] = {action: entry.model for action, entry in ACTIONS.items()}

"""The WebSocket protocol of live runs: client frames in, server messages out, error codes.

    action, data = parse({"type": "websocket.receive", "text": raw}, MODELS)   # or raises FrameError
    message("pong", {})                  # a connection-level message (metadata.seq null)
    failure(exc, "resume", run_id)       # the `error` message answering an exception

A client frame is a JSON object `{"action": ..., "data": {...}}` of at most 64 KiB (text, or
binary holding UTF-8 JSON). `data` is validated by the pydantic model of its action
(`StartAgent`, `UserMessage`, `StopAgent`, `Ping`, `Resume`, `Decide`; unknown fields are refused).
The connection's first frame is `{"action": "auth", "data": {"token": ...}}` (`Auth`, read by
`netra.server.ws.auth`).
Every server message is

    {"type": ..., "data": {...},
     "metadata": {"thread_id", "run_id", "agent_name", "timestamp", "seq"}}

Run events come from the run's event log as they are (`seq` = the log's seq; the run's
terminal event also carries `metadata.final: true`); connection-level messages
(`connection_established`, `ack`, `pong`, `heartbeat`, `error`) carry `seq: null`.
A bad frame or a refused action is answered by an `error` message `{code, message, action}`;
the codes are `FrameError` codes or `error_code(exc)`. The protocol: docs/websocket.md.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from netra.errors import NetraError, UserInputError
from netra.graph.approval import DecisionError
from netra.persistence.repositories.base import NotFoundError
from netra.server.auth.errors import AuthError
from netra.server.errors import ANSWERS, describe, translated
from netra.server.runs import (Ask, DecisionValue, Multitask, NotWaitingError, Question, RunEndedError, StrategyName,
                               timestamp)
from netra.server.ws.connections import TooManyConnectionsError

LOG = logging.getLogger("netra.ws")
MAX_FRAME_BYTES = 64 * 1024
FRAME_KEYS = frozenset({"action", "data"})
TOKEN_CHARS = 8192
MAX_FOLLOWED_RUNS = 20  # runs one connection follows at once
CLOSE_IDLE = 4408  # no frame from the client for `ws_timeout_s`
CLOSE_TOO_MANY = 4429  # the user holds NETRA_WS_CONNECTIONS_PER_USER connections already
AUTH_CLOSE_BASE = 4000  # a refused token closes with 4000 + its HTTP status: 4401, 4403, 4503
INTERNAL_MESSAGE = "internal server error"
Message = dict[str, Any]

RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class FrameError(Exception):
    """A frame that cannot be read or validated; `code` names what is wrong."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TooManyRunsError(UserInputError):
    """The connection already follows MAX_FOLLOWED_RUNS runs."""


class LogExpiredError(NotFoundError):
    """`resume` on a run that ended so long ago that its event log expired."""


class Data(BaseModel):
    """The `data` of a frame: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class StartAgent(Data):
    """Ask a question: on a new thread (`thread_id` null) or on one of the user's threads."""

    message: Question
    thread_id: RecordId | None = None
    strategy: StrategyName | None = None
    multitask: Multitask = "reject"
    approval: bool = False  # pause before the actions agent for the user's approval (then `decide`)

    def ask(self) -> Ask:
        """Return what the frame asks of the engine."""
        return Ask(question=self.message, thread_id=self.thread_id, strategy=self.strategy, approval=self.approval)


class UserMessage(StartAgent):
    """Ask a question on an existing thread of the user (`thread_id` required)."""

    thread_id: RecordId


class StopAgent(Data):
    """Cancel one of the user's runs."""

    run_id: RecordId


class Auth(Data):
    """The first frame of a connection: the bearer token of the REST API (never in the URL)."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=TOKEN_CHARS)]


class Ping(Data):
    """Ask for a `pong` (and show the connection is alive)."""


class Resume(Data):
    """Send the run's logged events after `after_seq`, then follow it live to its terminal event."""

    run_id: RecordId
    after_seq: Annotated[int, Field(ge=0, strict=True)] = 0


class Decide(Data):
    """Continue the user's thread paused for approval: true, {"approve": [ids]} or {"drop": [ids]}."""

    thread_id: RecordId
    decision: DecisionValue

    def ask(self) -> Ask:
        """Return what the frame asks of the engine: the decision, on its thread."""
        return Ask(thread_id=self.thread_id, decision=self.decision)


# exception type -> error code (the HTTP answers' codes, but for the WebSocket's own); a subclass
# not listed takes its nearest listed base's
ERROR_CODES: dict[type[Exception], str] = {
    **{exc_type: answer.code for exc_type, answer in ANSWERS.items()},
    RunEndedError: "run_ended",
    TooManyRunsError: "too_many_runs",
    LogExpiredError: "log_expired",
    TooManyConnectionsError: "too_many_connections",
    DecisionError: "bad_decision",
    NotWaitingError: "not_waiting",
}


def message(kind: str, data: dict[str, Any], run_id: str | None = None, thread_id: str | None = None) -> Message:
    """Return a connection-level message (`seq` null), stamped with the current time."""
    metadata = {"thread_id": thread_id, "run_id": run_id, "agent_name": None, "timestamp": timestamp(), "seq": None}
    return {"type": kind, "data": data, "metadata": metadata}


def error_message(code: str, text: str, action: str | None = None, run_id: str | None = None) -> Message:
    """Return the `error` message `{code, message, action}`."""
    return message("error", {"code": code, "message": text, "action": action}, run_id)


def error_code(exc: BaseException) -> str:
    """Return the code of an exception: an auth error's own (`forbidden`...), its nearest type in ERROR_CODES, else `internal_error`."""
    if isinstance(exc, AuthError):
        return exc.code
    return next((ERROR_CODES[kind] for kind in type(exc).__mro__ if kind in ERROR_CODES), "internal_error")


def failure(exc: Exception, action: str | None = None, run_id: str | None = None) -> Message:
    """Return the `error` message answering `exc` (an unexpected one is logged and its cause hidden)."""
    exc = translated(exc)  # the records database gone: service_unavailable, as over HTTP
    if isinstance(exc, FrameError):
        return error_message(exc.code, str(exc), action, run_id)
    if not isinstance(exc, NetraError) or error_code(exc) == "internal_error":
        LOG.error("websocket %s failed: %s", action, type(exc).__name__, exc_info=exc)
        return error_message("internal_error", INTERNAL_MESSAGE, action, run_id)
    return error_message(error_code(exc), str(exc), action, run_id)


def parse(frame: Mapping[str, Any], models: Mapping[str, type[Data]]) -> tuple[str, Data]:
    """Return the action and validated data of an ASGI `websocket.receive` frame.

    Raises:
        FrameError: `frame_too_large`, `invalid_json`, `invalid_frame`, `unknown_action` or `invalid_data`.
    """
    body = decoded(raw_of(frame))
    action = body.get("action")
    if not isinstance(action, str):
        raise FrameError("invalid_frame", 'a frame needs an "action" string')
    if action not in models:
        raise FrameError("unknown_action", f"unknown action {action[:64]!r}: expected one of {sorted(models)}")
    return action, validated(models[action], body.get("data", {}), action)


def raw_of(frame: Mapping[str, Any]) -> bytes:
    """Return the frame's bytes (text as UTF-8); refuse more than MAX_FRAME_BYTES."""
    text = frame.get("text")
    raw = text.encode() if text is not None else frame.get("bytes") or b""
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"a frame holds at most {MAX_FRAME_BYTES} bytes, this one {len(raw)}")
    return raw


def decoded(raw: bytes) -> dict[str, Any]:
    """Return the JSON object of a frame: `{"action": ..., "data": {...}}` and nothing else."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise FrameError("invalid_json", "the frame is not valid UTF-8 JSON") from None
    if not isinstance(body, dict) or not set(body) <= FRAME_KEYS:
        raise FrameError("invalid_frame", 'a frame is a JSON object {"action": ..., "data": {...}}')
    return body


def validated(model: type[Data], data: Any, action: str) -> Data:
    """Return `data` validated by the action's model; FrameError `invalid_data` names each bad field."""
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", '"data" must be a JSON object')
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FrameError("invalid_data", f"{action}: {describe(exc.errors())}") from None

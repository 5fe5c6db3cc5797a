"""Who may use `/ws`, and for how long: the token in the first frame, refusals, expiry and sign-out.

A real uvicorn server and a real `websockets` client. The token goes in the connection's
first frame, never in the URL; it is checked like the REST API's `signed_in`, then again
before every action and on a timer, so an open connection closes with 4401 once its token
expires or is signed out, and with 4503 when sign-outs cannot be read (fail closed).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from typing import Any, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from netra.config import Settings
from netra.server.auth.tokens import Subject, issue_token, token_config
from tests.support.graphs import OPTIMIZE
from tests.support.live import DEV, Live, live_server, name
from tests.support.run_world import backend_settings
from tests.support.ws_client import Message, authenticate, connected, send, until_closed

pytestmark = pytest.mark.timeout(300)
Closed = tuple[list[Message], Any, Any]


@pytest.fixture(scope="module", params=["embedded", "services"])
def live(request, workload, catalog, tmp_path_factory) -> Iterator[Live]:
    """The module's server over the backend under test (30 s heartbeats: no timed check during a test)."""
    with backend_settings(request.param, tmp_path_factory.mktemp("ws-auth")) as base:
        with live_server(base.model_copy(update=DEV), workload, catalog) as server:
            yield server


def _embedded(tmp_path, **fields: Any) -> Settings:
    return Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'netra.db'}", redis_url="", **DEV,
                    **fields)


@pytest.fixture
def quick(workload, catalog, tmp_path) -> Iterator[Live]:
    """An embedded server checking tokens every 0.2 s, waiting 0.5 s for the first frame."""
    settings = _embedded(tmp_path, ws_heartbeat_s=0.2, ws_timeout_s=30.0, ws_auth_timeout_s=0.5)
    with live_server(settings, workload, catalog) as server:
        yield server


@pytest.fixture
def brief(workload, catalog, tmp_path) -> Iterator[Live]:
    """An embedded server whose tokens last 2 s (30 s heartbeats: only the expiry wakes the check)."""
    with live_server(_embedded(tmp_path, jwt_ttl_s=2), workload, catalog) as server:
        yield server


def sign_out(live: Live, token: str) -> None:
    """Sign the token out through `POST /auth/logout`."""
    answer = httpx.post(f"{live.url}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 204, answer.text


def signed_out_token(live: Live) -> str:
    """Return the token of a user who signed out."""
    token = live.token(name())
    sign_out(live, token)
    return token


def bad_tokens(live: Live) -> dict[str, tuple[str, str, int]]:
    """Return refused tokens: case -> (token, error code, close code)."""
    config, subject = token_config(live.settings), Subject(user_id=str(uuid.uuid4()))
    return {"none": ("", "missing_token", 4401), "garbage": ("garbage", "invalid_token", 4401),
            "expired": (issue_token(config, subject, now=time.time() - 7200), "token_expired", 4401),
            "revoked": (signed_out_token(live), "invalid_token", 4401),
            "no such user": (issue_token(config, subject), "invalid_token", 4401),
            "another scope": (issue_token(config, subject, scope="mcp"), "insufficient_scope", 4403)}


async def _refused(live: Live, token: str) -> Closed:
    async with connect(live.ws(token).url) as ws:
        await authenticate(ws, token)
        return await until_closed(ws)


@pytest.mark.parametrize("case", ["none", "garbage", "expired", "revoked", "no such user", "another scope"])
def test_a_bad_token_is_refused_with_an_error_and_a_4401_close(live, case):
    token, code, close = bad_tokens(live)[case]
    (answer,), close_code, reason = asyncio.run(_refused(live, token))
    assert (answer["type"], answer["data"]["code"]) == ("error", code)
    assert (close_code, reason) == (close, code)


async def _first_frame(live: Live, first: str | None, query: str = "") -> Closed:
    async with connect(live.ws("").url + query) as ws:
        if first is not None:
            await ws.send(first)
        return await until_closed(ws)


# case -> (the first frame, or None for none; the query string of the URL)
NOT_AUTH = {
    "another action first": (json.dumps({"action": "ping", "data": {}}), ""),
    "no frame in time": (None, ""),
    "a valid token in the URL only": (None, "?token={token}"),
    "not JSON": ("{nope", ""),
}


@pytest.mark.parametrize("case", list(NOT_AUTH))
def test_the_first_frame_must_carry_the_token_and_the_url_is_never_read(quick, case):
    first, query = NOT_AUTH[case]
    messages, close_code, reason = asyncio.run(_first_frame(quick, first, query.format(token=quick.token(name()))))
    assert [m["data"]["code"] for m in messages] == ["missing_token"] and "first frame" in messages[0]["data"]["message"]
    assert (close_code, reason) == (4401, "missing_token")


async def _signed_out_while_open(live: Live) -> Closed:
    token = live.token(name())
    async with connected(live.ws(token)) as ws:
        await asyncio.to_thread(sign_out, live, token)
        return await until_closed(ws)


def test_signing_out_closes_an_open_socket_with_4401(quick):
    messages, close_code, reason = asyncio.run(_signed_out_while_open(quick))
    assert messages[-1]["type"] == "error" and messages[-1]["data"]["code"] == "invalid_token" and "revoked" in messages[-1]["data"]["message"]
    assert (close_code, reason) == (4401, "invalid_token")


async def _ask_after_sign_out(live: Live, token: str) -> Closed:
    async with connected(live.ws(token)) as ws:
        await asyncio.to_thread(sign_out, live, token)
        await send(ws, "start_agent", message=OPTIMIZE)
        return await until_closed(ws)


def test_a_signed_out_socket_starts_no_run(live):
    """Each action checks the token again: after a sign-out, start_agent closes the socket and runs nothing."""
    user = name()
    messages, close_code, _ = asyncio.run(_ask_after_sign_out(live, live.token(user)))
    again = httpx.post(f"{live.url}/auth/dev-login", json={"email": f"{user}@example.com"}).json()["access_token"]
    assert [m["type"] for m in messages] == ["error"] and messages[0]["data"]["code"] == "invalid_token"
    assert close_code == 4401 and live.get("/api/threads", again).json()["items"] == []


async def _expiring(live: Live) -> tuple[Closed, float]:
    async with connected(live.ws(live.token(name()))) as ws:
        started = time.monotonic()
        return await until_closed(ws), time.monotonic() - started


def test_an_expired_token_closes_the_socket_with_4401(brief):
    (messages, close_code, reason), waited = asyncio.run(_expiring(brief))
    assert [m["data"]["code"] for m in messages] == ["token_expired"]
    assert (close_code, reason) == (4401, "token_expired") and waited < 10


def _drop_revocations(live: Live) -> None:
    """Make sign-outs unreadable: the records database loses `token_revocations`."""
    with sqlite3.connect(live.settings.home / "netra.db") as db:  # type: ignore[union-attr]
        db.execute("DROP TABLE token_revocations")


async def _store_down_while_open(live: Live) -> Closed:
    async with connected(live.ws(live.token(name()))) as ws:
        await asyncio.to_thread(_drop_revocations, live)
        return await until_closed(ws)


def test_a_socket_whose_sign_out_cannot_be_checked_closes_with_4503(quick):
    messages, close_code, reason = asyncio.run(_store_down_while_open(quick))
    assert [m["data"]["code"] for m in messages if m["type"] == "error"] == ["service_unavailable"]
    assert (close_code, reason) == (4503, "service_unavailable")

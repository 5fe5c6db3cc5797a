"""A viewer of a workspace cannot start runs over the WebSocket, and is told why (`forbidden`).

A real server (`netra serve`'s app under uvicorn) and the real WebSocket client: the viewer's
`start_agent` answers an `error` with the code HTTP answers (403 `forbidden`), not
`internal_error`, and a member of the same workspace starts the same question.
"""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest

from tests.support.graphs import PLAIN
from tests.support.live import DEV, Live, live_server, name
from tests.support.run_world import backend_settings
from tests.support.tenants import add_to_workspace
from tests.support.ws_client import Endpoint, connected, receive, send

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def live(workload, catalog, tmp_path_factory) -> Iterator[Live]:
    """A server over the embedded backend."""
    with backend_settings("embedded", tmp_path_factory.mktemp("ws-viewer")) as base:
        with live_server(base.model_copy(update=DEV), workload, catalog) as server:
            yield server


def in_local(live: Live, role: str) -> Endpoint:
    """Return the `/ws` endpoint of a new user holding `role` in `local`, acting there."""
    user = name()
    token = live.token(user)
    add_to_workspace(live.settings, f"{user}@example.com", role=role)
    return Endpoint(f"{live.ws(token).url}?workspace=local", token)


async def first_answer(to: Endpoint) -> dict:
    """Send `start_agent` and return the first answer (an `ack` or an `error`)."""
    async with connected(to) as ws:
        await send(ws, "start_agent", message=PLAIN)
        return await receive(ws)


@pytest.mark.parametrize(("role", "answer"), [("viewer", ("error", "forbidden")), ("member", ("ack", None))])
def test_a_viewer_is_refused_forbidden_and_a_member_starts(live: Live, role: str, answer: tuple):
    """The viewer's refusal carries the `forbidden` code; the member's question is acknowledged."""
    got = asyncio.run(first_answer(in_local(live, role)))
    assert (got["type"], got["data"].get("code")) == answer

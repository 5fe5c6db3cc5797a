"""The token of a WebSocket, checked like the REST API's `signed_in`.

    await websocket.accept()
    claims = await authenticate(websocket, resources)   # None: refused, told why, and closed

The token comes from the `token` query parameter (browsers cannot set headers on a
WebSocket), else an `Authorization: Bearer` header. It is checked after the handshake, so a
refused client learns why: one `error` message, then the close code 4000 + the HTTP status
the REST API would answer (4401, 4403) with the error code as the reason.
"""

from __future__ import annotations

import json
from contextlib import suppress

from starlette.websockets import WebSocket, WebSocketDisconnect

from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import websocket_user
from netra.server.auth.errors import AuthError
from netra.server.auth.tokens import Claims
from netra.server.deps import signed_in
from netra.server.resources import AppResources
from netra.server.ws.protocol import AUTH_CLOSE_BASE, error_message

CLOSED = (WebSocketDisconnect, RuntimeError, OSError)  # what sending on a socket that went away raises


async def authenticate(websocket: WebSocket, resources: AppResources) -> Claims | None:
    """Return the claims of the accepted socket's token, checked like `signed_in`; None when refused.

    A refused token gets an `error` message (its code: `missing_token`, `invalid_token`,
    `token_expired`, `insufficient_scope`, ...), then the socket is closed with 4000 + the
    HTTP status the REST API would answer (4401, 4403) and the code as the reason.
    """
    try:
        return await _signed_in(websocket, resources)
    except AuthError as exc:
        await _refuse(websocket, exc)
    return None


async def _signed_in(websocket: WebSocket, resources: AppResources) -> Claims:
    claims = websocket_user(websocket, resources.settings)
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        return await signed_in(claims, uow, resources)


async def _refuse(websocket: WebSocket, exc: AuthError) -> None:
    with suppress(*CLOSED):
        await websocket.send_text(json.dumps(error_message(exc.code, str(exc))))
        await websocket.close(AUTH_CLOSE_BASE + exc.status, exc.code)



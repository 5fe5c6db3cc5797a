"""The token of a WebSocket: sent in its first frame, checked like `signed_in`, and checked again.

    await websocket.accept()
    guard = await authenticate(websocket, resources)    # None: refused, told why, and closed
    await guard.check()                                  # before each action, and on a timer (guard.wait_s)

A browser cannot set headers on a WebSocket, and a token in the URL ends up in access logs,
proxies and browser history; so the client sends it as its first frame,
`{"action": "auth", "data": {"token": "<JWT>"}}`, within `NETRA_WS_AUTH_TIMEOUT_S` (5 s).
Other clients may send an `Authorization: Bearer` header with the handshake instead. The URL
is never read. The token is checked like the REST API's `signed_in` (signature, expiry, the
`api` scope, not signed out, the user exists); a refused one gets one `error` message, then
the close code 4000 + the HTTP status the REST API would answer (4401, 4403, and 4503 when
sign-outs cannot be read), with the error code as the reason.

`TokenGuard` keeps the claims and checks them again before every action and on a timer (when
the token expires, and every heartbeat interval), so an open connection is closed with 4401
as soon as its token expires or is signed out, and never starts a run after that.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from netra.config import Settings
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import bearer_token
from netra.server.auth.errors import AuthError, MissingTokenError, TokenExpiredError
from netra.server.auth.tokens import Claims, token_config, validate_token
from netra.server.deps import signed_in
from netra.server.resources import AppResources
from netra.server.ws.protocol import AUTH_CLOSE_BASE, Auth, Data, FrameError, error_message, parse

CLOSED = (WebSocketDisconnect, RuntimeError, OSError)  # what sending on a socket that went away raises
AUTH_MODELS: dict[str, type[Data]] = {"auth": Auth}
FIRST_FRAME = 'send {{"action": "auth", "data": {{"token": "<JWT>"}}}} as the first frame, within {timeout:g} s'
EXPIRY_SLACK_S = 0.05  # the timed check wakes just after `exp`, when the token is expired for sure


@dataclass
class TokenGuard:
    """The claims of one connection's token, checked again before each action and on a timer."""

    resources: AppResources
    claims: Claims

    @classmethod
    async def checked(cls, resources: AppResources, token: str) -> TokenGuard:
        """Return the guard of `token`, validated and checked once like `signed_in` (AuthError otherwise)."""
        guard = cls(resources, validate_token(token_config(resources.settings), token))
        await guard.check()
        return guard

    async def check(self) -> Claims:
        """Return the claims while the token holds (with the user's stored role, read again).

        Raises:
            TokenExpiredError, InvalidTokenError: expired, signed out, or the user is gone (401).
            RevocationsUnavailableError: sign-outs cannot be read (503: fail closed).
        """
        if self.claims.expires_at <= time.time():
            raise TokenExpiredError("the token has expired: sign in again")
        async with self.resources.uow() as uow:
            self.claims = await signed_in(self.claims, uow)
        return self.claims

    def wait_s(self, every_s: float) -> float:
        """Return the time to the next timed check: `every_s`, or less when the token expires sooner."""
        return max(0.0, min(every_s, self.claims.expires_at - time.time() + EXPIRY_SLACK_S))


async def authenticate(websocket: WebSocket, resources: AppResources) -> TokenGuard | None:
    """Return the guard of the accepted socket's token, checked like `signed_in`; None when refused (and closed)."""
    try:
        return await TokenGuard.checked(resources, await _token(websocket, resources.settings))
    except AuthError as exc:
        await refuse(websocket, exc)
    return None


async def _token(websocket: WebSocket, settings: Settings) -> str:
    """Return the handshake's bearer token, else the token of the first frame."""
    header = websocket.headers.get("authorization")
    return bearer_token(header) if header else await _first_frame_token(websocket, settings.ws_auth_timeout_s)


async def _first_frame_token(websocket: WebSocket, timeout_s: float) -> str:
    """Return the token of the `auth` frame the client must send first (MissingTokenError otherwise)."""
    try:
        frame = await asyncio.wait_for(websocket.receive(), timeout_s)
        return parse(frame, AUTH_MODELS)[1].token  # type: ignore[attr-defined]
    except (TimeoutError, FrameError):
        raise MissingTokenError(FIRST_FRAME.format(timeout=timeout_s)) from None


async def refuse(websocket: WebSocket, exc: AuthError) -> None:
    """Tell the client why its token is refused, then close with 4000 + the HTTP status and the code."""
    with suppress(*CLOSED):
        await websocket.send_text(json.dumps(error_message(exc.code, str(exc))))
        await websocket.close(AUTH_CLOSE_BASE + exc.status, exc.code)

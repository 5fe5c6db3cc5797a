"""Route dependencies: the current user from a bearer token, role and scope checks.

    @router.get("/threads", dependencies=[Depends(require_scope("api"))])
    async def threads(user: Claims = Depends(current_user)): ...

    @router.delete("/catalog", dependencies=[Depends(require_role("admin"))])

WebSockets cannot send headers from browsers: `websocket_user(websocket, settings)` reads
the `token` query parameter instead. Errors are `AuthError`s (401/403), answered by routes
built with `route_class=AuthRoute` (or an app-wide `auth_error_handler`).
"""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import Depends, Request, WebSocket

from netra.config import Settings
from netra.server.auth.errors import ForbiddenError, MissingTokenError
from netra.server.auth.tokens import Claims, require_scopes, token_config, validate_token
from netra.config import get_settings

__all__ = ["bearer_token", "current_user", "require_role", "require_scope", "websocket_user"]


def bearer_token(authorization: str | None) -> str:
    """Return the token of an `Authorization: Bearer <token>` header.

    Raises:
        MissingTokenError: the header is absent or not a bearer credential.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingTokenError("send an 'Authorization: Bearer <token>' header")
    return token.strip()


def current_user(request: Request, settings: Settings = Depends(get_settings)) -> Claims:
    """Return the claims of the request's bearer token (401 when absent or invalid)."""
    token = bearer_token(request.headers.get("authorization"))
    return validate_token(token_config(settings), token)


def websocket_user(websocket: WebSocket, settings: Settings) -> Claims:
    """Return the claims of a WebSocket's `token` query parameter (else its bearer header)."""
    token = websocket.query_params.get("token") or bearer_token(websocket.headers.get("authorization"))
    return validate_token(token_config(settings), token)


def require_role(*roles: str) -> Callable[[Claims], Awaitable[Claims]]:
    """Return a dependency that lets only users with one of `roles` through (403 otherwise)."""
    async def check(user: Claims = Depends(current_user)) -> Claims:
        if user.role not in roles:
            raise ForbiddenError(f"this needs the role {' or '.join(map(repr, roles))}")
        return user
    return check


def require_scope(scope: str) -> Callable[[Claims], Awaitable[Claims]]:
    """Return a dependency that lets only tokens granting `scope` through (403 otherwise)."""
    async def check(user: Claims = Depends(current_user)) -> Claims:
        require_scopes(user, scope)
        return user
    return check

"""Route dependencies: the claims of the bearer token, and scope checks.

    @router.get("/threads", dependencies=[Depends(require_scope("api"))])
    async def threads(user: Claims = Depends(current_user)): ...

`current_user` checks the token only (signature, expiry, claims): the bearer token of the
`Authorization` header, or, when a request has none, the `x-api-key` header (`request_token`). Routes over records use
`netra.server.deps.signed_in` instead, which also refuses signed-out tokens and deleted
users and reads the stored role; role checks are `netra.server.deps.require_role`, never the
token's `role` claim. WebSockets authenticate with their first frame (`netra.server.ws.auth`).
Errors are `AuthError`s (401/403), answered by routes built with `route_class=AuthRoute` (or
an app-wide `auth_error_handler`).
"""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import Depends, Request

from netra.config import Settings, get_settings
from netra.server.auth.errors import MissingTokenError
from netra.server.auth.tokens import Claims, require_scopes, token_config, validate_token

__all__ = ["bearer_token", "current_user", "request_token", "require_scope"]


def bearer_token(authorization: str | None) -> str:
    """Return the token of an `Authorization: Bearer <token>` header.

    Raises:
        MissingTokenError: the header is absent or not a bearer credential.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingTokenError("send an 'Authorization: Bearer <token>' header")
    return token.strip()


def request_token(request: Request) -> str:
    """Return the request's token: `Authorization: Bearer`, else (no Authorization header) `x-api-key`.

    LangGraph Studio and agent-chat-ui send their key as `x-api-key`; the same token is read
    from it, never logged.

    Raises:
        MissingTokenError: neither header carries a token.
    """
    authorization, api_key = request.headers.get("authorization"), request.headers.get("x-api-key", "").strip()
    if authorization is None and api_key:
        return api_key
    return bearer_token(authorization)


def current_user(request: Request, settings: Settings = Depends(get_settings)) -> Claims:
    """Return the claims of the request's token (401 when absent or invalid)."""
    return validate_token(token_config(settings), request_token(request))


def require_scope(scope: str) -> Callable[[Claims], Awaitable[Claims]]:
    """Return a dependency that lets only tokens granting `scope` through (403 otherwise)."""
    async def check(user: Claims = Depends(current_user)) -> Claims:
        require_scopes(user, scope)
        return user
    return check

"""Authentication errors and how they are answered.

Every error carries its HTTP status and a slug; the answer's body is

    {"error": {"code": "token_expired", "message": "the token has expired"}}

with `WWW-Authenticate: Bearer` on a 401.

    AuthError                         401 unauthorized
    ├── MissingTokenError             401 missing_token
    ├── InvalidTokenError             401 invalid_token (also: signed out, user deleted)
    │   ├── TokenExpiredError         401 token_expired
    │   └── MissingClaimsError        401 missing_claims
    ├── ForbiddenError                403 forbidden (the stored role does not fit)
    │   └── InsufficientScopeError    403 insufficient_scope
    ├── LoginError                    400 login_failed (OAuth state, code, configuration)
    │   ├── IdTokenError              401 invalid_id_token
    │   └── LoginRefusedError         403 login_refused
    ├── RevocationsUnavailableError   503 service_unavailable (fail closed)
    └── DevLoginDisabledError         404 not_found

Routes on a router built with
`route_class=AuthRoute` answer them; `auth_error_handler` does the same as an app-wide
exception handler (`app.add_exception_handler(AuthError, auth_error_handler)`).
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from netra.errors import NetraError
from netra.server.middleware import current_request_id

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class AuthError(NetraError):
    """The request is not authenticated (401)."""

    status = 401
    code = "unauthorized"


class MissingTokenError(AuthError):
    """No bearer token was sent."""

    code = "missing_token"


class InvalidTokenError(AuthError):
    """The token is malformed, its signature does not verify or its algorithm is not allowed."""

    code = "invalid_token"


class TokenExpiredError(InvalidTokenError):
    """The token's `exp` has passed."""

    code = "token_expired"


class MissingClaimsError(InvalidTokenError):
    """The token lacks a required claim."""

    code = "missing_claims"


class ForbiddenError(AuthError):
    """The user is authenticated but may not do this (403)."""

    status = 403
    code = "forbidden"


class InsufficientScopeError(ForbiddenError):
    """The token's `scope` does not grant what the route needs."""

    code = "insufficient_scope"


class LoginError(AuthError):
    """The OAuth login could not be completed (bad state, refused code, no verified email)."""

    status = 400
    code = "login_failed"


class IdTokenError(LoginError):
    """The provider's id_token failed validation: signature, issuer, audience, expiry or nonce (401)."""

    status = 401
    code = "invalid_id_token"


class LoginRefusedError(LoginError):
    """The provider vouched for someone Netra does not let in: no verified email, a domain not
    allowed, or an email already linked to another identity (403)."""

    status = 403
    code = "login_refused"


class RevocationsUnavailableError(AuthError):
    """The sign-out list cannot be read or written (the records database failed): fail closed (503)."""

    status = 503
    code = "service_unavailable"


class DevLoginDisabledError(AuthError):
    """`POST /auth/dev-login` outside `NETRA_AUTH_MODE=dev`: the route does not exist."""

    status = 404
    code = "not_found"


def auth_response(exc: AuthError) -> JSONResponse:
    """Return the JSON answer of an authentication error."""
    headers = {"WWW-Authenticate": f'Bearer error="{exc.code}"'} if exc.status == 401 else None
    body = {"error": {"code": exc.code, "message": str(exc), "request_id": current_request_id()}}
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def auth_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler answering an `AuthError` (for `app.add_exception_handler`)."""
    assert isinstance(exc, AuthError)
    return auth_response(exc)


class AuthRoute(APIRoute):
    """A route that answers `AuthError`s raised by its dependencies or endpoint."""

    def get_route_handler(self) -> Endpoint:
        """Return the route's handler wrapped to answer authentication errors."""
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except AuthError as exc:
                return auth_response(exc)
        return answer

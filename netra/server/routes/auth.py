"""Sign-in routes: development login, OAuth / OpenID Connect login, callback and exchange, logout, me.

    POST /auth/dev-login {"email": "ada@example.com"}   -> {"access_token": "...", ...}  (NETRA_AUTH_MODE=dev only)
    GET  /auth/login                                     -> 302 to the provider
    GET  /auth/callback?code=...&state=...               -> 303 to "/", a one-time code in an HttpOnly cookie
    POST /auth/exchange  (that cookie)                   -> {"access_token": "...", ...}; 204 when there is none
    POST /auth/logout  (Authorization: Bearer ...)       -> 204, cookies cleared, the token revoked (503: not)
    GET  /auth/me      (Authorization: Bearer ...)       -> the current user

No sign-in takes a role from the request: the dev login refuses a `role` field (422), and
roles change only through the admin API or `netra users role`. Answers that carry a token,
and the callback, are `Cache-Control: no-store`. Errors answer
`{"error": {"code": ..., "message": ...}}` with 400/401/403/404/503.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from netra.config import Settings
from netra.persistence.models import User
from netra.persistence.uow import UnitOfWork
from netra.server.auth import handoff, oauth, records
from netra.server.auth.deps import current_user
from netra.server.auth.errors import AuthError, AuthRoute, DevLoginDisabledError, InvalidTokenError
from netra.server.auth.revocations import revoke
from netra.server.auth.tokens import Claims, Subject, issue_token, token_config
from netra.server.deps import get_settings, get_uow, signed_in

router = APIRouter(prefix="/auth", tags=["auth"], route_class=AuthRoute)
NO_EXCHANGE = {204: {"description": "no sign-in to finish: the request carries no one-time code"}}


class DevLogin(BaseModel):
    """The development login's body: who to sign in as (a `role` or any other field is refused)."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)


class UserOut(BaseModel):
    """A user as the API shows it."""

    id: str
    email: str
    name: str
    role: str


class TokenOut(BaseModel):
    """A sign-in's answer: the bearer token, its lifetime and the user."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


def _user_out(user: User) -> UserOut:
    """Return the API view of a user."""
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role)


def _token_answer(user: User, settings: Settings) -> JSONResponse:
    """Return a fresh token for `user`, not to be stored by any cache."""
    token = issue_token(token_config(settings), Subject(user.id, user.email, user.role))
    body = TokenOut(access_token=token, expires_in=settings.jwt_ttl_s, user=_user_out(user))
    return JSONResponse(body.model_dump(), headers=handoff.NO_STORE)


@router.post("/dev-login", response_model=TokenOut)
async def dev_login(body: DevLogin, settings: Settings = Depends(get_settings)) -> Response:
    """Sign in as any email, no password (only when `NETRA_AUTH_MODE=dev`; 404 otherwise)."""
    if settings.auth_mode != "dev":
        raise DevLoginDisabledError("not found: the development login is off (NETRA_AUTH_MODE=oauth)")
    return _token_answer(await records.sign_in(settings, body.email, name=body.name), settings)


@router.get("/login")
async def login(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    """Redirect to the OAuth provider's authorization page."""
    return await oauth.login_redirect(request, settings)


@router.get("/callback", name="oauth_callback", status_code=303, response_class=RedirectResponse)
async def callback(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    """Check the provider's answer, create or update the user, and finish the sign-in in the page."""
    identity = await oauth.callback_identity(request, settings)
    user = await records.sign_in_identity(settings, identity)
    secure = oauth.redirect_url(request, settings).startswith("https://")
    response = handoff.finish_in_page(settings, user.id, secure)
    oauth.clear_state(response)
    return response


async def _redeemed(request: Request, settings: Settings, uow: UnitOfWork) -> User | None:
    """Return the user of the request's one-time code (None without one; 401 for a bad one)."""
    user_id = await handoff.redeem(request, settings, uow)
    user = await uow.users.get(user_id) if user_id else None
    if user_id and user is None:
        raise InvalidTokenError("the sign-in code's user no longer exists")
    return user


@router.post("/exchange", response_model=TokenOut, responses=NO_EXCHANGE)
async def exchange(request: Request, settings: Settings = Depends(get_settings),
                   uow: UnitOfWork = Depends(get_uow)) -> Response:
    """Trade the callback's one-time code (its HttpOnly cookie) for a token, once; 204 without a code."""
    user = await _redeemed(request, settings, uow)
    answer = _token_answer(user, settings) if user else Response(status_code=204, headers=handoff.NO_STORE)
    handoff.forget_code(answer)
    return answer


def _bearer_claims(request: Request, settings: Settings) -> Claims | None:
    """Return the claims of the request's valid bearer token, or None (nothing to revoke)."""
    try:
        return current_user(request, settings)
    except AuthError:
        return None


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, settings: Settings = Depends(get_settings),
                 uow: UnitOfWork = Depends(get_uow)) -> None:
    """Forget the login state and revoke the bearer token sent with it, durably (503 when it cannot be)."""
    oauth.clear_state(response)
    handoff.forget_code(response)
    claims = _bearer_claims(request, settings)
    if claims is not None:
        await revoke(uow, claims)


@router.get("/me", response_model=UserOut)
async def me(claims: Claims = Depends(signed_in), uow: UnitOfWork = Depends(get_uow)) -> UserOut:
    """Return the signed-in user (401 when signed out or the user no longer exists)."""
    user = await uow.users.get(claims.user_id)
    assert user is not None  # `signed_in` checked it
    return _user_out(user)

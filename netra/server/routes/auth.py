"""Sign-in routes: development login, OAuth / OpenID Connect login and callback, logout, me.

    POST /auth/dev-login {"email": "ada@example.com"}   -> {"access_token": "...", ...}  (dev mode only)
    GET  /auth/login                                     -> 302 to the provider
    GET  /auth/callback?code=...&state=...               -> {"access_token": "...", ...}
    POST /auth/logout  (Authorization: Bearer ...)       -> 204, cookies cleared, the token revoked
    GET  /auth/me      (Authorization: Bearer ...)       -> the current user

Errors answer `{"error": {"code": ..., "message": ...}}` with 400/401/403/404.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from netra.config import Settings
from netra.persistence.models import User
from netra.persistence.models.users import Role
from netra.server.auth import oauth, records
from netra.server.auth.deps import current_user
from netra.server.auth.errors import AuthError, AuthRoute, DevLoginDisabledError
from netra.server.auth.tokens import Claims, Subject, issue_token, token_config
from netra.persistence.uow import UnitOfWork
from netra.server.deps import AppResources, get_resources, get_settings, get_uow, revoke, signed_in

router = APIRouter(prefix="/auth", tags=["auth"], route_class=AuthRoute)


class DevLogin(BaseModel):
    """The development login's body: who to sign in as."""

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)
    role: Role | None = None  # None: a new user gets `user`, an existing one keeps theirs


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


def _token_out(user: User, settings: Settings) -> TokenOut:
    """Return a fresh token for `user`."""
    token = issue_token(token_config(settings), Subject(user.id, user.email, user.role))
    return TokenOut(access_token=token, expires_in=settings.jwt_ttl_s, user=_user_out(user))


@router.post("/dev-login", response_model=TokenOut)
async def dev_login(body: DevLogin, settings: Settings = Depends(get_settings)) -> TokenOut:
    """Sign in as any email, no password (only when `NETRA_AUTH_MODE=dev`; 404 otherwise)."""
    if settings.auth_mode != "dev":
        raise DevLoginDisabledError("not found: the development login is off (NETRA_AUTH_MODE=oauth)")
    user = await records.sign_in(settings, body.email, name=body.name, role=body.role.value if body.role else "")
    return _token_out(user, settings)


@router.get("/login")
async def login(request: Request, settings: Settings = Depends(get_settings)) -> Response:
    """Redirect to the OAuth provider's authorization page."""
    return await oauth.login_redirect(request, settings)


@router.get("/callback", name="oauth_callback", response_model=TokenOut)
async def callback(request: Request, response: Response, settings: Settings = Depends(get_settings)) -> TokenOut:
    """Exchange the provider's code, create or update the user, and answer a Netra token."""
    identity = await oauth.callback_identity(request, settings)
    user = await records.sign_in(settings, identity.email, name=identity.name)
    oauth.clear_state(response)
    return _token_out(user, settings)


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, settings: Settings = Depends(get_settings),
                 resources: AppResources = Depends(get_resources)) -> None:
    """Forget the login state and revoke the bearer token sent with it (refused from now on)."""
    oauth.clear_state(response)
    try:
        revoke(resources, current_user(request, settings), time.time())
    except AuthError:  # no token, or one that is already unusable: nothing to revoke
        pass


@router.get("/me", response_model=UserOut)
async def me(claims: Claims = Depends(signed_in), uow: UnitOfWork = Depends(get_uow)) -> UserOut:
    """Return the signed-in user (401 when signed out or the user no longer exists)."""
    user = await uow.users.get(claims.user_id)
    assert user is not None  # `signed_in` checked it
    return _user_out(user)

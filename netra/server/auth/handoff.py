"""The end of an OAuth sign-in: from the callback to the page, with no token in any URL.

    response = finish_in_page(settings, user.id, secure)    # GET /auth/callback: 303 to "/", a one-time code set
    user_id = await redeem(request, settings, uow)           # POST /auth/exchange: that code, once -> the user

The callback hands no token to the page through its address: a `/#access_token=...` link is
one anyone can craft, and opening it would sign the victim into the crafter's account. The
callback sets `netra_login` instead, a one-time code (a JWT for the audience `netra-login`,
valid HANDOFF_TTL_S) in an HttpOnly, SameSite=Lax cookie scoped to `/auth/exchange`, and
redirects to the page with `Cache-Control: no-store`. The page then POSTs `/auth/exchange`
from its own origin and gets the access token in the answer's body. The code's `jti` goes
into `token_revocations`, so it is redeemed once, on whichever server process, and the cookie
is cleared. Another site can neither set that cookie nor have a browser send it with a
cross-site POST (SameSite=Lax), nor read the exchange's answer (no CORS for it).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from netra.config import Settings
from netra.persistence.uow import UnitOfWork
from netra.server.auth.errors import InvalidTokenError
from netra.server.auth.revocations import use_once
from netra.server.auth.tokens import jwt_secret

HANDOFF_COOKIE = "netra_login"
HANDOFF_AUDIENCE = "netra-login"
HANDOFF_PATH = "/auth/exchange"
HANDOFF_TTL_S = 120
PAGE = "/"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _code(settings: Settings, user_id: str) -> str:
    """Return a signed one-time code naming `user_id`."""
    now = int(time.time())
    claims = {"sub": user_id, "aud": HANDOFF_AUDIENCE, "iat": now, "exp": now + HANDOFF_TTL_S,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, jwt_secret(settings), algorithm="HS256")


def finish_in_page(settings: Settings, user_id: str, secure: bool) -> Response:
    """Return the redirect to the page, carrying the user's one-time code in an HttpOnly cookie."""
    response = RedirectResponse(PAGE, status_code=303, headers=NO_STORE)
    response.set_cookie(HANDOFF_COOKIE, _code(settings, user_id), max_age=HANDOFF_TTL_S, path=HANDOFF_PATH,
                        httponly=True, secure=secure, samesite="lax")
    return response


def _verified(code: str, settings: Settings) -> dict[str, Any]:
    """Return the claims of a genuine, unexpired code (InvalidTokenError otherwise)."""
    try:
        return jwt.decode(code, jwt_secret(settings), algorithms=["HS256"], audience=HANDOFF_AUDIENCE,
                          options={"require": ["sub", "exp", "jti"]})
    except jwt.PyJWTError:
        raise InvalidTokenError("the sign-in code is not valid or has expired: sign in again") from None


async def redeem(request: Request, settings: Settings, uow: UnitOfWork) -> str | None:
    """Return the user id of the request's one-time code, now used up; None when the request has none.

    Raises:
        InvalidTokenError: the code is forged, expired or was redeemed before (401).
        RevocationsUnavailableError: its use cannot be recorded (503).
    """
    code = request.cookies.get(HANDOFF_COOKIE)
    if not code:
        return None
    claims = _verified(code, settings)
    if not await use_once(uow, str(claims["jti"]), int(claims["exp"])):
        raise InvalidTokenError("the sign-in code was used already: sign in again")
    return str(claims["sub"])


def forget_code(response: Response) -> None:
    """Remove the one-time code cookie."""
    response.delete_cookie(HANDOFF_COOKIE, path=HANDOFF_PATH)

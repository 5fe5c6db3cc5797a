"""OAuth 2.0 / OpenID Connect sign-in through Authlib's Starlette client.

The provider is `NETRA_OAUTH_ISSUER` (Google by default), configured from its discovery
document `{issuer}/.well-known/openid-configuration`, with the `openid email profile` scopes
and PKCE (S256). Authlib keeps the login's state, nonce and code verifier in
`request.session`; instead of a server-side session, that dict travels in a short-lived
HttpOnly cookie signed as a JWT (audience `netra-oauth-state`) with the app's token secret.

    response = await login_redirect(request, settings)           # GET /auth/login
    identity = await callback_identity(request, settings)        # GET /auth/callback

The identity is the id_token's (issuer, subject) with its email, accepted only when
`email_verified` is exactly `true` and, when `NETRA_OAUTH_ALLOWED_DOMAINS` lists domains,
the email's domain is one of them (403 `login_refused` otherwise). Authlib's and joserfc's
errors are translated by `PROVIDER_ERRORS`: a refused state or code is 400 `login_failed`,
an id_token that fails validation 401 `invalid_id_token`, a provider that cannot be reached
503; never a 500.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, NamedTuple

import httpx
import jwt
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import Request, Response
from joserfc.errors import JoseError

from netra.config import Settings
from netra.errors import NetraError, ServiceError
from netra.server.auth.errors import IdTokenError, LoginError, LoginRefusedError
from netra.server.auth.records import Identity
from netra.server.auth.tokens import jwt_secret

PROVIDER = "netra"
SCOPES = "openid email profile"
STATE_COOKIE = "netra_oauth_state"
STATE_AUDIENCE = "netra-oauth-state"
STATE_TTL_S = 600
# a failure of the callback's exchange -> (our error, message); the first matching row wins
PROVIDER_ERRORS: tuple[tuple[type[Exception], type[NetraError], str], ...] = (
    (JoseError, IdTokenError, "the provider's id_token is not valid (signature, issuer, audience, expiry or nonce)"),
    (OAuthError, LoginError, "the sign-in could not be completed: the login state or code was refused"),
    (AuthlibBaseError, IdTokenError, "the provider's id_token is not valid"),  # older authlib: its own jose errors
    (httpx.HTTPError, ServiceError, "the identity provider could not be reached: try again"),
    (Exception, LoginError, "the sign-in could not be completed: bad login state"),  # KeyError, TypeError, ValueError
)
EXCHANGE_ERRORS = (JoseError, AuthlibBaseError, httpx.HTTPError, KeyError, TypeError, ValueError)


class ClientKey(NamedTuple):
    """What a registered client depends on (the secret stays out of logs: it is not in `repr`)."""

    issuer: str
    client_id: str
    secret: str

    def __repr__(self) -> str:
        return f"ClientKey(issuer={self.issuer!r}, client_id={self.client_id!r}, secret=***)"


def discovery_url(issuer: str) -> str:
    """Return the issuer's OpenID discovery document URL."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


@lru_cache(maxsize=8)
def _client(key: ClientKey) -> StarletteOAuth2App:
    """Return the Authlib client registered for `key` (one per configuration)."""
    registry = OAuth()
    kwargs = {"scope": SCOPES, "code_challenge_method": "S256"}
    return registry.register(PROVIDER, client_id=key.client_id, client_secret=key.secret,
                             server_metadata_url=discovery_url(key.issuer), client_kwargs=kwargs)


def oauth_client(settings: Settings) -> StarletteOAuth2App:
    """Return the OAuth client of `settings`.

    Raises:
        LoginError: `NETRA_OAUTH_CLIENT_ID` is not set.
    """
    if not settings.oauth_client_id:
        raise LoginError("OAuth sign-in is not configured: set NETRA_OAUTH_CLIENT_ID")
    secret = settings.oauth_client_secret.get_secret_value()
    return _client(ClientKey(settings.oauth_issuer, settings.oauth_client_id, secret))


def _load_state(request: Request, settings: Settings) -> dict[str, Any]:
    """Return the login state kept in the signed cookie ({} when absent or invalid)."""
    cookie = request.cookies.get(STATE_COOKIE, "")
    try:
        return jwt.decode(cookie, jwt_secret(settings), algorithms=["HS256"], audience=STATE_AUDIENCE)["session"]
    except (jwt.PyJWTError, KeyError):
        return {}


def _state_cookie(session: dict[str, Any], settings: Settings) -> str:
    """Return the signed cookie value holding `session`."""
    now = int(time.time())
    claims = {"session": session, "aud": STATE_AUDIENCE, "iat": now, "exp": now + STATE_TTL_S}
    return jwt.encode(claims, jwt_secret(settings), algorithm="HS256")


def redirect_url(request: Request, settings: Settings) -> str:
    """Return the callback URL: `NETRA_OAUTH_REDIRECT_URL`, else this server's `/auth/callback`."""
    return settings.oauth_redirect_url or str(request.url_for("oauth_callback"))


async def login_redirect(request: Request, settings: Settings) -> Response:
    """Return the redirect to the provider, the login's state set in a signed cookie."""
    request.scope["session"] = {}
    response = await oauth_client(settings).authorize_redirect(request, redirect_url(request, settings))
    secure = redirect_url(request, settings).startswith("https://")
    response.set_cookie(STATE_COOKIE, _state_cookie(request.scope["session"], settings), max_age=STATE_TTL_S,
                        path="/auth", httponly=True, secure=secure, samesite="lax")
    return response


def _translated(exc: Exception) -> NetraError:
    """Return our error for a failure of the provider exchange (its message never quotes the provider)."""
    error, message = next((ours, text) for theirs, ours, text in PROVIDER_ERRORS if isinstance(exc, theirs))
    return error(message)


async def _exchange(request: Request, settings: Settings) -> dict[str, Any]:
    """Return the id_token's claims (else the userinfo) for the callback's code: state, nonce, PKCE checked."""
    request.scope["session"] = _load_state(request, settings)
    client = oauth_client(settings)
    try:
        token = await client.authorize_access_token(request)
        return dict(token.get("userinfo") or await client.userinfo(token=token))
    except EXCHANGE_ERRORS as exc:
        raise _translated(exc) from None


def allowed_domain(email: str, settings: Settings) -> bool:
    """Return whether the email's domain may sign in (any, when NETRA_OAUTH_ALLOWED_DOMAINS is empty)."""
    domains = {domain.strip().lower().lstrip("@") for domain in settings.oauth_allowed_domains}
    return not domains or email.rpartition("@")[2].lower() in domains


def identity_of(claims: dict[str, Any], settings: Settings) -> Identity:
    """Return the identity of verified provider claims.

    Raises:
        LoginRefusedError: no subject or email, `email_verified` not exactly `true`, or a domain not allowed.
    """
    if not claims.get("sub") or not claims.get("email") or claims.get("email_verified") is not True:
        raise LoginRefusedError("the provider did not vouch for a verified email (email_verified must be true)")
    if not allowed_domain(str(claims["email"]), settings):
        raise LoginRefusedError("this email domain may not sign in here (NETRA_OAUTH_ALLOWED_DOMAINS)")
    issuer = str(claims.get("iss") or settings.oauth_issuer)
    return Identity(issuer, str(claims["sub"]), str(claims["email"]), str(claims.get("name") or ""))


async def callback_identity(request: Request, settings: Settings) -> Identity:
    """Return the identity of the user who signed in at the provider.

    Raises:
        LoginError: the state or code is refused (400); IdTokenError: the id_token is not valid (401);
        LoginRefusedError: no verified email, or a domain not allowed (403); ServiceError: the provider is down (503).
    """
    return identity_of(await _exchange(request, settings), settings)


def clear_state(response: Response) -> None:
    """Remove the login state cookie."""
    response.delete_cookie(STATE_COOKIE, path="/auth")

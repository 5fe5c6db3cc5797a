"""Netra's access tokens: HS256 JWTs with `sub`, `user_id`, `exp`, `iat`, `scope`, `jti` (+ `email`, `role`).

    config = token_config(settings)
    token = issue_token(config, Subject(user.id, user.email, user.role))
    claims = validate_token(config, token, scope="api")   # raises an AuthError subclass

The signing secret is `NETRA_JWT_SECRET` (at least 32 characters, and 48 / 64 bytes for
HS384 / HS512) when set; otherwise it is derived with HKDF-SHA256 from `NETRA_SECRET_KEY` (at
least 32 characters), or, in development, from the random secret kept in
`NETRA_HOME/secret.key` (see `netra.persistence.crypto`). Only the configured HMAC algorithm is
accepted on validation, so `alg: none` and algorithm confusion are refused.

A token's `role` claim is what the user had at sign-in, for clients to show; role checks read
the stored role (`netra.server.deps.signed_in`), so a demotion counts at once.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netra.config import Settings
from netra.errors import ConfigError
from netra.persistence.crypto import resolve_secret
from netra.server.auth.errors import (AuthError, InsufficientScopeError, InvalidTokenError, MissingClaimsError,
                                      TokenExpiredError)

DEFAULT_SCOPE = "api"
REQUIRED_CLAIMS = ("sub", "user_id", "exp", "iat", "scope", "jti")  # jti: what a sign-out revokes
MIN_SECRET_CHARS = 32
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}  # RFC 7518 section 3.2
_SALT = b"netra/auth/v1"
_INFO = b"jwt:access-tokens"
# pyjwt error -> (our error, message); the first matching row wins, so subclasses come first
JWT_ERRORS: tuple[tuple[type[Exception], type[AuthError], str], ...] = (
    (jwt.ExpiredSignatureError, TokenExpiredError, "the token has expired"),
    (jwt.MissingRequiredClaimError, MissingClaimsError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, InvalidTokenError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, InvalidTokenError, "the token's algorithm is not allowed"),
    (jwt.ImmatureSignatureError, InvalidTokenError, "the token is not valid yet"),
    (jwt.PyJWTError, InvalidTokenError, "the token is malformed"),
)


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are signed: secret, HMAC algorithm and lifetime in seconds."""

    secret: str
    algorithm: str = "HS256"
    ttl_s: int = 3600
    audience: str | None = None

    def __repr__(self) -> str:
        return f"TokenConfig(secret=***, algorithm={self.algorithm!r}, ttl_s={self.ttl_s})"


@dataclass(frozen=True)
class Subject:
    """Who a token is issued to."""

    user_id: str
    email: str = ""
    role: str = "user"


@dataclass(frozen=True)
class Claims:
    """The validated claims of a token."""

    user_id: str
    email: str
    role: str
    scopes: frozenset[str]
    expires_at: int
    raw: dict[str, Any]


def derive_jwt_secret(secret: str) -> str:
    """Return the urlsafe-base64 HMAC key HKDF-SHA256 derives from the app secret."""
    raw = HKDF(algorithm=hashes.SHA256(), length=64, salt=_SALT, info=_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw).decode("ascii")


def strong_key(name: str, value: str, least_bytes: int = MIN_SECRET_CHARS) -> str:
    """Return the key `value`; a ConfigError names `name` when it is under 32 characters or `least_bytes` bytes.

    The message gives the key's length, never the key.
    """
    least = max(MIN_SECRET_CHARS, least_bytes)
    if len(value) < MIN_SECRET_CHARS or len(value.encode()) < least_bytes:
        raise ConfigError(f"{name} must be at least {least} characters long, not {len(value)}: "
                          "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return value


def jwt_secret(settings: Settings) -> str:
    """Return `NETRA_JWT_SECRET`, else the key derived from the app secret.

    Raises:
        ConfigError: the key is too short: `NETRA_JWT_SECRET` under 32 characters or under the
            algorithm's key size (48 bytes for HS384, 64 for HS512), or the app secret it is
            derived from (`NETRA_SECRET_KEY`) under 32 characters. `netra serve` and the app's
            start-up check it, so a weak key stops the server before it signs anything.
    """
    configured = settings.jwt_secret.get_secret_value()
    if configured:
        return strong_key(f"NETRA_JWT_SECRET ({settings.jwt_algorithm})", configured,
                          MIN_KEY_BYTES[settings.jwt_algorithm])
    return derive_jwt_secret(strong_key("NETRA_SECRET_KEY", resolve_secret(settings)))


def token_config(settings: Settings) -> TokenConfig:
    """Return the token configuration of `settings`."""
    return TokenConfig(jwt_secret(settings), settings.jwt_algorithm, settings.jwt_ttl_s)


def issue_token(config: TokenConfig, subject: Subject, scope: str = DEFAULT_SCOPE, now: float | None = None) -> str:
    """Return a signed token for `subject` granting `scope` (space-separated), valid `ttl_s` from `now`."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": subject.user_id, "user_id": subject.user_id, "email": subject.email, "role": subject.role,
              "scope": scope, "iat": issued, "exp": issued + config.ttl_s, "jti": uuid.uuid4().hex}
    if config.audience:
        claims["aud"] = config.audience
    return jwt.encode(claims, config.secret, algorithm=config.algorithm)


def _decode(config: TokenConfig, token: str) -> dict[str, Any]:
    """Return the verified payload, raising pyjwt's errors."""
    options = {"require": list(REQUIRED_CLAIMS)}
    return jwt.decode(token, config.secret, algorithms=[config.algorithm], options=options,
                      audience=config.audience)


def _translated(exc: jwt.PyJWTError) -> AuthError:
    """Return our error for a pyjwt error."""
    error, message = next((ours, text) for theirs, ours, text in JWT_ERRORS if isinstance(exc, theirs))
    return error(message)


def decode_token(config: TokenConfig, token: str) -> dict[str, Any]:
    """Return the verified payload of a token.

    Raises:
        TokenExpiredError, MissingClaimsError, InvalidTokenError: the token is not acceptable.
    """
    try:
        return _decode(config, token)
    except jwt.PyJWTError as exc:
        raise _translated(exc) from None


def _claims(payload: dict[str, Any]) -> Claims:
    """Return the claims of a verified payload."""
    if not payload["sub"] or payload["sub"] != payload["user_id"]:
        raise MissingClaimsError("the token's sub and user_id do not name one user")
    scopes = frozenset(str(payload["scope"]).split())
    return Claims(str(payload["user_id"]), str(payload.get("email", "")), str(payload.get("role", "user")),
                  scopes, int(payload["exp"]), payload)


def require_scopes(claims: Claims, scope: str) -> None:
    """Check the token grants `scope`.

    Raises:
        InsufficientScopeError: it does not.
    """
    if scope not in claims.scopes:
        raise InsufficientScopeError(f"the token does not grant the {scope!r} scope")


def validate_token(config: TokenConfig, token: str, scope: str | None = None) -> Claims:
    """Return the claims of a valid token, checking it grants `scope` when given.

    Raises:
        TokenExpiredError, MissingClaimsError, InvalidTokenError: 401.
        InsufficientScopeError: 403.
    """
    claims = _claims(decode_token(config, token))
    if scope is not None:
        require_scopes(claims, scope)
    return claims

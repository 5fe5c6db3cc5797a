"""Netra access tokens: issue and validate; expired, tampered, missing-claim, wrong-scope, `alg: none`."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from netra.config import Settings
from netra.errors import ConfigError
from netra.server.auth.errors import (InsufficientScopeError, InvalidTokenError, MissingClaimsError,
                                      TokenExpiredError)
from netra.server.auth.tokens import Subject, TokenConfig, issue_token, token_config, validate_token

CONFIG = TokenConfig("unit-test-secret-" + "s" * 64, "HS256", 3600)
ADA = Subject("u-1", "ada@example.com", "admin")


def _signed(claims: dict, secret: str = CONFIG.secret, algorithm: str = "HS256") -> str:
    """A token of exactly `claims`."""
    return jwt.encode(claims, secret, algorithm=algorithm)


def _tampered(token: str) -> str:
    """The token with its payload's role rewritten and the signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned(claims: dict) -> str:
    """An `alg: none` token of `claims`."""
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


NOW = int(time.time())
# a day of validity: the suite may run long after this module is imported
FULL = {"sub": "u-1", "user_id": "u-1", "scope": "api", "iat": NOW, "exp": NOW + 86400, "jti": "j-1"}


def test_issued_token_validates_with_its_claims():
    """A fresh token carries sub, user_id, email, role, scope, iat and exp."""
    claims = validate_token(CONFIG, issue_token(CONFIG, ADA), scope="api")
    assert (claims.user_id, claims.email, claims.role, claims.scopes) == ("u-1", "ada@example.com", "admin",
                                                                          frozenset({"api"}))
    assert claims.raw["sub"] == "u-1" and claims.expires_at - claims.raw["iat"] == 3600


# token, error, words in the message
REFUSED = [
    (issue_token(CONFIG, ADA, now=NOW - 7200), TokenExpiredError, "expired"),
    (_tampered(issue_token(TokenConfig(CONFIG.secret), Subject("u-2"))), InvalidTokenError, "signature"),
    (issue_token(TokenConfig("another-secret-" + "o" * 64), ADA), InvalidTokenError, "signature"),
    (_signed({k: v for k, v in FULL.items() if k != "exp"}), MissingClaimsError, "claim"),
    (_signed({k: v for k, v in FULL.items() if k != "user_id"}), MissingClaimsError, "claim"),
    (_signed({k: v for k, v in FULL.items() if k != "jti"}), MissingClaimsError, "claim"),
    (_signed({**FULL, "user_id": "u-9"}), MissingClaimsError, "sub and user_id"),
    (_unsigned(FULL), InvalidTokenError, "algorithm"),
    (_signed(FULL, algorithm="HS512"), InvalidTokenError, "algorithm"),
    ("not-a-token", InvalidTokenError, "malformed"),
]


@pytest.mark.parametrize(("token", "error", "words"), REFUSED,
                         ids=["expired", "tampered", "other-secret", "no-exp", "no-user_id", "no-jti", "sub-mismatch",
                              "alg-none", "wrong-alg", "garbage"])
def test_refused_tokens_raise_a_clear_error(token: str, error: type, words: str):
    """Each unacceptable token raises its own error, with a message that says why."""
    with pytest.raises(error, match=words) as raised:
        validate_token(CONFIG, token)
    assert raised.value.status == 401


def test_wrong_scope_is_forbidden():
    """A valid token without the needed scope raises a 403 error."""
    with pytest.raises(InsufficientScopeError, match="'admin' scope") as raised:
        validate_token(CONFIG, issue_token(CONFIG, ADA, scope="api read"), scope="admin")
    assert (raised.value.status, raised.value.code) == (403, "insufficient_scope")


def test_dev_secret_is_derived_and_stable(tmp_path):
    """Without NETRA_JWT_SECRET the key comes from the secret under NETRA_HOME, the same every time."""
    first, again = token_config(Settings(home=tmp_path)), token_config(Settings(home=tmp_path))
    assert first.secret == again.secret and len(first.secret) >= 32
    assert (tmp_path / "secret.key").exists() and "***" in repr(first) and first.secret not in repr(first)
    assert token_config(Settings(home=tmp_path / "other")).secret != first.secret


# algorithm, NETRA_JWT_SECRET, NETRA_SECRET_KEY, the setting the error names
SHORT_KEYS = [
    ("HS256", "s" * 31, "", r"NETRA_JWT_SECRET \(HS256\) must be at least 32 characters long, not 31"),
    ("HS256", "é" * 31, "", r"NETRA_JWT_SECRET \(HS256\) must be at least 32 characters long, not 31"),
    ("HS512", "s" * 63, "", r"NETRA_JWT_SECRET \(HS512\) must be at least 64 characters long, not 63"),
    ("HS256", "", "k" * 12, "NETRA_SECRET_KEY must be at least 32 characters long, not 12"),
]


@pytest.mark.parametrize(("algorithm", "secret", "app_secret", "message"), SHORT_KEYS,
                         ids=["hs256-31", "hs256-31-multibyte", "hs512-63", "short-app-secret"])
def test_short_signing_key_is_refused(tmp_path, algorithm: str, secret: str, app_secret: str, message: str):
    """A signing key under 32 characters (or the algorithm's key size) is a configuration error naming it."""
    settings = Settings(home=tmp_path, jwt_secret=secret, secret_key=app_secret, jwt_algorithm=algorithm)
    with pytest.raises(ConfigError, match=message) as raised:
        token_config(settings)
    assert (secret or app_secret) not in str(raised.value)


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_derived_secret_fits_every_algorithm(tmp_path, algorithm: str):
    """The derived key is long enough for every HMAC algorithm (no insecure-key warning)."""
    config = token_config(Settings(home=tmp_path, jwt_algorithm=algorithm))
    assert validate_token(config, issue_token(config, ADA)).user_id == "u-1"

"""A tiny OpenID provider for sign-in tests: discovery, an auto-approving authorize, token, userinfo, JWKS.

    provider = Provider(issuer_url)
    with serving(lambda url: provider.app()) as issuer: ...
    provider.person = {**ALICE, "email_verified": "true"}      # who signs in next
    provider.tampered = {"aud": "someone-else"}                # id_token claims to override (validation tests)
    provider.signing_key = other_key                           # sign with a key the JWKS does not hold

The token endpoint checks the client secret (HTTP Basic), the redirect URI and the PKCE
verifier; the id_token is RS256 with the nonce of the authorization request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID, CLIENT_SECRET = "netra-test", "provider-secret-" + "p" * 32
ALICE = {"sub": "op-alice", "email": "Alice@Example.com", "email_verified": True, "name": "Alice Liddell"}


def rsa_key() -> rsa.RSAPrivateKey:
    """Return a new 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    """The provider: who signs in next (`person`), and how the next id_token is spoiled (`tampered`, `signing_key`)."""

    def __init__(self) -> None:
        self.issuer, self.key = "", rsa_key()
        self.signing_key = self.key
        self.person: dict[str, Any] = dict(ALICE)
        self.tampered: dict[str, Any] = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}

    def reset(self) -> None:
        """Sign Alice in next, with a genuine id_token."""
        self.person, self.tampered, self.signing_key = dict(ALICE), {}, self.key

    def discovery(self) -> dict:
        """The discovery document."""
        ends = {"authorization_endpoint": "authorize", "token_endpoint": "token", "userinfo_endpoint": "userinfo",
                "jwks_uri": "jwks"}
        return {"issuer": self.issuer, **{k: f"{self.issuer}/{v}" for k, v in ends.items()},
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    def jwks(self) -> dict:
        """The public signing key."""
        return {"keys": [{**jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True),
                          "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def authorize(self, request: Request) -> RedirectResponse:
        """Approve at once: redirect back with a one-time code and the state."""
        query = dict(request.query_params)
        assert (query["client_id"], query["response_type"], query["code_challenge_method"]) == (CLIENT_ID, "code", "S256")
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")

    def _id_token(self, nonce: str) -> str:
        """An id_token for `person`, signed with `signing_key`, `tampered` claims laid over it."""
        now = int(time.time())
        claims = {**self.person, "iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce}
        claims = {key: value for key, value in {**claims, **self.tampered}.items() if value is not None}
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": "k1"})

    async def token(self, request: Request) -> JSONResponse:
        """Exchange a code: client secret (basic), redirect URI and PKCE verifier checked."""
        form, basic = await request.form(), base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        asked = self.codes.pop(str(form["code"]), None)
        if not asked or request.headers.get("authorization") != f"Basic {basic}" or not _pkce_ok(asked, form):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(self._grant(asked))

    def _grant(self, asked: dict) -> dict:
        """The token answer for an authorized request: an access token for userinfo and the id_token."""
        access = secrets.token_urlsafe(16)
        self.tokens[access] = dict(self.person)
        return {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                "id_token": self._id_token(asked["nonce"]), "scope": asked["scope"]}

    def userinfo(self, request: Request) -> JSONResponse:
        """The claims of the bearer's user."""
        return JSONResponse(self.tokens[request.headers["authorization"].split()[1]])

    def app(self, issuer: str) -> FastAPI:
        """The provider's ASGI app, serving at `issuer`."""
        self.issuer, app = issuer, FastAPI()
        for path, endpoint, method in [("/.well-known/openid-configuration", self.discovery, "GET"),
                                       ("/jwks", self.jwks, "GET"), ("/authorize", self.authorize, "GET"),
                                       ("/token", self.token, "POST"), ("/userinfo", self.userinfo, "GET")]:
            app.add_api_route(path, endpoint, methods=[method])
        return app


def _pkce_ok(asked: dict, form: Any) -> bool:
    """Whether the verifier matches the challenge and the redirect URI is the one authorized."""
    digest = hashlib.sha256(str(form.get("code_verifier", "")).encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return challenge == asked["code_challenge"] and form.get("redirect_uri") == asked["redirect_uri"]

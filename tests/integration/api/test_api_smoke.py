"""The server starts on each backend with its lifespan: migrations, pools, sign-in, revocation."""

from __future__ import annotations


def test_signed_in_user_is_known_and_logout_revokes_the_token(api):
    alice = api.login("alice@example.com")
    assert alice.get("/auth/me").json()["email"] == "alice@example.com"
    assert alice.post("/auth/logout").status_code == 204
    answer = alice.get("/auth/me")
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]


def test_readiness_on_each_backend(api):
    body = api.anonymous.get("/health/ready").json()
    assert body["status"] == "ok" and set(body["checks"]) >= {"analytics", "database"}

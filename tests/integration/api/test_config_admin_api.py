"""Public config and user administration over HTTP on both backends.

Each `api` test starts a server on a fresh database, so the cases of a table run in one test.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from netra.config import Settings
from netra.server.routes.config import public_config

PUBLIC = {"version", "auth_mode", "oauth_enabled", "offline", "llm_model", "strategy", "strategies",
          "rate_limit_per_minute", "max_ingest_bytes", "run_concurrency"}
SECRET_SETTINGS = {name for name, field in Settings.model_fields.items() if field.annotation is SecretStr}
SECRETS = {"secret_key": "sk-server-secret", "jwt_secret": "jwt-signing-secret", "llm_api_key": "sk-llm-key",
           "oauth_client_secret": "oauth-client-secret"}
URLS = {"database_url": "postgresql://netra:pg-password@db.internal:5432/netra",
        "redis_url": "redis://:redis-password@cache.internal:6379/0",
        "clickhouse_url": "http://ch-user:ch-password@ch.internal:8123",
        "llm_base_url": "https://proxy-user:proxy-password@llm.internal/v1"}


def check_public_config(api) -> None:
    """No token needed; only the public fields; no SecretStr setting, no database or Redis URL."""
    answer = api.anonymous.get("/api/config")
    body = answer.json()
    assert (answer.status_code, set(body)) == (200, PUBLIC)
    assert not SECRET_SETTINGS & set(body) and SECRET_SETTINGS >= set(SECRETS)
    assert (body["auth_mode"], body["rate_limit_per_minute"]) == ("dev", 0) and body["strategy"] in body["strategies"]
    urls = [url for url in (api.settings.database_url, api.settings.redis_url, "postgresql", "redis://") if url]
    assert [url for url in urls if url in answer.text] == []


def test_config_never_shows_secret_values_or_urls():
    """With every secret and URL set, none of their values is in the public config."""
    settings = Settings(**SECRETS, **URLS, oauth_client_id="client-1", llm_model="gpt-4.1")
    text = public_config(settings).model_dump_json()
    assert not [value for value in {**SECRETS, **URLS}.values() if value in text]
    assert "password" not in text and '"oauth_enabled":true' in text and '"llm_model":"gpt-4.1"' in text


@pytest.mark.parametrize(("fields", "llm_model"), [({"llm_base_url": "http://x/v1"}, "m"), ({}, None)],
                         ids=["online", "offline"])
def test_llm_model_only_when_online(monkeypatch, fields: dict, llm_model: str | None):
    """`llm_model` is null when the agents run without a model."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = public_config(Settings(llm_model="m", **fields))
    assert (config.llm_model, config.offline) == (llm_model, llm_model is None)


def user_ids(root: httpx.Client) -> dict[str, str]:
    """List users as an admin; check their roles and fields; return {email: id}."""
    users = {u["email"]: u for u in root.get("/api/admin/users").json()["items"]}
    assert {e: u["role"] for e, u in users.items()} == {"root@example.com": "admin", "alice@example.com": "user"}
    assert all(u["created_at"] and u["id"] for u in users.values())
    return {email: user["id"] for email, user in users.items()}


def check_non_admins(api, her: str) -> None:
    """Users and developers answer 403, no token 401, to every admin route."""
    for client, status in ((api.login("alice@example.com"), 403), (api.login("dev@example.com", role="developer"), 403),
                           (api.anonymous, 401)):
        assert client.get("/api/admin/users").status_code == status
        assert client.patch(f"/api/admin/users/{her}/role", json={"role": "admin"}).status_code == status


def check_refusals(root: httpx.Client, me: str, her: str) -> None:
    """The last admin cannot go (409); a bad role is 422, an unknown user 404."""
    last = root.patch(f"/api/admin/users/{me}/role", json={"role": "user"})
    assert (last.status_code, last.json()["error"]["code"], "no admin" in last.text) == (409, "conflict", True)
    for path, body, status in [(f"/api/admin/users/{her}/role", {"role": "owner"}, 422),
                               ("/api/admin/users/no-such-user/role", {"role": "user"}, 404),
                               ("/api/admin/users/%00/role", {"role": "user"}, 404)]:
        assert root.patch(path, json=body).status_code == status, path


def check_handover(api, root: httpx.Client, me: str, her: str) -> None:
    """Once another admin exists the first may step down, refused at once; the new admin pages users."""
    promoted = root.patch(f"/api/admin/users/{her}/role", json={"role": "admin"}).json()
    assert (promoted["id"], promoted["role"]) == (her, "admin")
    assert root.patch(f"/api/admin/users/{me}/role", json={"role": "developer"}).json()["role"] == "developer"
    assert root.get("/api/admin/users").status_code == 403  # demoted: refused at once, token or not
    page = api.login("alice@example.com").get("/api/admin/users", params={"limit": 1}).json()
    assert (len(page["items"]), page["next_offset"]) == (1, 1)


def test_public_config_and_user_administration(api):
    """Config is public and secret-free; admins list users and change roles, never leaving none; others 403/401."""
    check_public_config(api)
    root, _ = api.login("root@example.com", role="admin"), api.login("alice@example.com")
    ids = user_ids(root)
    me, her = ids["root@example.com"], ids["alice@example.com"]
    check_non_admins(api, her)
    check_refusals(root, me, her)
    check_handover(api, root, me, her)

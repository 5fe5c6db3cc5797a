"""Workspace API keys on each backend: shown once, hashed at rest, scoped, revocable, the only ingest credential."""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

from sqlalchemy import select

from netra.persistence.models import Base
from tests.integration.api.seeding import records
from tests.integration.api.workspaces import FAKE_ID, key_of, member, workspace_of

KEY = re.compile(r"nk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
EVENTS = [{"timestamp": "2026-03-02T09:00:00Z", "request_id": "k-1", "model": "gpt-4o", "input_tokens": 10,
           "output_tokens": 1}]
SPANS = {"resourceSpans": []}


async def _every_value(url: str) -> list[str]:
    async with records(url) as uow:
        rows = [row for table in Base.metadata.sorted_tables for row in await uow.session.execute(select(table))]
    return [str(value) for row in rows for value in row]


def every_stored_value(api: Any) -> list[str]:
    """Return every value of every row of every table of the server's records database, as text."""
    return asyncio.run(_every_value(api.settings.resolved_database_url()))


def ingest(api: Any, key: str, path: str = "/api/ingest/events", body: Any = None) -> Any:
    """POST events (or `body`) with `key` as the bearer credential; return the answer."""
    return api.anonymous.post(path, json=EVENTS if body is None else body, headers={"Authorization": f"Bearer {key}"})


def refusal(answer: Any) -> tuple[int, str]:
    """Return an error answer's status and code."""
    return answer.status_code, answer.json()["error"]["code"]


def listed(alice: Any) -> Any:
    """Return the answer listing the keys of Alice's workspace."""
    return alice.get(f"/api/workspaces/{workspace_of(alice)}/keys")


def check_hashed_at_rest(api: Any, key: str, secret: str) -> None:
    """Assert no stored value holds the key or its secret, and one holds the secret's SHA-256."""
    stored = every_stored_value(api)
    assert not [value for value in stored if secret in value or key in value]
    assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_a_key_is_shown_once_and_only_the_hash_of_its_secret_is_kept(api):
    alice = api.login("alice@example.com")
    created = key_of(alice, workspace_of(alice), "ingest", "read")
    prefix, secret = KEY.fullmatch(created["key"]).groups()
    assert (created["prefix"], sorted(created["scopes"])) == (prefix, ["ingest", "read"])
    assert secret not in listed(alice).text and "key" not in listed(alice).json()["items"][0]
    check_hashed_at_rest(api, created["key"], secret)


def test_a_key_ingests_into_its_workspace_until_it_is_revoked(api, store):
    alice = api.login("alice@example.com")
    created, workspace = key_of(alice, workspace_of(alice)), workspace_of(alice)
    assert ingest(api, created["key"]).json()["accepted"] == 1 and store.count(workspace) == 1
    assert ingest(api, created["key"], "/v1/traces", SPANS).status_code == 200
    assert listed(alice).json()["items"][0]["last_used_at"] is not None
    assert alice.delete(f"/api/workspaces/{workspace}/keys/{created['id']}").status_code == 204
    assert refusal(ingest(api, created["key"])) == (401, "invalid_token") and store.count(workspace) == 1


# credential (a function of Alice's client and her read key) -> (status, code, part of the message)
CREDENTIALS = [
    (lambda alice, read: read, (403, "insufficient_scope", "'ingest' scope")),
    (lambda alice, read: alice.headers["Authorization"].split()[1], (401, "invalid_token", "workspace API key")),
    (lambda alice, read: read[:-4] + "AAAA", (401, "invalid_token", "not valid")),
    (lambda alice, read: "nk_" + "0" * 12 + "_" + "A" * 43, (401, "invalid_token", "not valid")),
]


def test_only_an_ingest_key_ingests(api, store):
    alice = api.login("alice@example.com")
    read = key_of(alice, workspace_of(alice), "read")["key"]
    for credential, (status, code, message) in CREDENTIALS:
        answer = ingest(api, credential(alice, read))
        assert refusal(answer) == (status, code) and message in answer.json()["error"]["message"], answer.text
    assert refusal(api.anonymous.post("/api/ingest/events", json=EVENTS)) == (401, "missing_token")
    assert store.count() == 0


def key_routes(client: Any, workspace: str, key_id: str) -> tuple[int, int]:
    """Return the statuses `client` gets listing the workspace's keys and revoking `key_id` there."""
    keys = f"/api/workspaces/{workspace}/keys"
    return client.get(keys).status_code, client.delete(f"{keys}/{key_id}").status_code


def test_keys_are_managed_by_the_workspaces_admins_only(api):
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    workspace = workspace_of(alice)
    created, carol = key_of(alice, workspace), member(api, alice, workspace, "carol@example.com", "member")
    assert key_routes(carol, workspace, created["id"]) == (403, 403)
    assert key_routes(bob, workspace, created["id"]) == (404, 404)
    assert key_routes(bob, workspace_of(bob), created["id"]) == key_routes(alice, workspace, FAKE_ID) == (200, 404)
    assert ingest(api, created["key"]).status_code == 200  # still live

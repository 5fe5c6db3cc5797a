"""Workspaces for API tests: members in a workspace, workspace keys, clients acting in a workspace.

    alice = api.login("alice@example.com")                      # acts in her personal workspace
    shared = workspace_of(alice)
    vera = member(api, alice, shared, "vera@example.com", "viewer")    # a client acting in `shared`
    ingest = keyed(api, alice, shared, "ingest")                  # a client holding a workspace key
    ingest.post("/api/ingest/events", json=[...])
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.api.seeding import workspace_of

HEADER = "X-Netra-Workspace"
FAKE_ID = "00000000-0000-4000-8000-000000000000"

__all__ = ["FAKE_ID", "HEADER", "acting_in", "add_member", "key_of", "keyed", "member", "workspace_of"]


def acting_in(api: Any, email: str, workspace_id: str) -> httpx.Client:
    """Return a client signed in as `email` that acts in `workspace_id` (the header on every request)."""
    return api.client({"Authorization": f"Bearer {api.token(email)}", HEADER: workspace_id})


def add_member(admin: httpx.Client, workspace_id: str, email: str, role: str) -> dict[str, Any]:
    """Add `email` to the workspace with `role` as `admin` (a client of an admin or owner); return the member."""
    answer = admin.post(f"/api/workspaces/{workspace_id}/members", json={"email": email, "role": role})
    assert answer.status_code == 201, answer.text
    return answer.json()


def member(api: Any, admin: httpx.Client, workspace_id: str, email: str, role: str) -> httpx.Client:
    """Return a client of `email`, made a `role` of the workspace by `admin`, acting in it."""
    api.token(email)  # signs in first: the user exists with a personal workspace of their own
    add_member(admin, workspace_id, email, role)
    return acting_in(api, email, workspace_id)


def key_of(admin: httpx.Client, workspace_id: str, *scopes: str) -> dict[str, Any]:
    """Create a key of the workspace with `scopes` (default `ingest`) as `admin`; return the answer (with `key`)."""
    body = {"name": "tests", **({"scopes": list(scopes)} if scopes else {})}
    answer = admin.post(f"/api/workspaces/{workspace_id}/keys", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def keyed(api: Any, admin: httpx.Client, workspace_id: str, *scopes: str) -> httpx.Client:
    """Return a client holding a new key of the workspace (made by `admin`) as its bearer credential."""
    return api.client({"Authorization": f"Bearer {key_of(admin, workspace_id, *scopes)['key']}"})

"""`netra keys create|list|revoke`: a workspace's API keys, from the server's own shell.

    netra keys create --name otel-collector --scope ingest            # the `local` workspace
    netra keys create --name grafana --scope read --workspace <id>
    netra keys list [--workspace <id>]
    netra keys revoke <key id> [--workspace <id>]

The key is printed once, on the last line of `create`, and never again: only its prefix and
the SHA-256 of its secret are stored. Acting on the records database directly (as an
operator), these need no sign-in; over HTTP, a workspace's admins use
`/api/workspaces/{id}/keys`. An unknown workspace or key exits 2. See docs/workspaces.md.

The commands themselves (options, help) are in `netra.cli.app`, which imports this module
only when one of them runs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.console import Console
from rich.markup import escape

from netra.config import get_settings
from netra.persistence.apikeys import KeyScope
from netra.persistence.models import IngestKey
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.auth.records import unit_of_work


def when(moment: datetime | None) -> str:
    """Return a time as ISO 8601 to the second, or '-'."""
    return moment.isoformat(timespec="seconds") if moment else "-"


def describe(key: IngestKey) -> str:
    """Return one line about a key: id, name, prefix, scopes, last use, revocation."""
    state = f"revoked {when(key.revoked_at)}" if key.revoked_at else f"last used {when(key.last_used_at)}"
    return f"{key.id}  {key.name or '-'}  nk_{key.prefix}_…  [{key.scopes}]  {state}"


async def _workspace(uow: UnitOfWork, workspace_id: str) -> str:
    """Return `workspace_id` when the workspace exists (NotFoundError, exit 2, otherwise)."""
    if await uow.workspaces.get(workspace_id) is None:
        raise NotFoundError(f"no workspace {workspace_id!r}: see GET /api/workspaces for your workspaces' ids")
    return workspace_id


async def issue_key(workspace_id: str, name: str, scopes: list[KeyScope]) -> tuple[IngestKey, str]:
    """Store a new key of the workspace; return its row and the key (to print once)."""
    async with unit_of_work(get_settings()) as uow:
        record, key = await uow.ingest_keys.issue(await _workspace(uow, workspace_id), name, scopes)
        await uow.commit()
    return record, key.get_secret_value()


async def keys_of(workspace_id: str) -> list[IngestKey]:
    """Return the workspace's keys, newest first (NotFoundError for an unknown workspace)."""
    async with unit_of_work(get_settings()) as uow:
        return await uow.ingest_keys.in_workspace(await _workspace(uow, workspace_id), limit=500)


async def revoke_key(workspace_id: str, key_id: str) -> IngestKey:
    """Revoke the workspace's key; return its row (NotFoundError when it has no such key)."""
    async with unit_of_work(get_settings()) as uow:
        record = await uow.ingest_keys.revoke(workspace_id, key_id)
        await uow.commit()
    if record is None:
        raise NotFoundError(f"workspace {workspace_id!r} has no key {key_id!r}")
    return record


def create_key(console: Console, workspace: str, name: str, scopes: list[KeyScope]) -> None:
    """Create a key and print it, once (the last line)."""
    record, key = asyncio.run(issue_key(workspace, name, scopes))
    console.print(escape(f"created {describe(record)} in workspace {workspace}; the key, shown only now:"))
    print(key)


def list_keys(console: Console, workspace: str) -> None:
    """List the workspace's keys, newest first (never the keys themselves)."""
    for record in asyncio.run(keys_of(workspace)):
        console.print(escape(describe(record)))


def revoke(console: Console, workspace: str, key_id: str) -> None:
    """Revoke a key and print its row: it is refused from now on (its row stays, marked revoked)."""
    console.print(escape(describe(asyncio.run(revoke_key(workspace, key_id)))))

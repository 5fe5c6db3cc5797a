"""A workspace's API keys: issue (the key returned once), list, revoke, and authenticate a key."""

from __future__ import annotations

from typing import Iterable

from pydantic import SecretStr
from sqlalchemy import select

from netra.persistence.apikeys import digest, matches, new_key, parse_key
from netra.persistence.models import IngestKey, utcnow
from netra.persistence.repositories.base import DEFAULT_LIMIT, Repository, page_bounds


class IngestKeyRepository(Repository[IngestKey]):
    """The `ingest_keys` table: rows hold a prefix and the SHA-256 of the secret, never the key."""

    model = IngestKey

    async def issue(self, workspace_id: str, name: str, scopes: Iterable[str],
                    created_by: str | None = None) -> tuple[IngestKey, SecretStr]:
        """Store a new key of the workspace; return its row and the key itself (to show once)."""
        issued = new_key()
        record = await self.create(workspace_id=workspace_id, name=name, prefix=issued.prefix,
                                   secret_sha256=digest(issued.secret.get_secret_value()),
                                   scopes=" ".join(sorted(set(scopes))), created_by=created_by)
        return record, issued.key()

    async def in_workspace(self, workspace_id: str, *, limit: int = DEFAULT_LIMIT,
                           offset: int = 0) -> list[IngestKey]:
        """Return one page of the workspace's keys (revoked ones too), newest first."""
        limit, offset = page_bounds(limit, offset)
        query = self._newest(IngestKey.workspace_id == workspace_id).limit(limit).offset(offset)
        return list(await self.session.scalars(query))

    async def revoke(self, workspace_id: str, key_id: str) -> IngestKey | None:
        """Revoke the workspace's key (kept, with `revoked_at`); None when it has no such key."""
        record = await self._first(IngestKey.id == key_id, IngestKey.workspace_id == workspace_id)
        if record is not None and record.revoked_at is None:
            await self._change(record, {"revoked_at": utcnow()})
        return record

    async def authenticate(self, key: str) -> IngestKey | None:
        """Return the live key row `key` names (its use noted), or None: malformed, unknown, wrong or revoked."""
        prefix, secret = parse_key(key) or ("", "")
        record = await self.session.scalar(select(IngestKey).where(IngestKey.prefix == prefix)) if prefix else None
        if not matches(record.secret_sha256 if record else None, secret) or record.revoked_at is not None:
            return None
        return await self._change(record, {"last_used_at": utcnow()})

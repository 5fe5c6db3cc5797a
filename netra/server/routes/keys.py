"""A workspace's API keys, for exporters, scripts and MCP clients (admins and owners only).

    POST   /api/workspaces/{id}/keys  {"name", "scopes": ["ingest"|"read", ...]}
           -> 201 {"id", "name", "prefix", "scopes", "created_at", ..., "key": "nk_<prefix>_<secret>"}
    GET    /api/workspaces/{id}/keys?limit=&offset=     page of its keys (revoked ones too), never the keys
    DELETE /api/workspaces/{id}/keys/{key_id}           -> 204: revoked, refused from now on

The key is in the answer of its creation and nowhere else: only its prefix and the SHA-256
of its secret are stored. A workspace the user is not a member of answers 404; a member
below admin 403; another workspace's key id 404. See docs/workspaces.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from netra.persistence.apikeys import KeyScope
from netra.persistence.models import IngestKey, WorkspaceRole
from netra.persistence.repositories.base import NotFoundError
from netra.server.membership import Member, member_at_least
from netra.server.owned import Body, PageQuery, Uow, plausible_id
from netra.server.pagination import Page, page_of

router = APIRouter(prefix="/api/workspaces/{workspace_id}/keys", tags=["workspaces"])
Admin = Annotated[Member, Depends(member_at_least(WorkspaceRole.ADMIN))]


class KeyIn(Body):
    """A key to create: what it is for, and what it may do."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[KeyScope] = Field(default_factory=lambda: [KeyScope.INGEST], min_length=1, max_length=2)


class KeyOut(BaseModel):
    """A key, without its secret."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: IngestKey) -> KeyOut:
        """Return the view of a key's row."""
        return cls(id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes.split(), created_by=key.created_by,
                   created_at=key.created_at, last_used_at=key.last_used_at, revoked_at=key.revoked_at)


class NewKeyOut(KeyOut):
    """A key just created, with the key itself: shown this once."""

    key: str


@router.post("", status_code=201, response_model=NewKeyOut)
async def create_key(body: KeyIn, member: Admin, uow: Uow) -> NewKeyOut:
    """Create a key of the workspace; the answer holds the key, which is never shown again."""
    record, key = await uow.ingest_keys.issue(member.workspace_id, body.name, body.scopes, member.user_id)
    await uow.commit()
    return NewKeyOut(**KeyOut.of(record).model_dump(), key=key.get_secret_value())


@router.get("", response_model=Page[KeyOut])
async def list_keys(member: Admin, page: PageQuery, uow: Uow) -> Page[KeyOut]:
    """List the workspace's keys, newest first."""
    rows = await uow.ingest_keys.in_workspace(member.workspace_id, limit=page.limit, offset=page.offset)
    return page_of([KeyOut.of(row) for row in rows], page)


@router.delete("/{key_id}", status_code=204, response_class=Response)
async def revoke_key(key_id: str, member: Admin, uow: Uow) -> Response:
    """Revoke one of the workspace's keys."""
    record = await uow.ingest_keys.revoke(member.workspace_id, key_id) if plausible_id(key_id) else None
    if record is None:
        raise NotFoundError("key not found")
    await uow.commit()
    return Response(status_code=204)

"""Workspace API keys on the wire: the dependency of the routes exporters and scripts call.

    @router.post("/api/ingest/events")
    def ingest(grant: Annotated[KeyGrant, Depends(key_with(KeyScope.INGEST))], ...): ...

The key comes as `Authorization: Bearer nk_<prefix>_<secret>`. No header: 401
`missing_token`. A user's access token (or anything else that is not a key): 401
`invalid_token`, saying to use a workspace key. A malformed, unknown, wrong or revoked key:
401 `invalid_token` with one message for all (which one is never told). A key without the
route's scope: 403 `insufficient_scope`. The key's use is noted (`last_used_at`); the key
itself is never logged or stored. The grant's workspace is the workspace the route acts in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from fastapi import Depends, Request

from netra.persistence.apikeys import KeyScope, looks_like_key
from netra.persistence.models import IngestKey
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import bearer_token
from netra.server.auth.errors import InsufficientScopeError, InvalidTokenError
from netra.server.deps import get_uow

USE_A_KEY = ("this endpoint takes a workspace API key (Authorization: Bearer nk_...), not a user's access "
             "token: create one with POST /api/workspaces/{id}/keys or `netra keys create`")
BAD_KEY = "the API key is not valid (unknown, malformed or revoked)"


@dataclass(frozen=True)
class KeyGrant:
    """What a valid key grants: its workspace, its id and its scopes."""

    workspace_id: str
    key_id: str
    scopes: frozenset[str]


async def live_key(uow: UnitOfWork, authorization: str | None) -> IngestKey:
    """Return the live key of the `Authorization` header, its use committed.

    Raises:
        MissingTokenError: no bearer credential. InvalidTokenError: not a key, or not a live one (401).
    """
    token = bearer_token(authorization)
    record = await uow.ingest_keys.authenticate(token) if looks_like_key(token) else None
    if record is None:
        raise InvalidTokenError(BAD_KEY if looks_like_key(token) else USE_A_KEY)
    await uow.commit()
    return record


async def grant_of(uow: UnitOfWork, authorization: str | None, scope: KeyScope) -> KeyGrant:
    """Return the grant of the `Authorization` header's key for `scope` (401 as `live_key`; 403 without `scope`)."""
    record = await live_key(uow, authorization)
    scopes = frozenset(record.scopes.split())
    if scope.value not in scopes:
        raise InsufficientScopeError(f"this key does not grant the {scope.value!r} scope")
    return KeyGrant(record.workspace_id, record.id, scopes)


def key_with(scope: KeyScope) -> Callable[..., Awaitable[KeyGrant]]:
    """Return the dependency that lets only workspace keys granting `scope` through."""
    async def check(request: Request, uow: UnitOfWork = Depends(get_uow)) -> KeyGrant:
        return await grant_of(uow, request.headers.get("authorization"), scope)
    return check

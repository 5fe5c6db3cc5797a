"""The workspace a WebSocket connection acts in, checked again for each action.

    member = await member_of(websocket, resources, claims)    # NotFoundError: not a member (or no such workspace)
    owner = (await writer_of(websocket, resources, claims)).owner
    run = await owned_run(websocket, resources, claims, run_id)

The client names it with the `workspace` query parameter (a workspace id is no secret) or the
`X-Netra-Workspace` header of the handshake; without either the connection acts in the
user's personal workspace. Membership is read again for each action, so a member removed
from the workspace cannot start or follow its runs any longer. A viewer cannot start runs.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from netra.persistence.models import Run, WorkspaceRole
from netra.persistence.uow import UnitOfWork
from netra.server.auth.tokens import Claims
from netra.server.membership import HEADER, Member, membership
from netra.server.owned import owned
from netra.server.resources import AppResources


def requested(websocket: WebSocket) -> str | None:
    """Return the workspace the connection names (query parameter, else header), or None."""
    return websocket.query_params.get("workspace") or websocket.headers.get(HEADER) or None


def _uow(resources: AppResources) -> UnitOfWork:
    return resources.uow()


async def member_of(websocket: WebSocket, resources: AppResources, claims: Claims) -> Member:
    """Return the user's membership of the connection's workspace (NotFoundError when not a member)."""
    async with _uow(resources) as uow:
        found = await membership(uow, claims, requested(websocket))
    return found


async def writer_of(websocket: WebSocket, resources: AppResources, claims: Claims) -> Member:
    """Return the membership of a user who may start runs there (ForbiddenError for a viewer)."""
    found = await member_of(websocket, resources, claims)
    found.require(WorkspaceRole.MEMBER)
    return found


async def owned_run(websocket: WebSocket, resources: AppResources, claims: Claims, run_id: str) -> Run:
    """Return the user's run of the connection's workspace (NotFoundError otherwise, like a missing one)."""
    async with _uow(resources) as uow:
        found = await membership(uow, claims, requested(websocket))
        uow.bind(found.workspace_id)
        return await owned(uow.runs, found.user_id, run_id, "run")

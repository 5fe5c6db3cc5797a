"""The workspace a request acts in, and what the member's role lets them do there.

    @router.get("/api/threads")
    async def threads(user: SignedIn, uow: Uow): ...   # user: a Member; uow bound to its workspace

`member` is the dependency behind `SignedIn` (netra/server/owned.py). After `signed_in`, it
takes the workspace the client names in `X-Netra-Workspace: <id>`, else the user's personal
workspace (created on first use), and checks the user is a member of it: a workspace the
user is not in answers 404 `not_found`, exactly like one that does not exist, so ids tell
another account nothing. A derived workspace (`<id>/netra`, where Netra's own model calls
are kept) is never a request's: naming one answers 404 too, to its members as to anyone.
A viewer's writes answer 403 `forbidden` (any method but GET, HEAD and OPTIONS, except the
POSTs of `READ_ONLY_POSTS`, which only read). The request's unit of
work is then bound to the workspace: every workspace-owned record it reads or writes is that
workspace's (and the user's).

Roles, weakest first: viewer (reads), member (writes their own threads and runs), admin
(manages members and keys), owner (also grants owner). See docs/workspaces.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from fastapi import Depends, Request

from netra.persistence.models import WorkspaceRole
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.auth.errors import ForbiddenError
from netra.server.auth.tokens import Claims
from netra.server.deps import get_uow, signed_in
from netra.tenancy import DERIVED_SEPARATOR, MAX_WORKSPACE_ID, Owner

HEADER = "X-Netra-Workspace"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST routes that only read (tool runs, searches, checks): a viewer may send them
READ_ONLY_POSTS = frozenset({"/api/tools/{name}", "/api/quality/validate", "/threads/search",
                             "/threads/{thread_id}/history", "/assistants/search"})
RANK: dict[str, int] = {WorkspaceRole.VIEWER: 0, WorkspaceRole.MEMBER: 1, WorkspaceRole.ADMIN: 2,
                        WorkspaceRole.OWNER: 3}


@dataclass(frozen=True)
class Member:
    """A signed-in user acting in one workspace, with their role there."""

    claims: Claims
    workspace_id: str
    role: str

    @property
    def user_id(self) -> str:
        """The signed-in user's id."""
        return self.claims.user_id

    @property
    def owner(self) -> Owner:
        """The (user, workspace) pair the member's records and runs belong to."""
        return Owner(self.user_id, self.workspace_id)

    def require(self, role: str) -> None:
        """Raise ForbiddenError (403) unless the member's role is `role` or stronger."""
        if RANK[self.role] < RANK[role]:
            raise ForbiddenError(f"this needs the {role} role in the workspace (yours: {self.role})")


def plausible_workspace(workspace_id: str) -> bool:
    """Return whether `workspace_id` could name a workspace: 1..36 printable characters, no `/`.

    An id with `/` names a workspace Netra derives from another (`<id>/netra`, Netra's own model
    usage): no workspace has such an id, and no request may act in one, member or not.
    """
    printable = 0 < len(workspace_id) <= MAX_WORKSPACE_ID and workspace_id.isprintable()
    return printable and DERIVED_SEPARATOR not in workspace_id


async def membership(uow: UnitOfWork, claims: Claims, workspace_id: str | None) -> Member:
    """Return the user's membership of `workspace_id` (None: their personal workspace, made if missing).

    Raises:
        NotFoundError: no such workspace, or the user is not a member of it (404 both).
    """
    if workspace_id is None:
        workspace_id = (await uow.workspaces.personal(claims.user_id)).id
        await uow.commit()  # the personal workspace is kept, whatever the request does next
    role = await uow.members.role(workspace_id, claims.user_id) if plausible_workspace(workspace_id) else None
    if role is None:
        raise NotFoundError("workspace not found")
    return Member(claims, workspace_id, role)


def refuse_viewer_writes(request: Request, found: Member) -> None:
    """Raise ForbiddenError when a viewer sends a request that writes."""
    path = getattr(request.scope.get("route"), "path", "")
    if found.role == WorkspaceRole.VIEWER and request.method not in READS and path not in READ_ONLY_POSTS:
        raise ForbiddenError("a viewer of this workspace reads only: ask one of its admins for the member role")


async def member(request: Request, claims: Claims = Depends(signed_in),
                 uow: UnitOfWork = Depends(get_uow)) -> Member:
    """Dependency: the user's membership of the request's workspace; the request's unit of work bound to it."""
    found = await membership(uow, claims, request.headers.get(HEADER) or None)
    refuse_viewer_writes(request, found)
    uow.bind(found.workspace_id)
    return found


def member_at_least(role: str) -> Callable[..., Awaitable[Member]]:
    """Return a dependency: the member of the workspace named by the path's `workspace_id`, with `role` or more."""
    async def check(workspace_id: str, claims: Claims = Depends(signed_in),
                    uow: UnitOfWork = Depends(get_uow)) -> Member:
        found = await membership(uow, claims, workspace_id)
        found.require(role)
        uow.bind(found.workspace_id)
        return found
    return check

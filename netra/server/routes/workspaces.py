"""Workspaces of the signed-in user and their members.

    GET    /api/workspaces?limit=&offset=               page of my workspaces, personal first (my role in each)
    POST   /api/workspaces                 {"name"}     -> 201 the workspace; I am its owner
    GET    /api/workspaces/{id}/members?limit=&offset=  page of its members (any member may read it)
    POST   /api/workspaces/{id}/members    {"email", "role"}   -> 201 the member (admin or owner)
    DELETE /api/workspaces/{id}/members/{user_id}       -> 204 (admin or owner; anyone may leave)

A workspace the user is not a member of answers 404 `not_found` on every route, like one
that does not exist. A role too weak answers 403 `forbidden`: managing members needs admin;
granting `owner`, or changing or removing an owner, needs owner. Adding an email no user has
yet creates that user (they join on their first sign-in). A workspace always keeps an owner:
removing or demoting its last one answers 409 `conflict`. A workspace's id is made by the
server (a UUID), never taken from the client: a name like `<id>/netra` is only a name, so no
one can found a workspace whose id is another's usage workspace. See docs/workspaces.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from netra.persistence.models import WorkspaceRole
from netra.persistence.repositories.base import NotFoundError
from netra.server.auth.tokens import Claims
from netra.server.deps import signed_in
from netra.server.membership import Member, member_at_least
from netra.server.owned import Body, PageQuery, Uow, plausible_id
from netra.server.pagination import Page, page_of

router = APIRouter(prefix="/api/workspaces", tags=["workspaces"])
User = Annotated[Claims, Depends(signed_in)]
Reader = Annotated[Member, Depends(member_at_least(WorkspaceRole.VIEWER))]
Admin = Annotated[Member, Depends(member_at_least(WorkspaceRole.ADMIN))]
OWNER = WorkspaceRole.OWNER.value


class WorkspaceIn(Body):
    """A new workspace."""

    name: str = Field(min_length=1, max_length=200)


class WorkspaceOut(BaseModel):
    """A workspace as its member sees it: with their role, and whether it is their personal one."""

    id: str
    name: str
    personal: bool
    role: WorkspaceRole
    created_at: datetime


class MemberIn(Body):
    """A user to add (by email), or whose role to change."""

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: WorkspaceRole = WorkspaceRole.MEMBER


class MemberOut(BaseModel):
    """A member: the user and their role."""

    user_id: str
    email: str
    name: str
    role: WorkspaceRole
    joined_at: datetime


def workspace_out(workspace, role: str) -> WorkspaceOut:
    """Return the view of a workspace for a member with `role`."""
    return WorkspaceOut(id=workspace.id, name=workspace.name, personal=workspace.personal_of is not None,
                        role=WorkspaceRole(role), created_at=workspace.created_at)


def member_out(membership, user) -> MemberOut:
    """Return the view of a membership and its user."""
    return MemberOut(user_id=user.id, email=user.email, name=user.name, role=WorkspaceRole(membership.role),
                     joined_at=membership.created_at)


def needed_to_remove(member: Member, user_id: str, role: str) -> WorkspaceRole:
    """Return the role `member` needs to remove the user with `role`: none to leave, owner for an owner."""
    if user_id == member.user_id:
        return WorkspaceRole.VIEWER
    return WorkspaceRole.OWNER if role == OWNER else WorkspaceRole.ADMIN


@router.get("", response_model=Page[WorkspaceOut])
async def list_workspaces(page: PageQuery, user: User, uow: Uow) -> Page[WorkspaceOut]:
    """List my workspaces (my personal one first, made on first use), with my role in each."""
    await uow.workspaces.personal(user.user_id)
    await uow.commit()
    rows = await uow.workspaces.of_member(user.user_id, limit=page.limit, offset=page.offset)
    return page_of([workspace_out(workspace, role) for workspace, role in rows], page)


@router.post("", status_code=201, response_model=WorkspaceOut)
async def create_workspace(body: WorkspaceIn, user: User, uow: Uow) -> WorkspaceOut:
    """Create a workspace whose owner I am."""
    workspace = await uow.workspaces.found(user.user_id, body.name)
    await uow.commit()
    return workspace_out(workspace, OWNER)


@router.get("/{workspace_id}/members", response_model=Page[MemberOut])
async def list_members(member: Reader, page: PageQuery, uow: Uow) -> Page[MemberOut]:
    """List the workspace's members, oldest first."""
    rows = await uow.members.in_workspace(member.workspace_id, limit=page.limit, offset=page.offset)
    return page_of([member_out(membership, user) for membership, user in rows], page)


@router.post("/{workspace_id}/members", status_code=201, response_model=MemberOut)
async def add_member(body: MemberIn, member: Admin, uow: Uow) -> MemberOut:
    """Add a user to the workspace with a role, or change their role."""
    user = await uow.users.get_or_create(body.email)
    current = await uow.members.role(member.workspace_id, user.id)
    if OWNER in (body.role, current):
        member.require(WorkspaceRole.OWNER)
    membership = await uow.members.put(member.workspace_id, user.id, body.role.value)
    await uow.commit()
    return member_out(membership, user)


@router.delete("/{workspace_id}/members/{user_id}", status_code=204, response_class=Response)
async def remove_member(user_id: str, member: Reader, uow: Uow) -> Response:
    """Remove a member (yourself: leave the workspace)."""
    role = await uow.members.role(member.workspace_id, user_id) if plausible_id(user_id) else None
    if role is None:
        raise NotFoundError("member not found")
    member.require(needed_to_remove(member, user_id, role))
    await uow.members.remove(member.workspace_id, user_id)
    await uow.commit()
    return Response(status_code=204)

"""Workspaces and their members: personal workspaces, membership and roles, the last-owner rule.

    workspace = await uow.workspaces.personal(user.id)          # created with the user as owner
    role = await uow.members.role(workspace.id, user.id)         # None: not a member
    await uow.members.put(workspace.id, other.id, "viewer")      # add, or change the role

A personal workspace is created race-free (`INSERT ... ON CONFLICT DO NOTHING` on its
unique `personal_of`, then read back), so two first requests of one user agree on it. A
workspace always keeps an owner: removing or demoting its last one is a `ConflictError`.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from netra.errors import ConflictError
from netra.persistence.models import Base, User, Workspace, WorkspaceMember, WorkspaceRole, new_id, utcnow
from netra.persistence.repositories.base import DEFAULT_LIMIT, Repository, page_bounds

PERSONAL_NAME = "Personal"
OWNER = WorkspaceRole.OWNER.value
# dialect -> its INSERT construct that supports ON CONFLICT DO NOTHING
INSERTS: dict[str, Callable[[Any], Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class LastOwnerError(ConflictError):
    """The change would leave the workspace without an owner (409)."""


async def insert_new(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> None:
    """Insert a row unless it conflicts with one already there (then nothing happens)."""
    dialect = session.bind.dialect.name  # type: ignore[union-attr]
    row = {"id": new_id(), "created_at": utcnow(), **values}
    await session.execute(INSERTS[dialect](model).values(**row).on_conflict_do_nothing())


class WorkspaceRepository(Repository[Workspace]):
    """The `workspaces` table: personal ones, new ones with their owner, a user's list."""

    model = Workspace

    async def personal(self, user_id: str) -> Workspace:
        """Return the user's personal workspace, created (the user its owner) when missing."""
        found = await self._first(Workspace.personal_of == user_id)
        if found is None:
            await insert_new(self.session, Workspace, {"name": PERSONAL_NAME, "personal_of": user_id})
            found = await self._first(Workspace.personal_of == user_id)
            await insert_new(self.session, WorkspaceMember, {"workspace_id": found.id, "user_id": user_id,
                                                             "role": OWNER})
        return found  # type: ignore[return-value]

    async def found(self, user_id: str, name: str) -> Workspace:
        """Create a workspace named `name` whose owner is the user."""
        workspace = await self.create(name=name)
        self.session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=OWNER))
        await self.session.flush()
        return workspace

    async def of_member(self, user_id: str, *, limit: int = DEFAULT_LIMIT,
                        offset: int = 0) -> list[tuple[Workspace, str]]:
        """Return one page of the user's workspaces with the user's role: personal first, then newest."""
        limit, offset = page_bounds(limit, offset)
        query = (select(Workspace, WorkspaceMember.role).join(WorkspaceMember)
                 .where(WorkspaceMember.user_id == user_id)
                 .order_by(Workspace.personal_of.is_(None), Workspace.created_at.desc(), Workspace.id.desc()))
        return [(row[0], row[1]) for row in await self.session.execute(query.limit(limit).offset(offset))]


class MemberRepository(Repository[WorkspaceMember]):
    """The `workspace_members` table: who belongs to a workspace, with which role."""

    model = WorkspaceMember

    async def of(self, workspace_id: str, user_id: str) -> WorkspaceMember | None:
        """Return the user's membership of the workspace, or None."""
        return await self._first(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id)

    async def role(self, workspace_id: str, user_id: str) -> str | None:
        """Return the user's role in the workspace, or None when not a member."""
        member = await self.of(workspace_id, user_id)
        return None if member is None else member.role

    async def in_workspace(self, workspace_id: str, *, limit: int = DEFAULT_LIMIT,
                           offset: int = 0) -> list[tuple[WorkspaceMember, User]]:
        """Return one page of the workspace's members with their users, oldest membership first."""
        limit, offset = page_bounds(limit, offset)
        query = (select(WorkspaceMember, User).join(User, User.id == WorkspaceMember.user_id)
                 .where(WorkspaceMember.workspace_id == workspace_id)
                 .order_by(WorkspaceMember.created_at, WorkspaceMember.id).limit(limit).offset(offset))
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def put(self, workspace_id: str, user_id: str, role: str) -> WorkspaceMember:
        """Add the user to the workspace with `role`, or change their role (LastOwnerError: the last owner)."""
        member = await self.of(workspace_id, user_id)
        if member is None:
            return await self.create(workspace_id=workspace_id, user_id=user_id, role=role)
        if role != OWNER:
            await self._keep_an_owner(member)
        return await self._change(member, {"role": role})  # type: ignore[return-value]

    async def remove(self, workspace_id: str, user_id: str) -> bool:
        """Remove the user from the workspace; False when not a member (LastOwnerError: the last owner)."""
        member = await self.of(workspace_id, user_id)
        if member is None:
            return False
        await self._keep_an_owner(member)
        return await self.delete(member.id)

    async def _keep_an_owner(self, leaving: WorkspaceMember) -> None:
        """Raise LastOwnerError when `leaving` is the workspace's only owner."""
        owners = await self.session.scalar(select(func.count()).select_from(WorkspaceMember).where(
            WorkspaceMember.workspace_id == leaving.workspace_id, WorkspaceMember.role == OWNER))
        if leaving.role == OWNER and owners <= 1:
            raise LastOwnerError("a workspace keeps at least one owner: add another owner first")

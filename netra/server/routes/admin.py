"""Administration: the users and their roles (admin only).

    GET   /api/admin/users?limit=&offset=          -> page of users, newest first
                                                      [{"id", "email", "name", "role", "created_at", "updated_at"}]
    PATCH /api/admin/users/{user_id}/role  {"role": "user" | "admin" | "developer"}  -> the user

Every route needs a bearer token (401) of a user whose stored role is `admin` (403):
`require_role` reads the users table, not the token, so a demotion or a promotion takes
effect at once.
An unknown user answers 404 `not_found`, a role that is not one of the three 422. A change
that would leave no admin (demoting the last one, yourself included) answers 409 `conflict`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends

from netra.persistence.models import User
from netra.persistence.models.users import Role
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.auth.records import keep_an_admin
from netra.server.deps import require_role
from netra.server.owned import Body, PageQuery, Uow, plausible_id
from netra.server.pagination import Page, page_of
from netra.server.views import View


def with_role(*roles: str) -> list[object]:
    """Return route dependencies: a signed-in user whose stored role is one of `roles` (403 otherwise)."""
    return [Depends(require_role(*roles))]


router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=with_role(Role.ADMIN.value))


class RoleChange(Body):
    """A user's new role."""

    role: Role


class AdminUserOut(View):
    """A user as an admin sees it."""

    id: str
    email: str
    name: str
    role: str
    created_at: datetime
    updated_at: datetime


async def found_user(uow: UnitOfWork, user_id: str) -> User:
    """Return the user `user_id`; raise NotFoundError when there is none."""
    user = await uow.users.get(user_id) if plausible_id(user_id) else None
    if user is None:
        raise NotFoundError("user not found")
    return user


@router.get("/users", response_model=Page[AdminUserOut])
async def list_users(page: PageQuery, uow: Uow) -> Page[AdminUserOut]:
    """List every user with their role, newest first."""
    rows = await uow.users.list(limit=page.limit, offset=page.offset)
    return page_of([AdminUserOut.of(row) for row in rows], page)


@router.patch("/users/{user_id}/role", response_model=AdminUserOut)
async def change_role(user_id: str, body: RoleChange, uow: Uow) -> AdminUserOut:
    """Give a user another role (409 when it would leave no admin)."""
    user = await found_user(uow, user_id)
    await keep_an_admin(uow, user, body.role.value)
    changed = await uow.users.update(user.id, role=body.role.value)
    await uow.commit()
    return AdminUserOut.of(changed)

"""Administration: the users and their roles (admin only).

    GET   /api/admin/users?limit=&offset=          -> page of users, newest first
                                                      [{"id", "email", "name", "role", "created_at", "updated_at"}]
    PATCH /api/admin/users/{user_id}/role  {"role": "user" | "admin" | "developer"}  -> the user

Every route needs a bearer token (401) of an admin (403): the token must carry the `admin`
role (`require_role`) and the user must still have it (`stored_role`). So a demotion takes
effect at once, a promotion at the user's next sign-in (a token carries its sign-in's role).
An unknown user answers 404 `not_found`, a role that is not one of the three 422. A change
that would leave no admin (demoting the last one, yourself included) answers 409 `conflict`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from netra.errors import ConflictError
from netra.persistence.models import User
from netra.persistence.models.users import Role
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import require_role
from netra.server.auth.errors import ForbiddenError
from netra.server.auth.tokens import Claims
from netra.server.deps import get_uow, signed_in
from netra.server.owned import Body, PageQuery, Uow, plausible_id
from netra.server.pagination import Page, page_of
from netra.server.views import View

LAST_ADMIN = "this would leave no admin: make another user admin first"


def stored_role(*roles: str) -> Callable[..., Awaitable[Claims]]:
    """Return a dependency that lets through only signed-in users whose stored role is one of `roles` (403)."""
    async def check(claims: Claims = Depends(signed_in), uow: UnitOfWork = Depends(get_uow)) -> Claims:
        user = await uow.users.get(claims.user_id)
        if user is None or user.role not in roles:
            raise ForbiddenError(f"this needs the role {' or '.join(map(repr, roles))}")
        return claims
    return check


def with_role(*roles: str) -> list[object]:
    """Return route dependencies: a token carrying one of `roles`, of a user who still has it."""
    return [Depends(require_role(*roles)), Depends(stored_role(*roles))]


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


async def admin_count(uow: UnitOfWork) -> int:
    """Return how many users have the admin role."""
    return int(await uow.session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN.value)))


async def found_user(uow: UnitOfWork, user_id: str) -> User:
    """Return the user `user_id`; raise NotFoundError when there is none."""
    user = await uow.users.get(user_id) if plausible_id(user_id) else None
    if user is None:
        raise NotFoundError("user not found")
    return user


async def keep_an_admin(uow: UnitOfWork, user: User, role: Role) -> None:
    """Raise 409 when moving `user` to `role` would leave no admin."""
    if user.role == Role.ADMIN.value and role is not Role.ADMIN and await admin_count(uow) <= 1:
        raise ConflictError(LAST_ADMIN)


@router.get("/users", response_model=Page[AdminUserOut])
async def list_users(page: PageQuery, uow: Uow) -> Page[AdminUserOut]:
    """List every user with their role, newest first."""
    rows = await uow.users.list(limit=page.limit, offset=page.offset)
    return page_of([AdminUserOut.of(row) for row in rows], page)


@router.patch("/users/{user_id}/role", response_model=AdminUserOut)
async def change_role(user_id: str, body: RoleChange, uow: Uow) -> AdminUserOut:
    """Give a user another role (409 when it would leave no admin)."""
    user = await found_user(uow, user_id)
    await keep_an_admin(uow, user, body.role)
    changed = await uow.users.update(user.id, role=body.role.value)
    await uow.commit()
    return AdminUserOut.of(changed)

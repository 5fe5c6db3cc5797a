"""The users sign-in creates or updates, in the records database, and their stored roles.

    user = await sign_in(settings, "ada@example.com", name="Ada")      # dev login: created, or name updated
    user = await sign_in_identity(settings, identity)                    # OAuth: matched by (issuer, subject)
    user = await set_role(settings, "ada@example.com", "admin")         # `netra users role`; never the last admin

No sign-in takes a role from the request: a new user is a `user`, and an existing one keeps
theirs. Roles change through `PATCH /api/admin/users/{id}/role` or `netra users role`, and
neither may leave the records without an admin (`keep_an_admin`).

An OAuth sign-in finds its user by the provider's (issuer, subject) pair. The first time an
identity signs in, it is linked to the user with its email if that user is linked to no
identity yet (one created by `netra users role`, or before identities were recorded), else
to a new user; an email that belongs to another identity is refused (403), so a provider
account that inherits a recycled address cannot take over the old owner's records.

The schema is migrated to head once per process and database URL before the first use.
Each call opens an engine and disposes of it on return: sign-ins are rare, and no pooled
aiosqlite thread outlives the app (the app's shared engine can replace this later).
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, NamedTuple

from netra.config import Settings
from netra.errors import ConflictError
from netra.persistence import migrations
from netra.persistence.db import create_engine_from_settings, make_session_factory
from netra.persistence.models import Role, User
from netra.persistence.repositories.users import normalise_email
from netra.persistence.uow import UnitOfWork
from netra.server.auth.errors import LoginRefusedError

_MIGRATED: set[str] = set()
_LOCK = threading.Lock()
LAST_ADMIN = "this would leave no admin: make another user admin first"


class Identity(NamedTuple):
    """Who the OpenID provider says signed in: its issuer, their subject there, verified email, name."""

    issuer: str
    subject: str
    email: str
    name: str


def _migrate_once(url: str) -> None:
    """Migrate the database at `url` to head unless this process already did."""
    with _LOCK:
        if url not in _MIGRATED:
            migrations.upgrade(url)
            _MIGRATED.add(url)


async def ensure_schema(settings: Settings) -> None:
    """Migrate the records database to head, once per process and URL (in a worker thread)."""
    await asyncio.to_thread(_migrate_once, settings.resolved_database_url())


@asynccontextmanager
async def unit_of_work(settings: Settings) -> AsyncIterator[UnitOfWork]:
    """Yield a unit of work over a fresh engine (disposed on exit), the schema ensured."""
    await ensure_schema(settings)
    engine = create_engine_from_settings(settings)
    try:
        async with UnitOfWork(make_session_factory(engine)) as uow:
            yield uow
    finally:
        await engine.dispose()


def _changes(user: User, values: dict[str, Any]) -> dict[str, Any]:
    """Return the given, non-empty values that differ from the user's."""
    return {key: value for key, value in values.items() if value and getattr(user, key) != value}


async def _updated(uow: UnitOfWork, user: User, values: dict[str, Any]) -> User:
    """Return the user with the non-empty `values` that differ applied."""
    changes = _changes(user, values)
    return (await uow.users.update(user.id, **changes) or user) if changes else user


async def sign_in(settings: Settings, email: str, name: str = "") -> User:
    """Return the user with `email`: created as a `user`, or with a changed name updated (never the role)."""
    async with unit_of_work(settings) as uow:
        user = await uow.users.get_or_create(email, **({"name": name} if name else {}))
        user = await _updated(uow, user, {"name": name})
        await uow.commit()
    return user


async def _linked(uow: UnitOfWork, identity: Identity) -> User:
    """Return the user with the identity's email, now linked to it (created when there is none)."""
    user = await uow.users.get_or_create(identity.email, name=identity.name)
    if user.oidc_subject is not None:
        raise LoginRefusedError("this email belongs to another account at the identity provider")
    return await uow.users.update(user.id, oidc_issuer=identity.issuer, oidc_subject=identity.subject) or user


async def _refreshed(uow: UnitOfWork, user: User, identity: Identity) -> User:
    """Return the user with the provider's current email and name (an email another user has is refused)."""
    email = normalise_email(identity.email)
    if email != user.email and await uow.users.by_email(email) is not None:
        raise LoginRefusedError("the provider's email belongs to another Netra user")
    return await _updated(uow, user, {"email": email, "name": identity.name})


async def sign_in_identity(settings: Settings, identity: Identity) -> User:
    """Return the user of an OpenID identity: found by (issuer, subject), else linked by email, else new."""
    async with unit_of_work(settings) as uow:
        found = await uow.users.by_identity(identity.issuer, identity.subject)
        user = await _refreshed(uow, found or await _linked(uow, identity), identity)
        await uow.commit()
    return user


async def keep_an_admin(uow: UnitOfWork, user: User, role: str) -> None:
    """Raise ConflictError (409) when giving `user` the role `role` would leave no admin."""
    if user.role == Role.ADMIN.value and role != Role.ADMIN.value and await uow.users.count_with_role(user.role) <= 1:
        raise ConflictError(LAST_ADMIN)


async def set_role(settings: Settings, email: str, role: str) -> User:
    """Give the user with `email` (created when missing) the stored role `role`, never removing the last admin."""
    async with unit_of_work(settings) as uow:
        user = await uow.users.get_or_create(email)
        await keep_an_admin(uow, user, role)
        user = await _updated(uow, user, {"role": role})
        await uow.commit()
    return user


async def find_user(settings: Settings, user_id: str) -> User | None:
    """Return the user with this id, or None."""
    async with unit_of_work(settings) as uow:
        return await uow.users.get(user_id)

"""The users sign-in creates or updates, in the records database.

    user = await sign_in(settings, "ada@example.com", name="Ada")     # created, or updated
    user = await find_user(settings, claims.user_id)                   # None when deleted

The schema is migrated to head once per process and database URL before the first use.
Each call opens an engine and disposes of it on return: sign-ins are rare, and no pooled
aiosqlite thread outlives the app (the app's shared engine can replace this later).
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from netra.config import Settings
from netra.persistence import migrations
from netra.persistence.db import create_engine_from_settings, make_session_factory
from netra.persistence.models import User
from netra.persistence.uow import UnitOfWork

_MIGRATED: set[str] = set()
_LOCK = threading.Lock()


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


async def sign_in(settings: Settings, email: str, **values: Any) -> User:
    """Return the user with `email`, created with `values` or updated to the non-empty ones."""
    async with unit_of_work(settings) as uow:
        user = await uow.users.get_or_create(email, **{k: v for k, v in values.items() if v})
        changes = _changes(user, values)
        if changes:
            user = await uow.users.update(user.id, **changes) or user
        await uow.commit()
    return user


async def find_user(settings: Settings, user_id: str) -> User | None:
    """Return the user with this id, or None."""
    async with unit_of_work(settings) as uow:
        return await uow.users.get(user_id)

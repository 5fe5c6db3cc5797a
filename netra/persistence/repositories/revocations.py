"""Token revocations: add a `jti` once, ask whether one is there, purge the expired.

    added = await uow.revocations.add(jti, expires_at)    # False: it was there already
    await uow.revocations.contains(jti)                   # True once added, until purged
    await uow.revocations.purge(now)                      # rows whose expiry has passed

`add` is an `INSERT ... ON CONFLICT DO NOTHING` in the dialect of the session's database,
so two processes adding the same `jti` at once see exactly one `True` (single use).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from netra.persistence.models import token_revocations

# database dialect -> its INSERT construct that can skip a conflicting row
INSERTS: dict[str, Callable[[Any], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class RevocationRepository:
    """The `token_revocations` table over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, jti: str, expires_at: datetime) -> bool:
        """Record `jti` as revoked until `expires_at`; return False when it already was."""
        insert = INSERTS[self.session.get_bind().dialect.name](token_revocations)
        statement = insert.values(jti=jti, expires_at=expires_at).on_conflict_do_nothing()
        return (await self.session.execute(statement)).rowcount == 1

    async def contains(self, jti: str) -> bool:
        """Return whether `jti` is revoked."""
        found = await self.session.scalar(select(token_revocations.c.jti).where(token_revocations.c.jti == jti))
        return found is not None

    async def purge(self, now: datetime) -> int:
        """Forget the revocations whose token has expired by `now`; return how many."""
        statement = delete(token_revocations).where(token_revocations.c.expires_at < now)
        return (await self.session.execute(statement)).rowcount

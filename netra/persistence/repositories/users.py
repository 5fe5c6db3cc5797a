"""Users: lookup by email or OpenID identity, get-or-create for sign-in, counts per role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from netra.persistence.models import User
from netra.persistence.repositories.base import Repository


def normalise_email(email: str) -> str:
    """Return the email as stored: trimmed and lower-case."""
    return email.strip().lower()


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` with any `email` normalised."""
    return {**values, "email": normalise_email(values["email"])} if "email" in values else values


class UserRepository(Repository[User]):
    """The `users` table (not owner-scoped: users are the owners)."""

    model = User

    async def create(self, **values: Any) -> User:
        """Insert a user (`email` normalised; `role` one of user|admin|developer)."""
        return await super().create(**_normalised(values))

    async def update(self, record_id: str, **values: Any) -> User | None:
        """Set column values on a user (`email` normalised); None when missing."""
        return await super().update(record_id, **_normalised(values))

    async def by_email(self, email: str) -> User | None:
        """Return the user with this email (any case), or None."""
        return await self._first(User.email == normalise_email(email))

    async def get_or_create(self, email: str, **defaults: Any) -> User:
        """Return the user with this email, creating it from `defaults` when missing."""
        return await self.by_email(email) or await self.create(email=email, **defaults)

    async def by_identity(self, issuer: str, subject: str) -> User | None:
        """Return the user who signs in as `subject` at the OpenID provider `issuer`, or None."""
        return await self._first(User.oidc_issuer == issuer, User.oidc_subject == subject)

    async def count_with_role(self, role: str) -> int:
        """Return how many users have `role`."""
        return int(await self.session.scalar(select(func.count()).select_from(User).where(User.role == role)))

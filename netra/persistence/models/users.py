"""The `users` table: who signs in, with one role."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, UpdatedMixin
from netra.persistence.roles import Role  # re-exported: the enum lives in a light module


def one_of(column: str, values: type[StrEnum]) -> str:
    """Return the SQL condition `column IN (...)` over an enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class User(UpdatedMixin, Base):
    """A person who signs in; email is unique (case as given: normalise before storing).

    `oidc_issuer` and `oidc_subject` name the OpenID Connect identity the user signs in with
    (`iss`, `sub` of the provider's id_token): unique together, and null until the first
    OAuth sign-in. OAuth sign-ins find the user by this pair, never by email alone.
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role"),
                      Index("ix_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True))

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    oidc_issuer: Mapped[str | None] = mapped_column(String(300), default=None)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), default=None)

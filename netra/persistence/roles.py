"""A user's stored role, as a plain enum: the `users.role` column's values.

It lives apart from the table (`netra.persistence.models.users`, which re-exports it) so that
`netra users role` can offer the choices without importing SQLAlchemy and every model.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do: `user` (own records), `admin`, `developer`."""

    USER = "user"
    ADMIN = "admin"
    DEVELOPER = "developer"

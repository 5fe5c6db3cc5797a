"""Encrypted secrets: `user_secrets` (a user's API keys) and `oauth_secrets` (login providers).

Values are Fernet tokens (see `netra.persistence.crypto`); the models never hold or show
plaintext, and `repr` shows the id only. Decrypt through the secret repositories.
"""

from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, OwnedMixin, UpdatedMixin


class UserSecret(OwnedMixin, UpdatedMixin, Base):
    """A named secret of one user (e.g. `openai_api_key`); one per (user, name)."""

    __tablename__ = "user_secrets"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    ciphertext: Mapped[str] = mapped_column(Text)


class OAuthSecret(UpdatedMixin, Base):
    """An OAuth/OIDC provider's client credentials; one row per provider."""

    __tablename__ = "oauth_secrets"

    provider: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_ciphertext: Mapped[str] = mapped_column(Text)

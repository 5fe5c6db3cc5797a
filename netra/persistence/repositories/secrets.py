"""Encrypted secrets: a user's named secrets, and OAuth client credentials.

Plaintext goes in through `put` and comes out only through `reveal`, as a `SecretStr`
(its `repr` and `str` are masked, so it never lands in a log by accident).
"""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from netra.persistence.crypto import SecretCipher
from netra.persistence.models import OAuthSecret, UserSecret
from netra.persistence.repositories.base import OwnedRepository, Repository


class UserSecretRepository(OwnedRepository[UserSecret]):
    """A user's secrets by name (e.g. `openai_api_key`), stored as Fernet tokens."""

    model = UserSecret

    def __init__(self, session: AsyncSession, cipher: SecretCipher) -> None:
        super().__init__(session)
        self.cipher = cipher

    async def named(self, owner_id: str, name: str) -> UserSecret | None:
        """Return the owner's secret record called `name` (still encrypted), or None."""
        return await self._first(UserSecret.name == name, self._mine(owner_id))

    async def put(self, owner_id: str, name: str, value: str) -> UserSecret:
        """Encrypt and store `value` as the owner's secret `name` (replacing any)."""
        record, ciphertext = await self.named(owner_id, name), self.cipher.encrypt(value)
        if record is None:
            return await self.create(owner_id, name=name, ciphertext=ciphertext)
        return await self._change(record, {"ciphertext": ciphertext})  # type: ignore[return-value]

    async def reveal(self, owner_id: str, name: str) -> SecretStr | None:
        """Return the owner's decrypted secret `name`, or None (also for another user's).

        Raises:
            ServiceError: the stored token cannot be decrypted with the current key.
        """
        record = await self.named(owner_id, name)
        return None if record is None else SecretStr(self.cipher.decrypt(record.ciphertext))

    async def remove(self, owner_id: str, name: str) -> bool:
        """Delete the owner's secret `name`; return whether it existed."""
        return await self._remove(UserSecret.name == name, self._mine(owner_id))


class OAuthSecretRepository(Repository[OAuthSecret]):
    """OAuth/OIDC client credentials by provider, the client secret stored as a Fernet token."""

    model = OAuthSecret

    def __init__(self, session: AsyncSession, cipher: SecretCipher) -> None:
        super().__init__(session)
        self.cipher = cipher

    async def by_provider(self, provider: str) -> OAuthSecret | None:
        """Return the provider's record (secret still encrypted), or None."""
        return await self._first(OAuthSecret.provider == provider)

    async def put(self, provider: str, client_id: str, client_secret: str) -> OAuthSecret:
        """Store the provider's client id and encrypted secret (replacing any)."""
        values = {"client_id": client_id, "client_secret_ciphertext": self.cipher.encrypt(client_secret)}
        record = await self.by_provider(provider)
        if record is None:
            return await self.create(provider=provider, **values)
        return await self._change(record, values)  # type: ignore[return-value]

    async def reveal(self, provider: str) -> tuple[str, SecretStr] | None:
        """Return the provider's client id and decrypted client secret, or None.

        Raises:
            ServiceError: the stored token cannot be decrypted with the current key.
        """
        record = await self.by_provider(provider)
        if record is None:
            return None
        return record.client_id, SecretStr(self.cipher.decrypt(record.client_secret_ciphertext))

"""Fernet encryption of stored secrets (user API keys, OAuth client secrets).

The Fernet key is derived with HKDF-SHA256 from `NETRA_SECRET_KEY` (at least 32 characters;
make one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`). When it is
unset, as in development, a random secret is generated once and kept in
`NETRA_HOME/secret.key` with mode 0600. Changing the secret makes stored secrets unreadable.
Neither the secret, the key nor a plaintext is ever logged or shown by `repr`.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netra.config import Settings, get_settings
from netra.errors import ConfigError, ServiceError
from netra.persistence.files import private_folder

KEY_FILE = "secret.key"
MIN_SECRET_CHARS = 32
_SALT = b"netra/records/v1"
_INFO = b"fernet:user-secrets"


def derive_fernet_key(secret: str) -> bytes:
    """Return the urlsafe-base64 Fernet key HKDF-SHA256 derives from `secret`.

    Raises:
        ConfigError: the secret is shorter than `MIN_SECRET_CHARS`.
    """
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"NETRA_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def dev_secret(home: Path) -> str:
    """Return the development secret under `home`, creating it (mode 0600) on first use."""
    path = home / KEY_FILE
    if not path.exists():
        private_folder(home)
        _write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file readable by its owner only (fails if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def resolve_secret(settings: Settings) -> str:
    """Return `NETRA_SECRET_KEY`, else the development secret under NETRA_HOME."""
    return settings.secret_key.get_secret_value() or dev_secret(settings.home)


class SecretCipher:
    """Encrypts and decrypts secret strings with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretCipher(key=***)"

    def encrypt(self, plaintext: str) -> str:
        """Return the Fernet token (ASCII) of `plaintext`; a new random token every call."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the plaintext of a token.

        Raises:
            ServiceError: the token was made with another key or altered.
        """
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ServiceError("a stored secret cannot be decrypted: was NETRA_SECRET_KEY changed?") from exc


def cipher_from_secret(secret: str) -> SecretCipher:
    """Return a cipher whose key is derived from `secret`."""
    return SecretCipher(derive_fernet_key(secret))


def cipher_from_settings(settings: Settings | None = None) -> SecretCipher:
    """Return the cipher for the configured secret (the dev secret when none is set)."""
    return cipher_from_secret(resolve_secret(settings or get_settings()))

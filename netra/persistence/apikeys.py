"""Workspace API keys as text: `nk_<prefix>_<secret>`, made here and never stored whole.

    issued = new_key()                     # Issued(prefix, secret); issued.key() is shown once
    parts = parse_key("nk_0a1b..._...")    # (prefix, secret), or None for anything else
    matches(record.secret_sha256, secret)  # constant-time comparison of the secret's SHA-256

The prefix (12 hex characters) finds the key's row; the secret (32 random bytes, base64url)
is checked against the SHA-256 stored with it. A high-entropy secret needs no slow hash: no
dictionary attack reaches 256 bits. Secrets travel as `SecretStr`, masked in logs and reprs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

KEY_TAG = "nk_"
PREFIX_BYTES = 6
SECRET_BYTES = 32
KEY_SHAPE = re.compile(r"nk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_NO_SECRET = hashlib.sha256(b"no key has this secret").hexdigest()


class KeyScope(StrEnum):
    """What a key may do: `ingest` events and traces, `read` the workspace's telemetry (tools, MCP)."""

    INGEST = "ingest"
    READ = "read"


@dataclass(frozen=True)
class Issued:
    """A key just made: its lookup prefix and its secret."""

    prefix: str
    secret: SecretStr

    def key(self) -> SecretStr:
        """Return the whole key, `nk_<prefix>_<secret>` (show it once, store only `digest` of the secret)."""
        return SecretStr(f"{KEY_TAG}{self.prefix}_{self.secret.get_secret_value()}")


def new_key() -> Issued:
    """Return a new random key."""
    return Issued(secrets.token_hex(PREFIX_BYTES), SecretStr(secrets.token_urlsafe(SECRET_BYTES)))


def digest(secret: str) -> str:
    """Return the hex SHA-256 of a secret, as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    """Return whether a bearer credential is meant as a workspace key (not a user token)."""
    return token.startswith(KEY_TAG)


def parse_key(token: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a well-formed key, else None."""
    found = KEY_SHAPE.fullmatch(token.strip())
    return (found.group(1), found.group(2)) if found else None


def matches(stored: str | None, secret: str) -> bool:
    """Return whether `secret` hashes to `stored`, in constant time (None never matches, in the same time)."""
    return hmac.compare_digest(stored or _NO_SECRET, digest(secret)) and stored is not None

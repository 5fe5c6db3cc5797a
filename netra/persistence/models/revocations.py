"""The `token_revocations` table: the ids (`jti`) of access tokens refused before they expire.

A sign-out adds its token's `jti` with the token's expiry; rows whose `expires_at` has
passed are of no more use (the token is refused as expired anyway) and are purged. The
OAuth hand-off also records its one-time code's `jti` here, so that a code is used once.

It is a plain table, not a mapped class: a set of ids with an expiry, no `id` or
`created_at` of its own.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from netra.persistence.models.base import Base, UTCDateTime

JTI_CHARS = 64

token_revocations = Table(
    "token_revocations", Base.metadata,
    Column("jti", String(JTI_CHARS), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_token_revocations_expires_at", "expires_at"),
)

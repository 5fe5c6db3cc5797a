"""Durable sign-outs and OpenID identities: `token_revocations`, `users.oidc_issuer` / `oidc_subject`.

`token_revocations(jti, expires_at)` replaces the in-process / Redis list of signed-out
tokens, which forgot entries (512 at most in process) and nothing at all while Redis was
down. The users gain the (issuer, subject) pair OAuth sign-ins match on, unique together
(a unique index, so SQLite needs no table copy); existing users keep nulls until their next
OAuth sign-in links them.

Revision ID: 0003_revocations
Revises: 0002_workspaces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_revocations"
down_revision = "0002_workspaces"
branch_labels = None
depends_on = None

IDENTITY_COLUMNS = {"oidc_issuer": 300, "oidc_subject": 255}  # name -> length; both nullable


def upgrade() -> None:
    """Create `token_revocations`; add the users' OpenID identity columns and their unique index."""
    op.create_table("token_revocations", sa.Column("jti", sa.String(64), nullable=False),
                    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("jti", name="pk_token_revocations"))
    op.create_index("ix_token_revocations_expires_at", "token_revocations", ["expires_at"])
    for name, length in IDENTITY_COLUMNS.items():
        op.add_column("users", sa.Column(name, sa.String(length), nullable=True))
    op.create_index("ix_users_oidc_identity", "users", ["oidc_issuer", "oidc_subject"], unique=True)


def downgrade() -> None:
    """Drop the identity index and columns, then `token_revocations`."""
    op.drop_index("ix_users_oidc_identity", table_name="users")
    for name in IDENTITY_COLUMNS:  # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would drop
        op.drop_column("users", name)  # `users`, and with foreign keys on that cascades to every record
    op.drop_table("token_revocations")

"""Workspaces: `workspaces`, `workspace_members`, `ingest_keys`, and `workspace_id` on every owned record.

Data: the embedded CLI's workspace `local` is created, every user gets a personal workspace
(named "Personal", the user its owner), and every existing thread, message, run, agent
run, report and reference moves into its owner's personal workspace. The (owner, time)
indexes of threads, runs and references become (workspace, owner, time) indexes.

On SQLite the altered tables are copied (batch mode); `migrations._run` turns foreign keys
off for the migration, so dropping the old copy of a table cascades to nothing.

Revision ID: 0002_workspaces
Revises: 0001_initial
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002_workspaces"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

LOCAL = "local"
OWNED = ("threads", "messages", "runs", "agent_runs", "agent_reports", "references")
INDEXED = ("threads", "runs", "references")  # their (user_id, created_at) index gains the workspace
ROLES = "role IN ('owner', 'admin', 'member', 'viewer')"
TIME = sa.DateTime(timezone=True)
WORKSPACES = sa.table("workspaces", sa.column("id", sa.String), sa.column("name", sa.String),
                      sa.column("personal_of", sa.String), sa.column("created_at", TIME))
MEMBERS = sa.table("workspace_members", sa.column("id", sa.String), sa.column("workspace_id", sa.String),
                   sa.column("user_id", sa.String), sa.column("role", sa.String), sa.column("created_at", TIME))


def _id() -> sa.Column:
    """Return the string-UUID primary key column."""
    return sa.Column("id", sa.String(36), primary_key=True)


def _ref(name: str, target: str, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:
    """Return a foreign key column to `target`.id."""
    return sa.Column(name, sa.String(36), sa.ForeignKey(f"{target}.id", ondelete=ondelete), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column:
    """Return a timezone-aware timestamp column."""
    return sa.Column(name, TIME, nullable=nullable)


def _text(name: str, length: int) -> sa.Column:
    """Return a required string column."""
    return sa.Column(name, sa.String(length), nullable=False)


def _workspace_columns() -> list[sa.SchemaItem]:
    """Return the columns and constraints of `workspaces`."""
    return [_id(), _text("name", 200), _ref("personal_of", "users", nullable=True), _time("created_at"),
            sa.UniqueConstraint("personal_of")]


def _member_columns() -> list[sa.SchemaItem]:
    """Return the columns and constraints of `workspace_members`."""
    return [_id(), _ref("workspace_id", "workspaces"), _ref("user_id", "users"), _text("role", 16),
            _time("created_at"), sa.UniqueConstraint("workspace_id", "user_id"), sa.CheckConstraint(ROLES, name="role")]


def _key_columns() -> list[sa.SchemaItem]:
    """Return the columns and constraints of `ingest_keys`."""
    return [_id(), _ref("workspace_id", "workspaces"), _text("name", 100), _text("prefix", 16),
            _text("secret_sha256", 64), _text("scopes", 64), _ref("created_by", "users", True, "SET NULL"),
            _time("last_used_at", True), _time("revoked_at", True), _time("created_at"), sa.UniqueConstraint("prefix")]


# table -> its columns, in creation order (each call makes new column objects)
NEW_TABLES = {"workspaces": _workspace_columns, "workspace_members": _member_columns, "ingest_keys": _key_columns}
NEW_INDEXES = (("ix_workspace_members_user_id", "workspace_members", ["user_id"]),
               ("ix_ingest_keys_workspace_id_created_at", "ingest_keys", ["workspace_id", "created_at"]))


def _create_tables() -> None:
    """Create `workspaces`, `workspace_members` and `ingest_keys` with their indexes."""
    for name, columns in NEW_TABLES.items():
        op.create_table(name, *columns())
    for index, table, columns in NEW_INDEXES:
        op.create_index(index, table, columns)


def _workspaces_of_users() -> None:
    """Create `local`, and a personal workspace owned by each user."""
    now = datetime.now(timezone.utc)
    users = op.get_bind().execute(sa.select(sa.column("id")).select_from(sa.table("users"))).scalars().all()
    personal = [{"id": str(uuid.uuid4()), "name": "Personal", "personal_of": user, "created_at": now} for user in users]
    op.bulk_insert(WORKSPACES, [{"id": LOCAL, "name": "Local", "personal_of": None, "created_at": now}, *personal])
    op.bulk_insert(MEMBERS, [{"id": str(uuid.uuid4()), "workspace_id": row["id"], "user_id": row["personal_of"],
                              "role": "owner", "created_at": now} for row in personal])


def _move_into_personal(table: str) -> None:
    """Add `workspace_id` to `table` and fill it with each row's owner's personal workspace."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("workspace_id", sa.String(36), nullable=True))
    rows = sa.table(table, sa.column("workspace_id", sa.String), sa.column("user_id", sa.String))
    personal = sa.select(WORKSPACES.c.id).where(WORKSPACES.c.personal_of == rows.c.user_id).scalar_subquery()
    op.execute(rows.update().values(workspace_id=personal))


def _constrain(table: str) -> None:
    """Make `workspace_id` required and a cascading key of `workspaces`; re-key the owner index."""
    with op.batch_alter_table(table) as batch:
        batch.alter_column("workspace_id", existing_type=sa.String(36), nullable=False)
        batch.create_foreign_key(f"fk_{table}_workspace_id_workspaces", "workspaces", ["workspace_id"], ["id"],
                                 ondelete="CASCADE")
        if table in INDEXED:
            batch.drop_index(f"ix_{table}_user_id_created_at")
            batch.create_index(f"ix_{table}_workspace_id_user_id_created_at", ["workspace_id", "user_id", "created_at"])


def upgrade() -> None:
    """Create the workspace tables, every user's personal workspace, and move the records into them."""
    _create_tables()
    _workspaces_of_users()
    for table in OWNED:
        _move_into_personal(table)
        _constrain(table)


def _unconstrain(table: str) -> None:
    """Drop `workspace_id` (its key and index) from `table`; restore the owner index."""
    with op.batch_alter_table(table) as batch:
        if table in INDEXED:
            batch.drop_index(f"ix_{table}_workspace_id_user_id_created_at")
            batch.create_index(f"ix_{table}_user_id_created_at", ["user_id", "created_at"])
        batch.drop_constraint(f"fk_{table}_workspace_id_workspaces", type_="foreignkey")
        batch.drop_column("workspace_id")


def downgrade() -> None:
    """Drop `workspace_id` from the records, then the workspace tables (records stay with their owners)."""
    for table in OWNED:
        _unconstrain(table)
    for table in reversed(NEW_TABLES):
        op.drop_table(table)

"""Initial schema: every records table with its indexes.

The tables are a frozen snapshot of the models at this revision (its own `MetaData`), so
later model changes never alter what this revision creates.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

META = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
STATUSES = "status IN ('pending', 'running', 'success', 'error', 'interrupted', 'cancelled')"


def _id() -> sa.Column:
    """Return the string-UUID primary key column."""
    return sa.Column("id", sa.String(36), primary_key=True)


def _time(name: str, nullable: bool = False) -> sa.Column:
    """Return a timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ref(name: str, target: str) -> sa.Column:
    """Return a required foreign key column to `target`.id, cascading deletes."""
    return sa.Column(name, sa.String(36), sa.ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=False)


def _text(name: str, length: int | None = None, nullable: bool = False) -> sa.Column:
    """Return a string column (TEXT when no length)."""
    return sa.Column(name, sa.String(length) if length else sa.Text(), nullable=nullable)


sa.Table("users", META, _id(), _text("email", 320), _text("name", 200), _text("role", 16),
         _time("created_at"), _time("updated_at"), sa.UniqueConstraint("email"),
         sa.CheckConstraint("role IN ('user', 'admin', 'developer')", name="role"))
sa.Table("threads", META, _id(), _ref("user_id", "users"), _text("title", 300),
         sa.Column("metadata", JSON, nullable=False), _time("created_at"), _time("updated_at"),
         sa.Index("ix_threads_user_id_created_at", "user_id", "created_at"))
sa.Table("messages", META, _id(), _ref("user_id", "users"), _ref("thread_id", "threads"), _text("role", 16),
         _text("content"), _time("created_at"),
         sa.Index("ix_messages_thread_id_created_at", "thread_id", "created_at"),
         sa.CheckConstraint("role IN ('user', 'assistant', 'system', 'tool')", name="role"))
sa.Table("runs", META, _id(), _ref("user_id", "users"), _ref("thread_id", "threads"), _text("status", 16),
         _text("question"), _text("strategy", 32), _time("started_at", True), _time("finished_at", True),
         _text("error", nullable=True), _time("created_at"),
         sa.Index("ix_runs_status", "status"), sa.Index("ix_runs_user_id_created_at", "user_id", "created_at"),
         sa.Index("ix_runs_thread_id_created_at", "thread_id", "created_at"),
         sa.CheckConstraint(STATUSES, name="status"))
sa.Table("agent_runs", META, _id(), _ref("user_id", "users"), _ref("run_id", "runs"), _text("agent", 64),
         _text("status", 16), _time("started_at", True), _time("finished_at", True),
         sa.Column("duration_ms", sa.Integer(), nullable=True), _text("error", nullable=True),
         _time("created_at"), sa.Index("ix_agent_runs_run_id", "run_id"),
         sa.CheckConstraint(STATUSES, name="status"))
sa.Table("agent_reports", META, _id(), _ref("user_id", "users"), _ref("run_id", "runs"), _text("markdown"),
         sa.Column("structured", JSON, nullable=False), sa.Column("grounded", sa.Boolean(), nullable=False),
         _time("created_at"), sa.Index("ix_agent_reports_run_id", "run_id"))
sa.Table("references", META, _id(), _ref("user_id", "users"), _text("name", 200), _text("content"),
         _text("url", 2048, nullable=True), _time("created_at"), _time("updated_at"),
         sa.Index("ix_references_user_id_created_at", "user_id", "created_at"))
sa.Table("supply_catalog", META, _id(), _text("model_key", 200), _text("provider", 100),
         sa.Column("prices", JSON, nullable=False), sa.Column("quality", JSON, nullable=False),
         _time("created_at"), _time("updated_at"), sa.UniqueConstraint("model_key"))
sa.Table("user_secrets", META, _id(), _ref("user_id", "users"), _text("name", 100), _text("ciphertext"),
         _time("created_at"), _time("updated_at"), sa.UniqueConstraint("user_id", "name"))
sa.Table("oauth_secrets", META, _id(), _text("provider", 64), _text("client_id", 300),
         _text("client_secret_ciphertext"), _time("created_at"), _time("updated_at"),
         sa.UniqueConstraint("provider"))


def upgrade() -> None:
    """Create every table and index of this revision."""
    META.create_all(op.get_bind())


def downgrade() -> None:
    """Drop every table of this revision."""
    META.drop_all(op.get_bind())

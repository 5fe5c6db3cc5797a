"""Alembic environment: runs on the connection `netra.persistence.migrations` hands over.

`render_as_batch` is on for SQLite, so later revisions can alter tables there (copy and
move). Autogenerate compares against `netra.persistence.models.Base.metadata`.
"""

from __future__ import annotations

from alembic import context

from netra.persistence.models import Base


def run_migrations() -> None:
    """Run the pending revisions in one transaction on the given connection."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

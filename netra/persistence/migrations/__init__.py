"""Alembic migrations of the records database, run programmatically (no alembic.ini).

    upgrade("sqlite:///.netra/netra.db")      # or postgresql://user@host/db
    current(url)  -> "0001_initial" | None
    head()        -> "0001_initial"

Migrations run on a sync driver (psycopg / sqlite3) in one transaction; on PostgreSQL an
advisory lock keeps two processes from migrating at once. On SQLite foreign keys are off
while migrating (a table altered in batch mode is copied and the old one dropped, which with
foreign keys on would delete its children), and are checked when the migration is done.
Upgrading at head does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from netra.errors import ServiceError
from netra.persistence.db import make_sync_engine

HERE = Path(__file__).resolve().parent
_LOCK_ID = 0x6E6574726164  # "netrad": the advisory lock migrations hold on PostgreSQL


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic config for these migrations, bound to `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _lock(connection: Connection) -> None:
    """Hold the migration lock until the transaction ends (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})


def _prepare(connection: Connection) -> None:
    """Turn SQLite's foreign keys off (before the transaction writes anything); take PostgreSQL's lock."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    _lock(connection)


def _check_foreign_keys(connection: Connection) -> None:
    """Raise ServiceError (rolling the migration back) when it left a SQLite row whose parent is missing."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise ServiceError(f"the migration left {len(broken)} rows without their parent (first: {tuple(broken[0])})")


def _migrate(connection: Connection, action: str, target: str) -> None:
    """Run `alembic <action> <target>` on the connection: prepared first, foreign keys checked after."""
    _prepare(connection)
    getattr(command, action)(alembic_config(connection), target)
    _check_foreign_keys(connection)


def _run(database_url: str, action: str, target: str) -> None:
    """Run `alembic <action> <target>` in one transaction on the database."""
    engine = make_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            _migrate(connection, action, target)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every pending revision up to `revision` (sync; safe to repeat).

    Raises:
        ConfigError: the URL is neither SQLite nor PostgreSQL.
    """
    _run(database_url, "upgrade", revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Revert revisions down to `revision` (`base` drops every table)."""
    _run(database_url, "downgrade", revision)


def current(database_url: str) -> str | None:
    """Return the database's revision, or None when it was never migrated."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """Return the newest revision these migrations define."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()

"""The records database: async engine and session factory from settings.

`postgresql://` URLs run on psycopg 3 (`postgresql+psycopg://`, async in the app, sync for
Alembic); `sqlite:///` URLs run on aiosqlite in the app and the stdlib driver for Alembic.
SQLite connections turn foreign keys on, so `ON DELETE CASCADE` holds on both backends. A
SQLite file is created by `netra.persistence.files` before SQLite opens it: mode 0600, in a
folder of mode 0700 (when they are new). PostgreSQL connections give up after
`CONNECT_TIMEOUT_S`, so a database that is gone is reported (503) rather than waited for.

    engine = create_engine_from_settings()
    sessions = make_session_factory(engine)
    async with UnitOfWork(sessions) as uow: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from netra.config import Settings, get_settings
from netra.errors import ConfigError
from netra.persistence.files import private_file

ASYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
                 "sqlite": "sqlite+aiosqlite"}
SYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "sqlite": "sqlite"}
CONNECT_TIMEOUT_S = 5  # a PostgreSQL connection attempt (libpq's connect_timeout)


def _scheme(url: str) -> str:
    """Return the URL's scheme without its driver (`postgresql+psycopg` -> `postgresql`)."""
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme not in SYNC_DRIVERS:  # the message leaves out credentials
        raise ConfigError(f"NETRA_DATABASE_URL=...{url.split('@')[-1]!r}: expected sqlite:/// or postgresql://")
    return scheme


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    """Return `url` with the driver that `drivers` names for its scheme."""
    return drivers[_scheme(url)] + "://" + url.split("://", 1)[1]


def async_url(url: str) -> str:
    """Return the async-driver URL (`postgresql+psycopg://`, `sqlite+aiosqlite:///`).

    Raises:
        ConfigError: the scheme is neither SQLite nor PostgreSQL.
    """
    return _with_driver(url, ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    """Return the sync-driver URL Alembic uses (`postgresql+psycopg://`, `sqlite:///`).

    Raises:
        ConfigError: the scheme is neither SQLite nor PostgreSQL.
    """
    return _with_driver(url, SYNC_DRIVERS)


def redacted(url: str) -> str:
    """Return the URL with its password hidden, fit for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    """Return whether the URL names a SQLite database."""
    return _scheme(url) == "sqlite"


def _ensure_sqlite_folder(url: str) -> None:
    """Create a file-backed SQLite database's folder (0700) and empty file (0600) when they are missing."""
    database = make_url(url).database
    if database and database != ":memory:":
        private_file(Path(database))


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    """Turn SQLite's foreign-key enforcement on for a new connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _pool_options(url: str, pool_size: int, max_overflow: int) -> dict[str, Any]:
    """Return the engine's pool options: sized for PostgreSQL, SQLAlchemy's defaults for SQLite."""
    if is_sqlite(url):
        return {}
    return {"pool_size": pool_size, "max_overflow": max_overflow, "pool_pre_ping": True,
            "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    """Return an async engine for a `sqlite:///` or `postgresql://` URL.

    Raises:
        ConfigError: the scheme is neither SQLite nor PostgreSQL.
    """
    options = _pool_options(url, pool_size, max_overflow)
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
    engine = create_async_engine(async_url(url), **options)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _foreign_keys_on)
    return engine


def make_sync_engine(url: str) -> Engine:
    """Return a sync engine (for migrations), foreign keys on for SQLite.

    Raises:
        ConfigError: the scheme is neither SQLite nor PostgreSQL.
    """
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
    engine = create_engine(sync_url(url))
    if is_sqlite(url):
        event.listen(engine, "connect", _foreign_keys_on)
    return engine


def create_engine_from_settings(settings: Settings | None = None) -> AsyncEngine:
    """Return the app's async engine for `resolved_database_url()` with the configured pool."""
    settings = settings or get_settings()
    return make_engine(settings.resolved_database_url(), settings.db_pool_size, settings.db_max_overflow)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory: objects stay readable after commit (`expire_on_commit=False`)."""
    return async_sessionmaker(engine, expire_on_commit=False)

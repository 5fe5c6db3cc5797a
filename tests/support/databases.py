"""Throw-away databases for tests: created with a unique name, dropped after.

    with fresh_pg(base_url) as url: ...        # a new, empty PostgreSQL database
    with migrated_pg(base_url) as url: ...     # a new PostgreSQL database already at the schema's head
    migrated_sqlite(home / "netra.db")         # a new SQLite file already at the schema's head

Migrating a database to head takes most of a second, so each process migrates one template
per PostgreSQL server (and one SQLite file) and copies it; the app's own migration then finds
the copy at head. Dropping a database makes PostgreSQL checkpoint (a second or more on a busy
disk), so drops run in a background thread, in order; `TEMPLATES.close()` (at the end of the
session) waits for them, raises the first that failed, and drops the templates.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import psycopg

from netra.persistence import migrations


def admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def database_url(base_url: str, name: str) -> str:
    """Return the URL of the database `name` on `base_url`'s server."""
    return base_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Templates:
    """Databases migrated to head once per process, copied for each test; the background drops."""

    pg: dict[str, str] = field(default_factory=dict)  # base URL -> template database name
    sqlite: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    drops: list[Future] = field(default_factory=list)
    dropper: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "drop-database"))

    def pg_template(self, base_url: str) -> str:
        """Return the name of the migrated template database on `base_url`'s server (made on first use)."""
        with self.lock:
            if base_url not in self.pg:
                self.pg[base_url] = _migrated_template(base_url)
            return self.pg[base_url]

    def sqlite_template(self) -> Path:
        """Return the migrated SQLite file (made on first use)."""
        with self.lock:
            if self.sqlite is None:
                self.sqlite = Path(tempfile.mkdtemp(prefix="netra-template-")) / "netra.db"
                migrations.upgrade(f"sqlite:///{self.sqlite}")
            return self.sqlite

    def drop(self, base_url: str, name: str) -> None:
        """Drop the database `name` in the background."""
        self.drops.append(self.dropper.submit(admin, base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the templates and wait for every drop (raising the first failure): once, at the end."""
        for base_url, name in self.pg.items():
            self.drop(base_url, name)
        self.dropper.shutdown(wait=True)
        _remove_sqlite(self.sqlite)
        for future in self.drops:
            future.result()


TEMPLATES = Templates()


def _migrated_template(base_url: str) -> str:
    name = f"netra_template_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}"')
    migrations.upgrade(database_url(base_url, name))
    return name


def _remove_sqlite(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)


@contextlib.contextmanager
def _created(base_url: str, prefix: str, template: str | None) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield database_url(base_url, name)
    finally:
        TEMPLATES.drop(base_url, name)


@contextlib.contextmanager
def fresh_pg(base_url: str, prefix: str = "netra_test") -> Iterator[str]:
    """Yield the URL of a new, empty, uniquely named database on `base_url`'s server, dropped afterwards."""
    with _created(base_url, prefix, None) as url:
        yield url


@contextlib.contextmanager
def migrated_pg(base_url: str, prefix: str = "netra_test") -> Iterator[str]:
    """Yield the URL of a new database at the schema's head (a copy of the template), dropped afterwards."""
    with _created(base_url, prefix, TEMPLATES.pg_template(base_url)) as url:
        yield url


def migrated_sqlite(path: Path) -> Path:
    """Write a copy of the migrated SQLite file at `path` (its folder created); return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES.sqlite_template(), path)
    return path

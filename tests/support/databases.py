"""Throw-away databases for tests: created with a unique name, dropped after.

    with fresh_pg(base_url) as url: ...        # a new, empty PostgreSQL database
    with migrated_pg(base_url) as url: ...     # a new PostgreSQL database already at the schema's head
    migrated_sqlite(home / "netra.db")         # a new SQLite file already at the schema's head

Migrating a database to head takes most of a second, so each process migrates one template
per PostgreSQL server (and one SQLite file) and copies it; the app's own migration then finds
the copy at head. Copying takes about 0.4 s (the template's 8 MB, catalogs included, go through
the write-ahead log), so the next copy is made in a background thread while a test runs, and a
test takes the one made ahead (renamed with its prefix). Dropping a database makes PostgreSQL
checkpoint (a second or more on a busy disk), so drops run in that thread too, in order;
`TEMPLATES.close()` (at the end of the session) waits for them, raises the first that failed,
and drops the templates and the copies no test took.
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
    """Databases migrated to head once per process, copied for each test (one copy made ahead); the background work."""

    pg: dict[str, str] = field(default_factory=dict)  # base URL -> template database name
    sqlite: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    drops: list[Future] = field(default_factory=list)
    dropper: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "drop-database"))
    ahead: dict[str, Future] = field(default_factory=dict)  # base URL -> the copy being made for the next test

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

    def copy(self, base_url: str, prefix: str) -> str:
        """Return the name (`prefix_...`) of a new copy of the template: the one made ahead; start the next."""
        template = self.pg_template(base_url)
        with self.lock:
            ready = self.ahead.pop(base_url, None) or self.dropper.submit(_copied, base_url, template)
            self.ahead[base_url] = self.dropper.submit(_copied, base_url, template)
        return _renamed(base_url, ready.result(), prefix)

    def drop(self, base_url: str, name: str) -> None:
        """Drop the database `name` in the background."""
        self.drops.append(self.dropper.submit(admin, base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the templates and any copy no test took; wait for every drop (raising the first failure): at the end."""
        for base_url, name in [*self.pg.items(), *self._untaken()]:
            self.drop(base_url, name)
        self.dropper.shutdown(wait=True)
        _remove_sqlite(self.sqlite)
        for future in self.drops:
            future.result()

    def _untaken(self) -> list[tuple[str, str]]:
        """Return (base URL, name) of each copy made ahead that no test took."""
        return [(base_url, copy.result()) for base_url, copy in self.ahead.items()]


TEMPLATES = Templates()


def _migrated_template(base_url: str) -> str:
    name = f"netra_template_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}"')
    migrations.upgrade(database_url(base_url, name))
    return name


def _copied(base_url: str, template: str) -> str:
    """Copy `template` to a new uniquely named database; return its name."""
    name = f"netra_copy_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def _renamed(base_url: str, name: str, prefix: str) -> str:
    """Rename the database `name` (no one is connected to it) to `prefix_...`; return the new name."""
    new = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'ALTER DATABASE "{name}" RENAME TO "{new}"')
    return new


def _remove_sqlite(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)


@contextlib.contextmanager
def _dropped_after(base_url: str, name: str) -> Iterator[str]:
    """Yield the URL of the database `name`; drop it (in the background) afterwards."""
    try:
        yield database_url(base_url, name)
    finally:
        TEMPLATES.drop(base_url, name)


@contextlib.contextmanager
def fresh_pg(base_url: str, prefix: str = "netra_test") -> Iterator[str]:
    """Yield the URL of a new, empty, uniquely named database on `base_url`'s server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}"')
    with _dropped_after(base_url, name) as url:
        yield url


@contextlib.contextmanager
def migrated_pg(base_url: str, prefix: str = "netra_test") -> Iterator[str]:
    """Yield the URL of a new database at the schema's head (a copy of the template), dropped afterwards."""
    with _dropped_after(base_url, TEMPLATES.copy(base_url, prefix)) as url:
        yield url


def migrated_sqlite(path: Path) -> Path:
    """Write a copy of the migrated SQLite file at `path` (its folder created); return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES.sqlite_template(), path)
    return path

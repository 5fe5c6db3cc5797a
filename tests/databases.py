"""Throw-away PostgreSQL databases for tests: created with a unique name, dropped after."""

from __future__ import annotations

import contextlib
import uuid
from typing import Iterator

import psycopg


def admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def fresh_pg(base_url: str, prefix: str = "netra_test") -> Iterator[str]:
    """Yield the URL of a new, uniquely named database on `base_url`'s server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin(base_url, f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

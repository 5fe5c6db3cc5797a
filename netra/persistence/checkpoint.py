"""Checkpointer factory: SQLite embedded, PostgreSQL when the database URL says so.

The PostgreSQL connection must be in autocommit mode, or checkpoints are silently lost;
`setup()` creates the saver's tables once (it is idempotent).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from langgraph.checkpoint.base import BaseCheckpointSaver

from netra.errors import ConfigError
from netra.persistence.files import private_file


def _sqlite(url: str) -> tuple[BaseCheckpointSaver, Callable[[], None]]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(url.split("///", 1)[1]) if "///" in url else Path(":memory:")
    if path.name != ":memory:":
        private_file(path)  # 0600, before SQLite creates it
    conn = sqlite3.connect(str(path), check_same_thread=False)
    return SqliteSaver(conn), conn.close


def _postgres(url: str) -> tuple[BaseCheckpointSaver, Callable[[], None]]:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    conn = psycopg.connect(_plain_pg(url), autocommit=True, prepare_threshold=0, row_factory=dict_row)
    return PostgresSaver(conn), conn.close


def _plain_pg(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest


SAVERS: dict[str, Callable[[str], tuple[BaseCheckpointSaver, Callable[[], None]]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
}


def _saver_for(url: str) -> tuple[BaseCheckpointSaver, Callable[[], None]]:
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme not in SAVERS:  # the message leaves out credentials
        raise ConfigError(f"NETRA_DATABASE_URL=...{url.split('@')[-1]!r}: expected sqlite:/// or postgresql://")
    return SAVERS[scheme](url)


@contextmanager
def open_checkpointer(url: str) -> Iterator[BaseCheckpointSaver]:
    """Open the checkpointer for a database URL (set up, closed on exit)."""
    saver, close = _saver_for(url)
    try:
        saver.setup()
        yield saver
    finally:
        close()

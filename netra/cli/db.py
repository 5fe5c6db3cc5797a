"""`netra db upgrade` and `netra db current`: migrate and inspect the records database.

Both act on `NETRA_DATABASE_URL` (SQLite under NETRA_HOME when unset); messages show the
URL with its password hidden. See docs/records.md.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from netra.config import get_settings
from netra.persistence import migrations
from netra.persistence.db import redacted


def _url() -> str:
    """Return the configured records database URL."""
    return get_settings().resolved_database_url()


def upgrade_database(console: Console) -> None:
    """Apply pending migrations and print the revision before and after.

    Raises:
        ConfigError: the URL is neither SQLite nor PostgreSQL.
    """
    url = _url()
    before = migrations.current(url) or "empty"
    migrations.upgrade(url)
    console.print(escape(f"{redacted(url)}: {before} -> {migrations.current(url)} (head)"))


def show_current(console: Console) -> None:
    """Print the database's revision and whether it is at head.

    Raises:
        ConfigError: the URL is neither SQLite nor PostgreSQL.
    """
    url, head = _url(), migrations.head()
    revision = migrations.current(url)
    state = "at head" if revision == head else f"behind head {head}: run `netra db upgrade`"
    console.print(escape(f"{redacted(url)}: {revision or 'empty'} ({state})"))

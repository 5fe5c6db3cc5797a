"""Query strings out of uvicorn's log lines: its access lines and its WebSocket handshake lines.

uvicorn logs the path of every request *with its query string*: `"GET /auth/callback?code=...
&state=..." 303` on `uvicorn.access`, `"WebSocket /ws?token=..." [accepted]` (and `403`) on
`uvicorn.error`. A query string may hold a credential: an OAuth code, or a token an old client
still puts in the URL. `QueryStringFilter` cuts every `?query` off the paths a record of those
loggers mentions, keeping the record's arguments a tuple of the same shape (uvicorn's access
formatter unpacks them). `install_query_filter()` puts it on both loggers, once.

A filter on a logger survives uvicorn's logging set-up (`dictConfig` replaces a configured
logger's handlers, not its filters), so installing it before `uvicorn.run` is enough.
`create_app` installs it, so `netra serve`, the test servers and `uvicorn --factory` alike
never log a query string. Netra's own access log (`netra.server.middleware`) logs paths only.
"""

from __future__ import annotations

import logging
import re
from typing import Any

QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")  # a path, then its query string up to a space or quote
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def strip_queries(text: str) -> str:
    """Return `text` with the query string of every path in it cut off."""
    return QUERY.sub(r"\1", text)


def _stripped(value: Any) -> Any:
    return strip_queries(value) if isinstance(value, str) else value


class QueryStringFilter(logging.Filter):
    """Cuts query strings off the message and arguments of each record (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and tuple arguments without their query strings."""
        record.msg = _stripped(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_stripped(arg) for arg in record.args)
        return True


def install_query_filter(names: tuple[str, ...] = UVICORN_LOGGERS) -> None:
    """Put a QueryStringFilter on each named logger that has none yet."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, QueryStringFilter) for existing in logger.filters):
            logger.addFilter(QueryStringFilter())

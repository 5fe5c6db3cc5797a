"""The query-string filter on uvicorn's loggers: paths keep, queries go, records keep their shape."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from netra.server.logfilter import QueryStringFilter, install_query_filter, strip_queries

# text, what is left of it
CASES = [
    ('"WebSocket /ws?token=eyJhbGciOi.x.y" [accepted]', '"WebSocket /ws" [accepted]'),
    ("/auth/callback?code=abc&state=def", "/auth/callback"),
    ("GET /api/threads HTTP/1.1", "GET /api/threads HTTP/1.1"),
    ("http://127.0.0.1:8000/ws?token=t failed", "http://127.0.0.1:8000/ws failed"),
    ("why?", "why?"),
]


@pytest.mark.parametrize(("text", "left"), CASES, ids=["handshake", "callback", "no query", "url", "prose"])
def test_strip_queries_cuts_the_query_of_every_path(text: str, left: str):
    assert strip_queries(text) == left


def test_an_access_record_keeps_its_argument_shape_for_uvicorns_formatter():
    """uvicorn's AccessFormatter unpacks five arguments: the filter rewrites them in place."""
    args = ("127.0.0.1:5000", "GET", "/auth/callback?code=secret", "1.1", 303)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    assert QueryStringFilter().filter(record)
    assert "secret" not in AccessFormatter("%(message)s", use_colors=False).format(record)


def test_install_puts_one_filter_on_each_uvicorn_logger():
    install_query_filter()
    install_query_filter()
    for name in ("uvicorn.access", "uvicorn.error"):
        assert sum(isinstance(f, QueryStringFilter) for f in logging.getLogger(name).filters) == 1

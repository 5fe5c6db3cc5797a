"""A real uvicorn server in a background thread on a free 127.0.0.1 port, for HTTP tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Callable, Iterator

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 10.0


@contextlib.contextmanager
def serving(make_app: Callable[[str], FastAPI], log_level: str = "warning", lifespan: str = "off",
            ws: str = "none") -> Iterator[str]:
    """Serve the app `make_app(base_url)` builds; yield the base URL; stop the server after.

    uvicorn's own X-Forwarded-For handling is off, as under `netra serve`: only the app's
    NETRA_TRUSTED_PROXIES decide who the client is.
    """
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(make_app(url), log_level=log_level, lifespan=lifespan, ws=ws, proxy_headers=False)
    server = uvicorn.Server(config)
    with _running(server, sock):
        yield url


@contextlib.contextmanager
def _running(server: uvicorn.Server, sock: socket.socket) -> Iterator[None]:
    thread = _started(server, sock)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _started(server: uvicorn.Server, sock: socket.socket) -> threading.Thread:
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    return thread

"""Reachability of real services: skip with a reason locally, fail under CI=true."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse, urlunparse

import pytest


def reachable(url: str) -> bool:
    """Return whether a TCP connection to the URL's host and port succeeds."""
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> str:
    """Return `url` if reachable; otherwise skip, or fail when CI=true."""
    if reachable(url):
        return url
    message = f"{name} is not reachable at {urlparse(url).netloc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: services are required)")
    pytest.skip(f"{message}; start it to run this test")


def worker_redis_url(url: str) -> str:
    """Return `url` with a Redis database number of this pytest-xdist worker: gw0 keeps it, gw1 the one below...

    Outside xdist the URL is unchanged. Redis has databases 0-15, so at most 16 workers.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlparse(url)
    number = int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    assert number >= 0, f"no Redis database left for worker {worker} below {url}"
    return urlunparse(parts._replace(path=f"/{number}"))

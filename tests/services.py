"""Reachability of real services: skip with a reason locally, fail under CI=true."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

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

"""HTTP clients for tests, sharing one TLS context.

    with client(base_url=url, timeout=30) as http: ...      # an httpx.Client, as httpx.Client(...) makes it
    request("POST", url + "/auth/dev-login", json=body)     # one request, as httpx.post(...) sends it
    answers(http, url + "/health")                          # whether a URL answers 200 (not up yet: False)

httpx builds a TLS context for every client it makes, loading the whole CA bundle: about 60 ms of
CPU each, and the suites make hundreds (a client per signed-in user). The servers under test
speak plain HTTP, so the context is never used; one context, built with httpx's own defaults
(`httpx.create_ssl_context()`), serves every client.
"""

from __future__ import annotations

from typing import Any

import contextlib

import httpx

TLS = httpx.create_ssl_context()


def client(**options: Any) -> httpx.Client:
    """Return an `httpx.Client` with `options`, sharing the suite's TLS context."""
    return httpx.Client(verify=TLS, **options)


def request(method: str, url: str, **options: Any) -> httpx.Response:
    """Send one request with a client of its own (as `httpx.request` does), sharing the suite's TLS context."""
    with client() as http:
        return http.request(method, url, **options)


def answers(http: httpx.Client, url: str) -> bool:
    """Return whether `GET url` answers 200 with `http`; False when nothing answers (a server not up yet)."""
    with contextlib.suppress(httpx.HTTPError):
        return http.get(url).status_code == 200
    return False

"""HTTP clients of the model path, sharing one TLS context.

    httpx.Client(verify=tls_context(), ...)                # each chat model's sync client (netra.llm.usage)
    httpx.get(url, timeout=3.0, verify=tls_context())     # a context probe (netra.llm.budget)

httpx builds a TLS context for every client it makes, loading the whole CA bundle: about 60 ms
of CPU each. The model path made one per chat model (its sync client) and one per context
probe; now one context serves them all, built with httpx's own defaults
(`httpx.create_ssl_context()`: certifi's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when
set). One is kept per value of those two variables, so a changed environment still gets the
CA bundle it names. An `ssl.SSLContext` is safe to share across threads and event loops;
clients are not shared. The async client stays langchain_openai's default, which it already
keeps one of per endpoint and timeout.
"""

from __future__ import annotations

import os
import ssl
import threading

import httpx

# environment variables httpx reads when it builds its default TLS context
CERT_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_LOCK = threading.Lock()
# the CA environment (`CERT_ENV` values) -> the context clients share
CONTEXTS: dict[tuple[str | None, ...], ssl.SSLContext] = {}


def tls_context() -> ssl.SSLContext:
    """Return the process's TLS context for the current CA environment, built on first use."""
    key = tuple(os.environ.get(name) for name in CERT_ENV)
    with _LOCK:
        if key not in CONTEXTS:
            CONTEXTS[key] = httpx.create_ssl_context()
        return CONTEXTS[key]


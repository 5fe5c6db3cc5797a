"""`netra serve`: run the HTTP API (ingest endpoints, OTLP/HTTP traces) with uvicorn.

Ingestion is not authenticated yet, so the server binds to 127.0.0.1 unless told otherwise,
and warns when it is told to listen beyond the loopback interface.
"""

from __future__ import annotations

import ipaddress

from rich.console import Console

UNAUTHENTICATED = ("[yellow]warning:[/] ingestion is not authenticated yet; anyone who can reach "
                   "{host}:{port} can write events. Bind to 127.0.0.1 or put an authenticating proxy in front.")


def is_loopback(host: str) -> bool:
    """Return whether `host` names only the loopback interface."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `create_app()` on host:port until interrupted."""
    import uvicorn

    from netra.server import create_app

    if not is_loopback(host):
        Console(stderr=True).print(UNAUTHENTICATED.format(host=host, port=port))
    uvicorn.run(create_app(), host=host, port=port, access_log=False)  # ours never logs query strings (tokens)

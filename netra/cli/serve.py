"""`netra serve`: run the HTTP API, WebSocket, SSE and web page with uvicorn.

The server binds to 127.0.0.1 unless told otherwise, and warns when it is told to listen
beyond the loopback interface: with the default `NETRA_AUTH_MODE=dev` anyone who can reach
it can sign in as any user through the development login.
"""

from __future__ import annotations

import ipaddress

from rich.console import Console

UNAUTHENTICATED = ("[yellow]warning:[/] listening on {host}:{port}; with NETRA_AUTH_MODE=dev anyone who can "
                   "reach it can sign in as any user. Use NETRA_AUTH_MODE=oauth for a shared server.")


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

"""`netra serve`: run the HTTP API, WebSocket, SSE and web page with uvicorn.

The server binds to 127.0.0.1 unless told otherwise. Before it listens, `check_startup`
refuses what would be unsafe, and `netra` exits with one line naming the setting:

- a signing key under 32 characters (`NETRA_JWT_SECRET`, or the `NETRA_SECRET_KEY` it is
  derived from; see `netra.server.auth.tokens.jwt_secret`);
- the development login (`NETRA_AUTH_MODE=dev`: anyone may sign in as any email, no password)
  on an address beyond the loopback interface.

`--otlp-grpc-port` (or `NETRA_OTLP_GRPC_PORT`) also serves OTLP/gRPC on the same interface
(`netra.server.otlp.receiver`), started and stopped with the app.

uvicorn's access log stays off (Netra's own logs each request, without its query string),
and the app's `QueryStringFilter` cuts query strings off uvicorn's WebSocket handshake lines.
"""

from __future__ import annotations

import ipaddress

from netra.config import Settings, get_settings
from netra.errors import ConfigError
from netra.server.auth.tokens import token_config

DEV_BEYOND_LOOPBACK = ("NETRA_AUTH_MODE=dev lets anyone sign in as any user without a password, so it serves only "
                       "on the loopback interface, not {host}: bind to 127.0.0.1 (--host), or set "
                       "NETRA_AUTH_MODE=oauth with an OpenID provider for a shared server")


def is_loopback(host: str) -> bool:
    """Return whether `host` names only the loopback interface."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_startup(settings: Settings, host: str) -> None:
    """Refuse to serve with a weak signing key, or with the development login beyond loopback.

    Raises:
        ConfigError: either; its message names the setting (never a secret).
    """
    token_config(settings)
    if settings.auth_mode == "dev" and not is_loopback(host):
        raise ConfigError(DEV_BEYOND_LOOPBACK.format(host=host))


def served_settings(settings: Settings, host: str, otlp_grpc_port: int | None) -> Settings:
    """Return the settings to serve with: the OTLP/gRPC receiver on `host`, on the flag's port if given."""
    port = settings.otlp_grpc_port if otlp_grpc_port is None else otlp_grpc_port
    return settings.model_copy(update={"otlp_grpc_port": port, "otlp_grpc_host": host})


def run_server(host: str = "127.0.0.1", port: int = 8000, otlp_grpc_port: int | None = None) -> None:
    """Serve `create_app()` on host:port until interrupted (after `check_startup`); OTLP/gRPC when a port is set."""
    settings = served_settings(get_settings(), host, otlp_grpc_port)
    check_startup(settings, host)  # before the server's imports: a refusal answers at once
    import uvicorn

    from netra.server import create_app

    uvicorn.run(create_app(settings), host=host, port=port, access_log=False)  # ours never logs query strings

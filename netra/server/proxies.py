"""The client's address: `X-Forwarded-For` is believed only from the proxies of NETRA_TRUSTED_PROXIES.

    Middleware(ClientAddressMiddleware, proxies=TrustedProxies.of(settings.trusted_proxies))

The address a request came from (the ASGI `client`) is its peer. When the peer is a trusted
proxy, `X-Forwarded-For` is read from its right end: each address a trusted proxy appended is
skipped, and the first one that is not a trusted proxy is the client (a client cannot push its
own entries past the proxies, as they only ever append). The client then replaces the peer in
the scope, so rate limits (`netra.server.ratelimit.client_id`) and the access log see it. With
no trusted proxies, or from any other peer, `X-Forwarded-For` is ignored.

uvicorn rewrites the client from `X-Forwarded-For` itself for peers in `--forwarded-allow-ips`
(127.0.0.1 by default): run it with `proxy_headers=False` (`--no-proxy-headers`) so that this
setting alone decides.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Union

from starlette.datastructures import Headers

from netra.errors import ConfigError
from netra.server.middleware import ASGIApp, Scope, Send

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
SCOPE_TYPES = ("http", "websocket")


def network_of(entry: str) -> Network:
    """Return the network of an IP or CIDR entry of NETRA_TRUSTED_PROXIES (ConfigError when it is neither)."""
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        raise ConfigError(f"NETRA_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network") from None


def address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the IP address `text` holds, or None when it holds none."""
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose `X-Forwarded-For` is believed."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, entries: list[str]) -> TrustedProxies:
        """Return the proxies of NETRA_TRUSTED_PROXIES entries (IPs or CIDRs)."""
        return cls(tuple(network_of(entry) for entry in entries))

    def trusts(self, text: str) -> bool:
        """Return whether `text` is the address of a trusted proxy."""
        address = address_of(text)
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded: str) -> str:
        """Return the client's address: the peer, or the nearest untrusted hop that trusted proxies forwarded."""
        client = peer
        for hop in reversed([hop.strip() for hop in forwarded.split(",") if hop.strip()]):
            if address_of(hop) is None or not self.trusts(client):
                break
            client = hop
        return client


class ClientAddressMiddleware:
    """Put the client's real address in the scope (from `X-Forwarded-For` of trusted proxies only)."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        """Answer the request with its client address resolved."""
        peer = scope.get("client")
        if scope["type"] in SCOPE_TYPES and peer and self.proxies.networks:
            forwarded = Headers(scope=scope).get("x-forwarded-for", "")
            scope["client"] = (self.proxies.client(peer[0], forwarded), peer[1])
        await self.app(scope, receive, send)

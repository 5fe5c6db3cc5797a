"""The server's public settings, for clients deciding what to show (no token needed).

    GET /api/config   -> {"version", "auth_mode", "oauth_enabled", "offline", "llm_model",
                          "strategy", "strategies", "rate_limit_per_minute", "max_ingest_bytes",
                          "run_concurrency"}

`oauth_enabled` is whether an OAuth client id is set; `offline` whether the agents run
without a model (no API key and no base URL), and then `llm_model` is null. Only the fields
of `PublicConfig` are answered, each named here: never a secret (`SecretStr` settings), a
URL (database, Redis, ClickHouse, model base URL, OAuth issuer or redirect) or a path.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from netra import __version__
from netra.config import Settings
from netra.graph.strategies import STRATEGIES
from netra.server.deps import get_settings

router = APIRouter(tags=["config"])


class PublicConfig(BaseModel):
    """What any client may know of the server's settings."""

    version: str
    auth_mode: Literal["dev", "oauth"]
    oauth_enabled: bool
    offline: bool
    llm_model: str | None
    strategy: str
    strategies: list[str]
    rate_limit_per_minute: int
    max_ingest_bytes: int
    run_concurrency: int


def public_config(settings: Settings) -> PublicConfig:
    """Return the public part of `settings`."""
    offline = settings.offline
    return PublicConfig(version=__version__, auth_mode=settings.auth_mode, oauth_enabled=bool(settings.oauth_client_id),
                        offline=offline, llm_model=None if offline else settings.llm_model, strategy=settings.strategy,
                        strategies=list(STRATEGIES), rate_limit_per_minute=settings.rate_limit_per_minute,
                        max_ingest_bytes=settings.max_ingest_bytes, run_concurrency=settings.run_concurrency)


@router.get("/api/config", response_model=PublicConfig)
def get_config(settings: Settings = Depends(get_settings)) -> PublicConfig:
    """Answer the server's public settings (no token needed)."""
    return public_config(settings)

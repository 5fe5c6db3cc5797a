"""Settings: one pydantic-settings class, read once through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every `NETRA_*` variable, with its default; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="NETRA_", extra="ignore")

    home: Path = Path(".netra")
    database_url: str = ""
    db_pool_size: int = 5
    db_max_overflow: int = 10
    secret_key: SecretStr = SecretStr("")
    clickhouse_url: str = ""
    redis_url: str = ""
    llm_base_url: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 60.0
    strategy: str = "conditional"
    min_projection_hours: float = 24.0  # a shorter window is reported as window totals, never a month
    agent_max_attempts: int = 3
    agent_backoff_s: float = 0.5
    demo_events: int = 200_000
    demo_seed: int = 7
    max_ingest_bytes: int = 10 * 1024 * 1024
    otlp_grpc_port: int | None = None  # the OTLP/gRPC receiver's port (4317 is OTLP's); unset: off, 0: any free one
    otlp_grpc_host: str = "127.0.0.1"  # its interface (`netra serve --host` sets both)
    max_body_bytes: int = 1024 * 1024  # every other route's request body (413 above)
    trusted_proxies: list[str] = []  # IPs/CIDRs whose X-Forwarded-For is believed
    cors_origins: list[str] = []
    rate_limit_per_minute: int = 120
    log_json: bool = True
    auth_mode: Literal["dev", "oauth"] = "oauth"  # dev: the password-less POST /auth/dev-login (loopback only)
    jwt_secret: SecretStr = SecretStr("")  # unset: derived from NETRA_SECRET_KEY / the dev secret
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_ttl_s: int = 3600
    oauth_issuer: str = "https://accounts.google.com"
    oauth_client_id: str = ""
    oauth_client_secret: SecretStr = SecretStr("")
    oauth_redirect_url: str = ""
    oauth_allowed_domains: list[str] = []  # empty: any verified email; else only these email domains
    llm_max_retries: int = 3
    llm_breaker_threshold: int = 5
    llm_breaker_reset_s: float = 30.0
    llm_cache_ttl_s: int = 86_400
    llm_context_tokens: int = 0  # 0: read from the server (llama.cpp /props), else unknown
    llm_call_input_tokens: int = 4000  # most input tokens one model call may send (docs/model_mode.md)
    run_concurrency: int = 4
    run_queue_per_user: int = 20  # a user's runs waiting for a slot (429 above)
    run_event_ttl_s: int = 3600
    runs_on_restart: Literal["resume", "interrupt"] = "resume"
    ws_heartbeat_s: float = 30.0
    sse_heartbeat_s: float = 5.0  # an SSE stream that sent nothing for this long sends a heartbeat comment
    ws_timeout_s: float = 60.0
    ws_connections_per_user: int = 10  # open /ws connections of one user per process (4429 above)
    ws_auth_timeout_s: float = 5.0  # a new socket's first frame, {"action": "auth", ...}, must come this soon
    slow_query_ms: float = 200.0

    def resolved_database_url(self) -> str:
        """Return the primary database URL; SQLite under home when unset."""
        return self.database_url or f"sqlite:///{self.home / 'netra.db'}"

    def resolved_clickhouse_url(self) -> str:
        """Return the analytics URL; embedded chDB under home when unset."""
        return self.clickhouse_url or f"chdb://{(self.home / 'analytics').resolve()}"

    def openai_api_key(self) -> str:
        """Return the model key: `NETRA_LLM_API_KEY`, else `OPENAI_API_KEY`."""
        import os

        return self.llm_api_key.get_secret_value() or os.environ.get("OPENAI_API_KEY", "")

    @property
    def offline(self) -> bool:
        """Whether agents run without a model (no key and no base URL)."""
        return not (self.openai_api_key() or self.llm_base_url)

    @property
    def reports_dir(self) -> Path:
        """Return the folder where reports are written."""
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached; clear with `get_settings.cache_clear()`)."""
    return Settings()

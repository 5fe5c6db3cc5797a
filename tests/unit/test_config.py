"""Settings: defaults, NETRA_* overrides, URL resolution, offline switch, model factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from netra.config import Settings
from netra.llm import chat_model


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No NETRA_* or OPENAI_* variables leak in from the machine."""
    import os

    for name in [n for n in os.environ if n.startswith(("NETRA_", "OPENAI_"))]:
        monkeypatch.delenv(name)


def test_defaults_are_embedded_and_offline():
    settings = Settings()
    assert settings.home == Path(".netra") and settings.offline and settings.redis_url == ""
    assert settings.resolved_database_url() == "sqlite:///.netra/netra.db"
    assert settings.resolved_clickhouse_url() == f"chdb://{Path('.netra/analytics').resolve()}"


@pytest.mark.parametrize(("env", "attr", "expected"), [
    ({"NETRA_HOME": "/srv/netra"}, "home", Path("/srv/netra")),
    ({"NETRA_DATABASE_URL": "postgresql://u@h/db"}, "resolved_database_url", "postgresql://u@h/db"),
    ({"NETRA_CLICKHOUSE_URL": "http://ch:8123"}, "resolved_clickhouse_url", "http://ch:8123"),
    ({"NETRA_STRATEGY": "parallel"}, "strategy", "parallel"),
])
def test_environment_overrides(monkeypatch, env, attr, expected):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    value = getattr(Settings(), attr)
    assert (value() if callable(value) else value) == expected


@pytest.mark.parametrize("env", [{"OPENAI_API_KEY": "sk-test"}, {"NETRA_LLM_BASE_URL": "http://127.0.0.1:9/v1"}])
def test_a_key_or_base_url_turns_the_model_on(monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    model = chat_model(Settings())
    assert model is not None and model.model_name == "gpt-4o-mini"


def test_offline_has_no_model_and_the_key_is_never_shown():
    assert chat_model(Settings()) is None
    assert "sk-secret" not in repr(Settings(llm_api_key="sk-secret"))

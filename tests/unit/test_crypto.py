"""Fernet secrets: round trips, random tokens, wrong keys, key derivation, the dev key file."""

from __future__ import annotations

import stat

import pytest
from pydantic import SecretStr

from netra.config import Settings
from netra.errors import ConfigError, ServiceError
from netra.persistence.crypto import (KEY_FILE, SecretCipher, cipher_from_secret, cipher_from_settings,
                                      derive_fernet_key, dev_secret)

SECRET = "unit-test-secret-" + "s" * 32


@pytest.fixture(autouse=True)
def no_secret_env(monkeypatch):
    """No NETRA_SECRET_KEY leaks in from the machine."""
    monkeypatch.delenv("NETRA_SECRET_KEY", raising=False)


@pytest.mark.parametrize("plaintext", ["", "sk-proj-abc123", "ключ 🔑 with spaces", "x" * 10_000])
def test_round_trip(plaintext):
    cipher = cipher_from_secret(SECRET)
    assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


def test_tokens_are_random_ascii_and_hide_the_plaintext():
    cipher = cipher_from_secret(SECRET)
    first, second = cipher.encrypt("sk-plain"), cipher.encrypt("sk-plain")
    assert first != second and "sk-plain" not in first and first.isascii()


@pytest.mark.parametrize("token", [
    cipher_from_secret("another-secret-" + "o" * 32).encrypt("sk-plain"),
    "not-a-token",
    cipher_from_secret(SECRET).encrypt("sk-plain")[:-4] + "AAAA",
], ids=["foreign", "garbage", "altered"])  # fixed ids: pytest-xdist workers must collect the same names
def test_foreign_or_altered_tokens_raise_service_error(token):
    with pytest.raises(ServiceError, match="NETRA_SECRET_KEY"):
        cipher_from_secret(SECRET).decrypt(token)


def test_key_derivation_is_deterministic_and_depends_on_the_secret():
    key = derive_fernet_key(SECRET)
    assert key == derive_fernet_key(SECRET) != derive_fernet_key(SECRET + "!")
    assert len(key) == 44 and SECRET.encode() not in key


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_short_secrets_are_refused(secret):
    with pytest.raises(ConfigError, match="at least 32"):
        derive_fernet_key(secret)


def test_dev_secret_is_created_private_and_reused(tmp_path):
    home = tmp_path / "home"
    first = dev_secret(home)
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600 and len(first) >= 32
    assert dev_secret(home) == first


def test_settings_without_a_secret_use_the_dev_key_file(tmp_path):
    token = cipher_from_settings(Settings(home=tmp_path)).encrypt("sk-dev")
    assert (tmp_path / KEY_FILE).exists()
    assert cipher_from_settings(Settings(home=tmp_path)).decrypt(token) == "sk-dev"


def test_configured_secret_wins_and_no_key_file_is_written(tmp_path):
    cipher = cipher_from_settings(Settings(home=tmp_path, secret_key=SecretStr(SECRET)))
    assert cipher_from_secret(SECRET).decrypt(cipher.encrypt("sk-prod")) == "sk-prod"
    assert not (tmp_path / KEY_FILE).exists()


def test_repr_shows_no_key():
    key = derive_fernet_key(SECRET)
    assert repr(SecretCipher(key)) == "SecretCipher(key=***)" and key.decode() not in repr(SecretCipher(key))

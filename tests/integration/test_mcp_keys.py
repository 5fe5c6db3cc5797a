"""`netra mcp --key`: a workspace key of the `read` scope names the workspace of the MCP calls,
and is checked again at every call (the records database of the test's NETRA_HOME)."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from netra.cli.keys import issue_key, revoke_key
from netra.config import Settings
from netra.mcp_server import ToolRunner, key_workspace
from netra.persistence.apikeys import KeyScope
from netra.server.auth.errors import InsufficientScopeError, InvalidTokenError
from netra.tenancy import LOCAL_WORKSPACE


def issued(*scopes: KeyScope) -> tuple[str, str]:
    """Create a key of `local` with `scopes` as the CLI does; return its id and the key."""
    record, key = asyncio.run(issue_key(LOCAL_WORKSPACE, "mcp", list(scopes)))
    return record.id, key


def test_a_read_key_names_its_workspace_until_it_is_revoked():
    key_id, key = issued(KeyScope.READ)
    assert asyncio.run(key_workspace(key)) == LOCAL_WORKSPACE
    asyncio.run(revoke_key(LOCAL_WORKSPACE, key_id))
    with pytest.raises(InvalidTokenError):
        asyncio.run(key_workspace(key))
    refused = ToolRunner(key=SecretStr(key)).call("cost_analyzer", {})
    assert refused.is_error and "not valid" in refused.content[0].text and key not in refused.content[0].text


def test_an_ingest_key_reads_nothing():
    with pytest.raises(InsufficientScopeError):
        asyncio.run(key_workspace(issued(KeyScope.INGEST)[1]))


def test_the_store_url_is_never_shown(monkeypatch):
    """A store that cannot be opened is named without its URL: a URL may carry a password."""
    monkeypatch.setenv("NETRA_CLICKHOUSE_URL", "http://netra:s3cret-pw@127.0.0.1:1/db")
    monkeypatch.setattr("netra.mcp_server.get_settings", lambda: Settings())
    refused = ToolRunner().call("cost_analyzer", {}).content[0].text
    assert "cannot open the analytics store" in refused and "s3cret-pw" not in refused and "netra:" not in refused

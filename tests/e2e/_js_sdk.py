"""Run the JS `@langchain/langgraph-sdk` scripts of tests/js with Node against a server; read their JSON.

    node = js_sdk()                                     # skips (fails under CI) when Node or the SDK is missing
    seen = node.run("threads.mjs", server_url, token)   # the one JSON line the script printed

Scripts share tests/js/netra.mjs (a signed-in `Client`, `collect`, `statusOf`, `report`) and
take the server from NETRA_URL, the bearer token from NETRA_TOKEN and the workspace from
NETRA_WORKSPACE. `make test` installs the SDK (`npm ci` in tests/js) when `node` is on PATH.
Without Node or tests/js/node_modules the tests skip with the reason, unless the
environment sets CI (as `.ci/run` does): then they fail, since CI must run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "js"
SDK = SCRIPTS / "node_modules" / "@langchain" / "langgraph-sdk"
SCRIPT_DEADLINE_S = 240


def missing() -> str | None:
    """Return why the JS SDK cannot run here (no Node, SDK not installed), or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not SDK.is_dir():
        return f"the JS SDK is not installed: run `npm ci` in {SCRIPTS.name}/ (make test does)"
    return None


@dataclass(frozen=True)
class Node:
    """Node with the JS SDK installed: runs a script of tests/js."""

    binary: str

    def run(self, script: str, url: str, token: str, workspace: str = "") -> Any:
        """Run `script` against `url` as the token's user; return its JSON (the test fails on a non-zero exit)."""
        env = {**os.environ, "NETRA_URL": url, "NETRA_TOKEN": token, "NETRA_WORKSPACE": workspace}
        done = subprocess.run([self.binary, str(SCRIPTS / script)], env=env, capture_output=True, text=True,
                              timeout=SCRIPT_DEADLINE_S, cwd=SCRIPTS)
        assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])


def js_sdk() -> Node:
    """Return Node with the SDK; skip the test when missing, fail instead when the CI variable is set."""
    reason = missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI runs the JS SDK tests, but {reason}")
    if reason:
        pytest.skip(reason)
    return Node(shutil.which("node") or "node")

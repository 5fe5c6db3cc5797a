"""What the Agent Server tests with a paused run share: the server, its settings, the question, the pause.

    from tests.support.agent_server import ASK, DEV, PAUSE, served_member
    with served_member("embedded", tmp_path, store, catalog) as (url, token): ...
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any, Iterator

from netra.server import create_app
from tests.support import http
from tests.support.graphs import OPTIMIZE
from tests.support.run_world import backend_settings
from tests.support.servers import serving
from tests.support.tenants import add_to_workspace

DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False}  # dev sign-in, no rate limit
ASK = {"messages": [{"role": "user", "content": OPTIMIZE}]}  # a run's input: the optimisation question
PAUSE = ["actions_to_meet_goals"]  # `interrupt_before`: wait for approval before the actions agent


@contextlib.contextmanager
def served_member(backend: str, home: Path, store: Any, catalog: Any) -> Iterator[tuple[str, str]]:
    """Serve the app over `backend` (dev sign-in, lifespan on); yield its URL and a member of `local`'s token."""
    with backend_settings(backend, home) as base:
        with serving(lambda url: create_app(base.model_copy(update=DEV), store=store, catalog=catalog),
                     lifespan="on") as url:
            email = f"u{uuid.uuid4().hex[:8]}@example.com"
            token = http.request("POST", f"{url}/auth/dev-login", json={"email": email}).json()["access_token"]
            add_to_workspace(base, email)
            yield url, token

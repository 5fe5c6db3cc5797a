"""Stored roles for tests: what `netra users role EMAIL ROLE` does, callable from any thread or loop.

No sign-in takes a role from its request, so a test that needs an admin or a developer signs
the user in, then gives them the role in the records database:

    token = api.token("root@example.com")
    grant(api.settings, "root@example.com", "admin")     # role checks read the users table: at once
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from netra.config import Settings
from netra.server.auth.records import set_role


def grant(settings: Settings, email: str, role: str) -> None:
    """Give the user `email` (created when missing) the stored role `role` (in a thread of its own)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, set_role(settings, email, role)).result()

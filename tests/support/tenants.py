"""Workspace membership for tests: make a signed-in user a member of a workspace, from any thread or loop.

Test servers plant their workload in the `local` workspace (as the CLI does); a test user who
should analyse it joins `local`, then acts there (`X-Netra-Workspace: local`, `/ws?workspace=local`):

    token = api.token("alice@example.com")
    add_to_workspace(settings, "alice@example.com")              # a member of `local`
    client = httpx.Client(headers={"Authorization": f"Bearer {token}", **IN_LOCAL})
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from netra.config import Settings
from netra.server.auth.records import unit_of_work
from netra.tenancy import LOCAL_WORKSPACE

IN_LOCAL = {"X-Netra-Workspace": LOCAL_WORKSPACE}


async def _join(settings: Settings, email: str, workspace_id: str, role: str) -> None:
    async with unit_of_work(settings) as uow:
        user = await uow.users.get_or_create(email)
        await uow.members.put(workspace_id, user.id, role)
        await uow.commit()


def add_to_workspace(settings: Settings, email: str, workspace_id: str = LOCAL_WORKSPACE, role: str = "member") -> None:
    """Make the user `email` (created when missing) a `role` of the workspace (in a thread of its own)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _join(settings, email, workspace_id, role)).result()

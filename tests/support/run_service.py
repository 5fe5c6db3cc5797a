"""The run service over real embedded records (SQLite), the session's chDB store and the catalog.

    resources = embedded_resources(tmp_path, store, catalog)
    emit = Collector()                                     # an `emit` that keeps every client event
    result = run_scenario(resources, lambda r, owner: execute_run(r, owner, ...))
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from netra.config import Settings
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.tenancy import LOCAL_WORKSPACE, Owner


@dataclass
class Collector:
    """An `emit` that keeps every event."""

    events: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Return the events of type `kind`."""
        return [e for e in self.events if e["type"] == kind]


def embedded_resources(home: Path, store: Any, catalog: Any) -> AppResources:
    """The app's resources over embedded records (SQLite under `home`), `store` and `catalog`."""
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'netra.db'}", redis_url="",
                        agent_backoff_s=0.0)
    return AppResources(settings, store, catalog)


Scenario = Callable[[AppResources, Owner], Awaitable[Any]]


async def user(resources: AppResources, email: str = "ada@example.com") -> Owner:
    """Create a user in the resources' records; return them acting in `local` (where the workload is)."""
    async with UnitOfWork(resources.session_factory) as uow:
        created = await uow.users.create(email=email, name=email.split("@")[0])
        await uow.commit()
    return Owner(created.id, LOCAL_WORKSPACE)


async def _started(resources: AppResources, scenario: Scenario) -> Any:
    await resources.start()
    try:
        return await scenario(resources, await user(resources))
    finally:
        await resources.close()


def run_scenario(resources: AppResources, scenario: Scenario) -> Any:
    """Run `scenario(resources, owner)` on started resources with one user (pytest-asyncio is not used)."""
    return asyncio.run(_started(resources, scenario))

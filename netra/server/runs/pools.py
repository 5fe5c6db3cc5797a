"""What the run engine needs of the app: its settings and pools (`AppResources` has them all).

    RunRecords.of(pools)      # the run's rows: async with pools.uow(owner.workspace_id) as uow: ...

A protocol, so the engine never imports the app's resources (which open the engine): the
import graph of `netra.server` stays a tree (tests/unit/test_import_graph.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from netra.config import Settings
    from netra.graph.deps import Deps
    from netra.persistence.uow import UnitOfWork
    from netra.server.runs.log import EventLog


class Pools(Protocol):
    """The settings, records database, checkpointer and agent dependencies a run uses."""

    settings: Settings

    def uow(self, workspace_id: str | None = None) -> UnitOfWork:
        """Return a unit of work over the records database (in `workspace_id`; None: unscoped)."""

    def checkpointer(self) -> BaseCheckpointSaver:
        """Return the checkpointer the runs write."""

    def deps(self, workspace_id: str) -> Deps:
        """Return the agents' run-time dependencies in `workspace_id`."""

    def stream_log(self) -> EventLog | None:
        """Return the runs' graph-stream log (None: the app keeps none)."""

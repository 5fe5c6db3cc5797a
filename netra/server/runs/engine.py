"""The run engine of an app: its two logs and its manager, opened and closed together.

    engine = RunEngine.of(resources)      # the event log, the graph-stream log, the manager
    await engine.recover()                # take over the runs a dead process left, now and every 15 s
    await engine.close()                  # unfinished runs stay in the records for recovery

`AppResources.start()` opens it once the records database is open; `resources.runs`,
`resources.events` and `resources.streams` are its parts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from netra.server.runs.log import EventLog, open_event_log
from netra.server.runs.manager import RunManager
from netra.server.runs.pools import Pools
from netra.server.runs.recovery import keep_recovering, recover
from netra.server.runs.stream import open_stream_log


@dataclass
class RunEngine:
    """The manager that runs questions, the log of their client events, the log of their graph streams."""

    manager: RunManager
    events: EventLog
    streams: EventLog

    @classmethod
    def of(cls, pools: Pools) -> RunEngine:
        """Return the engine over the app's pools (Redis logs when NETRA_REDIS_URL is set)."""
        events = open_event_log(pools.settings)
        return cls(RunManager(pools, events), events, open_stream_log(pools.settings))

    async def recover(self) -> None:
        """Take over the unfinished runs nobody holds, now and every 15 s (`recovery`)."""
        await recover(self.manager.resources, self.manager)
        self.manager.spawn(keep_recovering(self.manager.resources, self.manager))

    async def close(self) -> None:
        """Stop the manager's tasks, then close both logs."""
        await self.manager.shutdown()
        await asyncio.gather(self.events.aclose(), self.streams.aclose())

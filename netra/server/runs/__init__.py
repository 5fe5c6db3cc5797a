"""The run engine: a question executed by the agent graph as a recorded run, told to clients as events.

    from netra.server.runs import Ask, RunEndedError

    handle = await resources.runs.submit(owner, Ask(question="Cut spend?"), multitask="reject")
    async for event in resources.events.follow(handle.run_id): ...     # the run's client events
    result = await resources.runs.wait(handle.run_id)                  # RunResult

The entry points (`netra.server.ws`, `netra.server.sse`, `netra.server.routes.agent`) import
this facade only. The modules, by role (docs/server.md, "The run engine"):
`ask` (the request, the result, the errors a run's callers share), `status` (every run-status
vocabulary and its mappings), `engine` (logs and manager, opened together), `manager`
(background runs, leases, cancel flags), `admission`, `slots`, `handles`, `request`,
`approvals`/`decisions` (human in the loop), `service` (executes one run, writes its sinks),
`sinks` (the `RunSink` protocol: client events, graph-stream entries, `events`-mode entries),
`events` (stream items -> client events), `stream` and `stream_events` (the graph-stream
log's sinks), `records` (`RunRecords`: the run's rows), `log`/`leases` (Redis or
memory), `recovery` (takes over orphaned runs; imports the manager), `pools` (what the engine
needs of the app). The lifecycle and the event types: docs/runs.md.
"""

from __future__ import annotations

from netra.server.runs import events, records
from netra.server.runs.admission import RunQueueFullError
from netra.server.runs.approvals import NotWaitingError, with_pause
from netra.server.runs.ask import (CANCELLED_MESSAGE, QUESTION_CHARS, Ask, Multitask, Question, RunEndedError,
                                   RunResult, StrategyName, ThreadBusyError)
from netra.server.runs.decisions import Approvals, DecisionValue
from netra.server.runs.engine import RunEngine
from netra.server.runs.events import ClientEvent, RunIds, timestamp, to_client_events
from netra.server.runs.handles import RunHandle, quietly
from netra.server.runs.log import EventLog
from netra.server.runs.manager import RunManager
from netra.server.runs.records import RunRecords, owner_of
from netra.server.runs.service import execute_run
from netra.server.runs.sinks import Emit, RunSink, StreamEntry
from netra.server.runs.status import FINISHED, UNFINISHED, RunStatus, agent_server_status
from netra.server.runs.stream import error_data, finale

__all__ = ["Approvals", "Ask", "CANCELLED_MESSAGE", "ClientEvent", "DecisionValue", "Emit", "EventLog", "FINISHED",
           "Multitask", "NotWaitingError", "QUESTION_CHARS", "Question", "RunEndedError", "RunEngine",
           "RunHandle", "RunIds", "RunManager", "RunQueueFullError", "RunRecords", "RunResult", "RunSink", "RunStatus", "StrategyName", "StreamEntry",
           "ThreadBusyError", "UNFINISHED", "agent_server_status", "error_data", "events", "execute_run", "finale",
           "owner_of", "quietly", "records", "timestamp", "to_client_events", "with_pause"]

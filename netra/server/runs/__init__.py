"""Runs: a question executed by the agent graph as a recorded run, told to clients as events.

    from netra.server.runs import execute_run, records

    thread_id, run_id = await records.open_run(resources, user.owner, question)   # (user, workspace)
    result = await execute_run(resources, user.owner, run_id, thread_id, question, emit=send)

`events` maps graph stream items to client events (one table), `records` keeps the run's
rows (thread, messages, run, agent runs, report), `service.execute_run` drives a run.
The lifecycle and the event types are described in docs/runs.md.
"""

from __future__ import annotations

from netra.server.runs import events, records
from netra.server.runs.events import ClientEvent, RunIds, to_client_events
from netra.server.runs.service import Emit, execute_run

__all__ = ["ClientEvent", "Emit", "RunIds", "events", "execute_run", "records", "to_client_events"]

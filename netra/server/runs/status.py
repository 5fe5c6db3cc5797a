"""Where a run stands, in every vocabulary that tells it, and the one set of mappings between them.

    RunStatus.SUCCESS in FINISHED                          # the records' statuses (netra.persistence)
    AGENT_RECORD_STATUS["done"]                            # a sub-agent status -> its agent run's: success
    ending_of({"type": "error", "data": {"code": "cancelled", ...}})   # -> (cancelled, message)
    agent_server_status("cancelled")                       # -> "interrupted" (the Agent Server's name)

Vocabularies (each mapped here, nowhere else):
- records: `RunStatus` of a run and of an agent run (pending, running, success, error,
  interrupted, cancelled); FINISHED / UNFINISHED split them.
- graph agent states (running, done, failed, skipped; `netra.graph.state.AGENT_ENDED` the last three): what
  the graph keeps; an agent's after-hook reports `status` running or failed (else done):
  HOOK_STATUS makes it the sub-agent status of the client events.
- client events: a sub-agent's status (running, retrying, done, failed; AGENT_RECORD_STATUS:
  its agent run's), and the terminal events (`agent_completed`, `interrupted`, `error` with a
  code; ENDINGS and `ending_of`: the run's status; ERROR_EVENT_CODES: the other way round).
- Agent Server: a run's status is the record's, `cancelled` shown as `interrupted`; a thread
  is `busy`, `interrupted` or `idle` (`thread_status`).
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from netra.persistence.models import FINISHED, RunStatus

__all__ = ["AGENT_RECORD_STATUS", "AGENT_SERVER_STATUS", "ENDINGS", "ERROR_EVENT_CODES", "FINISHED", "HOOK_STATUS",
           "RunStatus", "SUB_AGENT_STATUSES", "UNFINISHED", "agent_server_status", "ending_of", "thread_status"]

UNFINISHED = (RunStatus.RUNNING.value, RunStatus.PENDING.value)
SubAgentStatus = Literal["running", "done", "failed", "retrying"]
SUB_AGENT_STATUSES: tuple[SubAgentStatus, ...] = ("running", "done", "failed", "retrying")
# the `status` an agent's after-hook reports -> its sub-agent status ("" and "done" are done)
HOOK_STATUS: dict[str, SubAgentStatus] = {"running": "running", "failed": "failed"}
# a sub-agent status of the client events -> the agent run's status (RunStatus values pass as-is)
AGENT_RECORD_STATUS: dict[str, RunStatus] = {"running": RunStatus.RUNNING, "retrying": RunStatus.RUNNING,
                                             "done": RunStatus.SUCCESS, "failed": RunStatus.ERROR}
# terminal client event types that end their run quietly -> the run's status (`error` events: by code)
ENDINGS: dict[str, RunStatus] = {"agent_completed": RunStatus.SUCCESS, "interrupted": RunStatus.INTERRUPTED}
# a run status -> the code of the `error` event that ends a run in it (others: `run_failed`)
ERROR_EVENT_CODES: dict[str, str] = {RunStatus.CANCELLED.value: "cancelled",
                                     RunStatus.INTERRUPTED.value: "interrupted"}
# the code of a terminal `error` event -> the run's status (others: error)
CODE_STATUS: dict[str, RunStatus] = {code: RunStatus(status) for status, code in ERROR_EVENT_CODES.items()}
# a record's run status -> the Agent Server's (others: the same)
AGENT_SERVER_STATUS: dict[str, str] = {RunStatus.CANCELLED.value: "interrupted"}


def agent_server_status(status: str) -> str:
    """Return the Agent Server's name of a run status (`cancelled` is `interrupted`)."""
    return AGENT_SERVER_STATUS.get(status, status)


def ending_of(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """Return the run status and error a terminal client event (`agent_completed`, `interrupted`, `error`) tells."""
    if event["type"] in ENDINGS:
        return ENDINGS[event["type"]].value, None
    data = event["data"]
    return CODE_STATUS.get(str(data.get("code")), RunStatus.ERROR).value, str(data.get("message") or "")


def thread_status(busy: bool, interrupted: bool) -> str:
    """Return a thread's Agent Server status: `busy` (a run pending or running), `interrupted` (waiting), `idle`."""
    return "busy" if busy else "interrupted" if interrupted else "idle"

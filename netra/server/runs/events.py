"""Client events: the ONE mapping from the graph's stream items to what clients are sent.

    ids = RunIds(thread_id, run_id)
    for mode, chunk in graph.stream(..., stream_mode=["custom", "updates"]):
        for event in to_client_events(mode, chunk, ids):
            send(event)

A client event is a plain, JSON-able dict:

    {"type": "tool_call", "data": {...},
     "metadata": {"thread_id": "...", "run_id": "...", "agent_name": "data" | None,
                  "timestamp": "2026-03-02T10:00:00.123+00:00"}}

Types: `agent_started` (the run began), `sub_agent_update` (an agent's status), `tool_call`,
`tool_result`, `agent_log` (supervisor decisions, the plan, any other progress event),
`agent_completed` (the run's report), `interrupted` (the run paused for a human's approval:
the interrupt's payload) and `error`. `CUSTOM` maps each custom progress event
to its handler, `UPDATES` the node updates worth telling; a custom event no handler knows
becomes an `agent_log`, never dropped. `run_started`, `run_completed`, `run_interrupted` and `run_error` build
the run-level events the service sends itself. The event log adds `metadata.seq` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from netra.tools.dispatcher import call_id

ClientEvent = dict[str, Any]
EVENT_TYPES = ("agent_started", "sub_agent_update", "tool_call", "tool_result", "agent_log",
               "agent_completed", "interrupted", "error")
SUB_AGENT_STATUSES = ("running", "done", "failed", "retrying")
# the `status` an agent's after-hook reports -> its sub-agent status ("" and "done" are done)
COMPLETED_STATUS = {"running": "running", "failed": "failed"}
SUMMARY_FIGURES = 3


@dataclass
class RunIds:
    """The ids every event of a run carries, and the agent at work (tool events are its)."""

    thread_id: str
    run_id: str
    agent: str | None = None


Handler = Callable[[dict[str, Any], RunIds], list[ClientEvent]]


def timestamp() -> str:
    """Return the current time as ISO-8601 UTC with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def client_event(kind: str, data: dict[str, Any], ids: RunIds, agent: str | None = None) -> ClientEvent:
    """Return the client event `kind` with `data`, stamped with the run's ids and the time."""
    metadata = {"thread_id": ids.thread_id, "run_id": ids.run_id, "agent_name": agent, "timestamp": timestamp()}
    return {"type": kind, "data": data, "metadata": metadata}


def run_started(ids: RunIds, question: str, strategy: str, resumed: bool = False, **extra: Any) -> ClientEvent:
    """Return the `agent_started` event that opens a run (`extra`: e.g. the resume `decision`)."""
    return client_event("agent_started", {"question": question, "strategy": strategy, "resumed": resumed, **extra},
                        ids)


def run_completed(ids: RunIds, report: dict[str, Any]) -> ClientEvent:
    """Return the `agent_completed` event that closes a run with its report."""
    return client_event("agent_completed", {"report": report, "run_id": ids.run_id}, ids)


def run_interrupted(ids: RunIds, interrupt: dict[str, Any]) -> ClientEvent:
    """Return the `interrupted` event that ends a run paused for approval, with what it waits for."""
    return client_event("interrupted", {"run_id": ids.run_id, "interrupt": interrupt}, ids, interrupt.get("agent"))


def run_error(ids: RunIds, code: str, message: str) -> ClientEvent:
    """Return the `error` event of a run that failed (`run_failed`) or was cancelled (`cancelled`)."""
    return client_event("error", {"code": code, "message": message}, ids)


def to_client_events(mode: str, chunk: Any, ids: RunIds) -> list[ClientEvent]:
    """Return the client events of one stream item (`custom` or `updates`; other modes: none)."""
    return MODES.get(mode, _nothing)(chunk, ids)


def _nothing(chunk: Any, ids: RunIds) -> list[ClientEvent]:
    return []


def _custom(chunk: Any, ids: RunIds) -> list[ClientEvent]:
    payload = dict(chunk) if isinstance(chunk, dict) else {"event": "log", "value": chunk}
    return CUSTOM.get(str(payload.get("event", "")), _log)(payload, ids)


def _updates(chunk: Any, ids: RunIds) -> list[ClientEvent]:
    items = chunk.items() if isinstance(chunk, dict) else []
    return [event for node, update in items for event in UPDATES.get(node, _no_update)(update, ids)]


def _no_update(update: Any, ids: RunIds) -> list[ClientEvent]:
    return []


def _sub_agent(payload: dict[str, Any], ids: RunIds, status: str, **extra: Any) -> list[ClientEvent]:
    agent = str(payload.get("agent", ""))
    return [client_event("sub_agent_update", {"agent": agent, "status": status, **extra}, ids, agent)]


def _agent_started(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    ids.agent = str(payload.get("agent", "")) or ids.agent
    return _sub_agent(payload, ids, "running")


def _agent_completed(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    return _sub_agent(payload, ids, COMPLETED_STATUS.get(str(payload.get("status", "")), "done"))


def _agent_error(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    return _sub_agent(payload, ids, "failed", error=str(payload.get("message", "")),
                      error_type=str(payload.get("type", "")))


def _agent_retry(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    return _sub_agent(payload, ids, "retrying", attempt=payload.get("attempt"),
                      error=str(payload.get("error", "")), delay_s=payload.get("delay_s"))


def _tool_call(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    tool, args = str(payload.get("tool", "")), payload.get("args") or {}
    return [client_event("tool_call", {"tool": tool, "args": args, "call_id": call_id(tool, args)}, ids, ids.agent)]


def _tool_result(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    data = {k: v for k, v in payload.items() if k != "event"}
    data["summary"] = summary_of(str(data.get("tool", "")), data.get("figures") or {}, bool(data.get("cached")))
    return [client_event("tool_result", data, ids, ids.agent)]


def summary_of(tool: str, figures: dict[str, Any], cached: bool) -> str:
    """Return one line naming a tool's first figures: `cost_analyzer: total_cost_usd=127.44, ...`."""
    shown = ", ".join(f"{k}={v:,.6g}" if isinstance(v, (int, float)) else f"{k}={v}"
                      for k, v in list(figures.items())[:SUMMARY_FIGURES])
    more = f" (+{len(figures) - SUMMARY_FIGURES} more)" if len(figures) > SUMMARY_FIGURES else ""
    return f"{tool}: {shown or 'no figures'}{more}{' (cached)' if cached else ''}"


def _decision(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    chosen = str(payload.get("next", ""))
    data = {"message": f"supervisor: next is {chosen}", "event": "supervisor_decision", "next": chosen}
    return [client_event("agent_log", data, ids, str(payload.get("agent") or "supervisor"))]


def _log(payload: dict[str, Any], ids: RunIds) -> list[ClientEvent]:
    name = str(payload.get("event") or "log")
    data = {"message": name, **payload, "event": name}
    return [client_event("agent_log", data, ids, payload.get("agent") or ids.agent)]


def _plan(update: Any, ids: RunIds) -> list[ClientEvent]:
    plan = list((update or {}).get("plan") or [])
    data = {"message": f"plan: {', '.join(plan) or 'none'}", "event": "plan", "plan": plan,
            "strategy": (update or {}).get("strategy")}
    return [client_event("agent_log", data, ids, "triage")]


def _interrupt(update: Any, ids: RunIds) -> list[ClientEvent]:
    data = {"message": "run interrupted", "event": "interrupt", "value": str(update)}
    return [client_event("agent_log", data, ids, ids.agent)]


# custom progress event name -> handler (hooks, dispatcher, supervisor); others -> `_log`
CUSTOM: dict[str, Handler] = {
    "agent_started": _agent_started,
    "agent_completed": _agent_completed,
    "agent_error": _agent_error,
    "agent_retry": _agent_retry,
    "tool_call": _tool_call,
    "tool_result": _tool_result,
    "supervisor_decision": _decision,
}
# node name -> handler of its state update (the other nodes' progress comes from their hooks)
UPDATES: dict[str, Callable[[Any, RunIds], list[ClientEvent]]] = {
    "triage": _plan,
    "__interrupt__": _interrupt,
}
MODES: dict[str, Callable[[Any, RunIds], list[ClientEvent]]] = {
    "custom": _custom,
    "updates": _updates,
}

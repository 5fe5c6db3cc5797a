"""Model mode for the agents: run the model path when a model is configured, else offline.

    update = with_model(deps, "triage", lambda llm: from_model(llm), lambda: from_rules())

Offline (`deps.llm is None`) only `offline` runs, so offline answers are exactly the
rule/template ones. With a model, a failure of the model path answers offline instead and
says so in an `agent_log` event; an unavailable endpoint (`ModelUnavailable`: failed after
the client's retries, or breaker open) is also recorded in `errors` as
`{"agent", "type": "ModelUnavailable", "message"}`, which is how reporting knows to add
its note. A refusal (a feature the endpoint lacks, a prompt over its context) or a call
that could not fit its context budget answers offline with the `agent_log` note only.
Every model call of the path (made, refused, failed or skipped) is recorded in the run's
`llm_usage` (`netra.llm.usage`), whichever way the agent answered.
"""

from __future__ import annotations

from typing import Any, Callable

from langchain_core.language_models import BaseChatModel
from langgraph.errors import GraphBubbleUp

from netra.graph.deps import Deps
from netra.graph.hooks import emit
from netra.llm.guard import ModelUnavailable
from netra.llm.usage import CallRecord, ledger

UNAVAILABLE = "ModelUnavailable"
UNAVAILABLE_NOTE = "The model endpoint was unavailable; this report was produced offline."


def log(agent: str, message: str, **extra: Any) -> None:
    """Emit an `agent_log` progress event of `agent`."""
    emit("agent_log", {"agent": agent, "message": message, **extra})


def unavailable(agent: str, exc: Exception) -> dict[str, str]:
    """Return the `errors` entry recording that `agent` answered offline."""
    return {"agent": agent, "type": UNAVAILABLE, "message": f"{exc}; answered offline"}


def offline_instead(agent: str, exc: Exception, offline: Callable[[], dict]) -> dict:
    """Answer offline after the model path failed (recorded when the endpoint was down)."""
    if isinstance(exc, GraphBubbleUp):  # interrupts are control flow, not failures
        raise exc
    log(agent, f"model path failed ({type(exc).__name__}: {exc}); answering offline", fallback=True)
    update = offline()
    if isinstance(exc, ModelUnavailable):
        update = {**update, "errors": [*update.get("errors", []), unavailable(agent, exc)]}
    return update


def with_model(deps: Deps, agent: str, model_path: Callable[[BaseChatModel], dict],
               offline: Callable[[], dict]) -> dict:
    """Return the model path's update, or the offline one (no model, or the model failed)."""
    if deps.llm is None:
        return offline()
    with ledger() as calls:
        update = _attempted(deps.llm, agent, model_path, offline)
    return with_usage(update, calls)


def _attempted(llm: BaseChatModel, agent: str, model_path: Callable[[BaseChatModel], dict],
               offline: Callable[[], dict]) -> dict:
    try:
        return model_path(llm)
    except Exception as exc:  # any model-path failure: the agent still answers, offline
        return offline_instead(agent, exc, offline)


def with_usage(update: dict, calls: list[CallRecord]) -> dict:
    """Return `update` with the usage records of its model calls added to `llm_usage`."""
    if not calls:
        return update
    return {**update, "llm_usage": [*update.get("llm_usage", []), *(c.to_dict() for c in calls)]}


def unavailable_agents(state: dict) -> list[str]:
    """Return the agents of this run that answered offline because the endpoint was down."""
    return list(dict.fromkeys(e.get("agent", "") for e in state.get("errors", []) if e.get("type") == UNAVAILABLE))

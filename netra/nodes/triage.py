"""Triage: read the question into a Request and build the plan of agents.

Offline the rules read it (`triage_rules`); with a model, the model's structured answer
does (`triage_model`), and the rules answer whenever the model fails or answers badly.
"""

from __future__ import annotations

from netra.graph.deps import Deps
from netra.graph.strategies import get_strategy
from netra.nodes import triage_model, triage_rules
from netra.nodes._common import question_of
from netra.nodes._model import with_model

_FILTER_COLUMNS = ("model", "feature", "user_id")
_IN_WORKSPACE = "FROM workload_events WHERE workspace_id = {workspace_id:String}"
# column names come from the fixed tuple above, never from the question
_NAMES_SQL = {c: f"SELECT groupUniqArray(1000)({c}) {_IN_WORKSPACE}" for c in _FILTER_COLUMNS}
_END_SQL = f"SELECT max(timestamp) {_IN_WORKSPACE}"


def known_names(deps: Deps) -> dict[str, list[str]]:
    """Return the distinct models, features and users of the run's workspace (for filter matching)."""
    return {c: list(deps.store.scalar(_NAMES_SQL[c], deps.in_workspace()) or []) for c in _FILTER_COLUMNS}


def data_end(deps: Deps):
    """Return the time of the workspace's newest event (None when it has none): windows end there."""
    return deps.store.scalar(_END_SQL, deps.in_workspace()) if deps.store.count(deps.workspace_id) else None


def read_request(deps: Deps, question: str) -> dict:
    """Return {"request": ...} read by the model, or by the rules (offline or as fallback)."""
    end, names = data_end(deps), known_names(deps)
    def by_model(llm) -> dict:
        out = triage_model.read(deps.settings, llm, question, names)
        return {"request": triage_model.to_request(out, question, end, names)}
    return with_model(deps, "triage", by_model, lambda: {"request": triage_rules.parse(question, end, names)})


def triage(deps: Deps, state: dict) -> dict:
    """Read the question into a request and plan the agents the strategy selects."""
    question = question_of(state)
    update = read_request(deps, question)
    strategy = get_strategy(state.get("strategy") or deps.settings.strategy)
    return {**update, "plan": strategy.select(update["request"]), "question": question,
            "strategy": strategy.name, "agent_status": {"triage": "done"}}

"""Human in the loop: a run asked for approval pauses before the actions agent acts.

    payload = approval_payload(state)           # what the human decides on: the recommendations
    decision = interrupt(payload)               # LangGraph pauses the run; Command(resume=decision) continues
    kept = approved(state)                      # the recommendations the decision keeps (asks first)

A run asks for approval when its state holds `approval: true` (the run manager's requests) or
its config's `configurable.approval` is true (a run of `langgraph dev`/Studio). The payload
lists each recommendation as the tools left it: its policy id, its description and the
savings the joint simulation attributed to it (never a figure of its own). A decision is
`true` (approve all), `{"approve": [ids]}` (keep those only) or `{"drop": [ids]}` (keep the
others); any other shape, or an id the payload does not list, is a DecisionError naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from langgraph.config import get_config
from langgraph.types import interrupt

from netra.errors import UserInputError

NODE = "actions_to_meet_goals"
KIND = "approve_recommendations"
MAX_IDS = 200
ID_CHARS = 300
# a decision's key -> whether the ids it lists are the ones kept (else: the ones dropped)
KEEPS: dict[str, bool] = {"approve": True, "drop": False}


class DecisionError(UserInputError):
    """A resume decision of the wrong shape, or naming a recommendation the run did not make."""


class Proposed(TypedDict):
    """One recommendation as the human sees it: ids, text and the savings the tools computed."""

    policy_id: str
    title: str
    kind: str
    feature: str
    model: str
    quality_risk: str
    monthly_saving_usd: float | None
    pct_of_baseline: float | None


class Payload(TypedDict):
    """The value of the interrupt: what the run asks the human to decide."""

    kind: Literal["approve_recommendations"]
    agent: str
    question: str
    recommendations: list[Proposed]
    decisions: list[str]


def proposed(rec: dict[str, Any]) -> Proposed:
    """Return one recommendation as proposed: its simulated (joint) saving, else the proposer's."""
    simulated = rec.get("simulated") or {}
    return {"policy_id": rec["policy_id"], "title": str(rec.get("description") or rec["policy_id"]),
            "kind": str(rec.get("kind", "")), "feature": str(rec.get("feature", "")),
            "model": str(rec.get("model", "")), "quality_risk": str(rec.get("quality_risk", "")),
            "monthly_saving_usd": simulated.get("attributed_monthly_saving_usd", rec.get("monthly_saving_usd")),
            "pct_of_baseline": simulated.get("pct_of_baseline")}


def approval_payload(state: dict[str, Any]) -> Payload:
    """Return the interrupt's payload for the state's recommendations."""
    recs = [proposed(rec) for rec in state.get("recommendations") or []]
    return {"kind": KIND, "agent": NODE, "question": str(state.get("question") or ""), "recommendations": recs,
            "decisions": ['true', '{"approve": [policy_id, ...]}', '{"drop": [policy_id, ...]}']}


def wants_approval(state: dict[str, Any]) -> bool:
    """Return whether the run asked for approval (state flag, or `configurable.approval` of its config)."""
    if state.get("approval"):
        return True
    try:
        return (get_config().get("configurable") or {}).get("approval") is True
    except RuntimeError:  # called outside a graph run: no config to ask
        return False


@dataclass(frozen=True)
class Decision:
    """A checked decision: the ids it lists and whether they are the ones kept."""

    ids: frozenset[str]
    keeps: bool

    def kept(self, offered: list[str]) -> list[str]:
        """Return the offered ids the decision keeps, in the offered order."""
        return [policy_id for policy_id in offered if (policy_id in self.ids) == self.keeps]


def decision_of(value: Any) -> Decision:
    """Return the decision `value` stands for (DecisionError: not true / {"approve": [...]} / {"drop": [...]})."""
    if value is True:
        return Decision(frozenset(), keeps=False)
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in KEEPS:
        raise DecisionError(f"decision {str(value)[:100]!r}: expected true, {{\"approve\": [ids]}} or "
                            "{\"drop\": [ids]}")
    key, ids = next(iter(value.items()))
    return Decision(frozenset(_ids(key, ids)), KEEPS[key])


def _ids(key: str, ids: Any) -> list[str]:
    """Return the listed ids (DecisionError: not a list of at most MAX_IDS strings)."""
    if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(isinstance(i, str) and len(i) <= ID_CHARS
                                                                   for i in ids):
        raise DecisionError(f"decision {key!r}: expected a list of at most {MAX_IDS} recommendation ids "
                            f"(strings of at most {ID_CHARS} characters)")
    return ids


def checked(value: Any, offered: list[str]) -> Decision:
    """Return the decision, refusing ids the payload does not offer (DecisionError names them)."""
    decision = decision_of(value)
    unknown = sorted(decision.ids - set(offered))
    if unknown:
        raise DecisionError(f"unknown recommendation ids {unknown[:5]}: this run offered {offered[:20]}")
    return decision


def offered_ids(payload: dict[str, Any]) -> list[str]:
    """Return the ids of the recommendations a payload offers."""
    return [rec["policy_id"] for rec in payload.get("recommendations") or []]


def pending_approval(snapshot: Any) -> Any:
    """Return a state snapshot's pending approval interrupt (`value`: its payload, `id`), or None."""
    return next((i for i in snapshot.interrupts if isinstance(i.value, dict) and i.value.get("kind") == KIND), None)


def waiting_for(snapshot: Any) -> Payload | None:
    """Return the payload of a state snapshot's pending approval interrupt, or None."""
    pending = pending_approval(snapshot)
    return None if pending is None else pending.value


def approved(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the recommendations to act on: all of them, or (approval asked) those the human kept."""
    recs = list(state.get("recommendations") or [])
    if not recs or not wants_approval(state):
        return recs
    payload = approval_payload(state)
    kept = set(checked(interrupt(payload), offered_ids(payload)).kept(offered_ids(payload)))
    return [rec for rec in recs if rec["policy_id"] in kept]

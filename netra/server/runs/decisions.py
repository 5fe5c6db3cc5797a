"""How clients ask for approval and send decisions: the fields the WebSocket and the Agent Server share.

    DecisionValue        # a validated decision: true | {"approve": [ids]} | {"drop": [ids]} (422 otherwise)
    Approvals            # the Agent Server run body's `command`, `interrupt_before`; `.approval_of(...)`

Over the Agent Server API a run asks for approval with `interrupt_before: ["actions_to_meet_goals"]`
(what Studio sends for a breakpoint on that node), `context: {"approval": true}` or
`config: {"configurable": {"approval": true}}`; a later run of the thread continues it with
`command: {"resume": <decision>}` (what langgraph-sdk and agent-chat-ui send). The graph pauses
with LangGraph `interrupt` (not a static breakpoint), so the pause carries its payload.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from netra.graph.approval import NODE, DecisionError, decision_of


def _decision(value: Any) -> Any:
    """Return `value` when it is a decision of the right shape (ValueError names what is wrong)."""
    try:
        decision_of(value)
    except DecisionError as exc:
        raise ValueError(str(exc)) from None
    return value


DecisionValue = Annotated[Any, AfterValidator(_decision)]


class CommandIn(BaseModel):
    """The run body's `command`: `resume` only (`update`, `goto` are refused)."""

    model_config = ConfigDict(extra="forbid")

    resume: DecisionValue
    update: None = None
    goto: None = None


class Approvals(BaseModel):
    """The fields of an Agent Server run body that ask for approval or continue a paused run."""

    command: CommandIn | None = None
    interrupt_before: list[Literal["actions_to_meet_goals"]] | None = None

    @property
    def decision(self) -> Any:
        """The decision continuing the thread's paused run (None: the run asks a question)."""
        return None if self.command is None else self.command.resume

    def approval_of(self, config: dict[str, Any] | None, context: dict[str, Any] | None) -> bool:
        """Return whether the run asks for approval (`interrupt_before`, `context` or `configurable`)."""
        configurable = (config or {}).get("configurable") or {}
        asked = [NODE in (self.interrupt_before or []), (context or {}).get("approval"), configurable.get("approval")]
        return any(flag is True for flag in asked)

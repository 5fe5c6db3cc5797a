"""What every entry point asks of the engine, and what a run answers: the run's one contract.

    ask = Ask(question="Cut spend by 30%?", thread_id=None, strategy="parallel", approval=True)
    handle = await resources.runs.submit(owner, ask, multitask="reject")    # RunHandle, at once
    result = await resources.runs.wait(handle.run_id)                       # RunResult
    result["status"], result["report"]            # "success" | ..., the report as clients see it

`Ask` is the body of `POST /api/agent/run` as is; the WebSocket frames (`start_agent`,
`user_message`, `decide`) and the Agent Server run bodies are read into one. Its limits are
held here once: a question of 1 to QUESTION_CHARS characters (or none, with a decision),
a strategy of `netra.graph.strategies.STRATEGIES`, a decision of `runs.decisions`.
`RunResult` is what an executed run answers (`run_result` builds it, the one place).
The errors a run's entry points share: `ThreadBusyError` (409 `thread_busy` over HTTP, code
`thread_busy` over the WebSocket) and `RunEndedError` (409 over HTTP, code `run_ended` over the
WebSocket): the transports map them where their errors are mapped (`netra.server.errors`,
`ws.protocol.ERROR_CODES`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from netra.errors import ConflictError
from netra.graph.strategies import STRATEGIES
from netra.server.runs.decisions import DecisionValue
from netra.server.runs.status import RunStatus

QUESTION_CHARS = 4000
CANCELLED_MESSAGE = "the run was cancelled"
MULTITASK = ("reject", "enqueue")
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUESTION_CHARS)]
StrategyName = Literal[tuple(STRATEGIES)]  # type: ignore[valid-type]  # the names of netra.graph.strategies
Multitask = Literal[MULTITASK]  # type: ignore[valid-type]


class ThreadBusyError(ConflictError):
    """The thread has a run that is still pending or running (409 `thread_busy`)."""


class RunEndedError(ConflictError):
    """A run that has already ended cannot be cancelled (409 over HTTP, `run_ended` over the WebSocket)."""


class Ask(BaseModel):
    """A question to run (on a new thread, or an existing one of the user), or a decision continuing a paused run."""

    model_config = ConfigDict(extra="forbid")

    question: Question = ""
    thread_id: str | None = Field(None, min_length=1, max_length=64)
    strategy: StrategyName | None = None
    approval: bool = False  # pause for approval before the actions agent (the run ends `interrupted`)
    decision: DecisionValue = None  # true | {"approve": [ids]} | {"drop": [ids]}: continue the thread's paused run

    @model_validator(mode="after")
    def _asked(self) -> Ask:
        if self.decision is None and not self.question:
            raise ValueError(f"question: ask a question of 1 to {QUESTION_CHARS} characters, or send a decision")
        return self


class RunResult(TypedDict, total=False):
    """What an executed run answers (`interrupt` only for a run paused for approval)."""

    run_id: str
    thread_id: str
    status: str  # a RunStatus value: "success" | "error" | "cancelled" | "interrupted"
    report_id: str | None
    report: dict[str, Any] | None  # the report as clients see it: `Report.to_wire`
    error: str | None
    interrupt: dict[str, Any]  # what a paused run waits for


def run_result(run_id: str, thread_id: str, status: RunStatus, report: dict[str, Any] | None = None,
               error: str | None = None) -> RunResult:
    """Return what a run that ended `status` answers (`report`: its wire form, carrying `report_id`)."""
    return RunResult(run_id=run_id, thread_id=thread_id, status=status.value,
                     report_id=report["report_id"] if report else None, report=report, error=error)

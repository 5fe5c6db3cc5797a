"""What a run is asked to do: the typed request the run manager keeps and its executor reads.

    RunRequest("Cut spend by 30%?", approval=True)            # pause before the actions agent acts
    RunRequest("Drop: `route_model:...`", decision={"drop": ["route_model:..."]})   # continue a paused run
    request.inputs("conditional")     # the graph's input: a fresh question, Command(resume=...), or None

A request is one of three things: a new question (`fresh_run` input plus the question as a
human message; `approval` asks the graph to pause for a human before the actions agent,
`netra.graph.approval`), a decision continuing the thread's paused run (`decision`: the graph
continues with `Command(resume=decision)`; `question` is the decision as the thread shows it),
or a run recovery continues from its last checkpoint (`resume`: no input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import Command

from netra.graph.state import fresh_run


def run_inputs(question: str, strategy: str, approval: bool = False) -> dict[str, Any]:
    """Return the graph input of a new question: a fresh run plus the question as a human message."""
    return {**fresh_run(question, strategy), "approval": approval, "messages": [HumanMessage(content=question)]}


@dataclass(frozen=True)
class RunRequest:
    """A run's question (or decision text), strategy, approval flag, resume decision, recovery flag."""

    question: str
    strategy: str | None = None
    approval: bool = False
    decision: Any = None  # true | {"approve": [ids]} | {"drop": [ids]}: continue the thread's paused run
    resume: bool = False  # recovery: continue from the thread's last checkpoint

    @property
    def continues(self) -> bool:
        """Whether the run continues the thread's graph (a decision, or recovery) rather than asking anew."""
        return self.resume or self.decision is not None

    def inputs(self, strategy: str) -> dict[str, Any] | Command | None:
        """Return the graph's input: None (recovery), Command(resume=decision), or a fresh question."""
        if self.resume:
            return None
        if self.decision is not None:
            return Command(resume=self.decision)
        return run_inputs(self.question, strategy, self.approval)

"""Strategies: which agents run for a request, and whether independent work fans out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from netra.errors import ConfigError
from netra.graph.state import AGENTS, Request

_SHORT_PATH = ("triage", "data", "reporting")


def _all_agents(request: Request) -> list[str]:
    return list(AGENTS)


def _by_intent(request: Request) -> list[str]:
    return list(AGENTS) if request.get("intent") == "optimize" else list(_SHORT_PATH)


@dataclass(frozen=True)
class Strategy:
    """A strategy: the agents it selects, and whether tasks run at once (`Send`) or in turn."""

    name: str
    select: Callable[[Request], list[str]]
    fan_out: bool


STRATEGIES: dict[str, Strategy] = {
    "sequential": Strategy("sequential", _all_agents, fan_out=False),
    "parallel": Strategy("parallel", _all_agents, fan_out=True),
    "conditional": Strategy("conditional", _by_intent, fan_out=True),
}


def get_strategy(name: str) -> Strategy:
    """Return the strategy called `name`; a clear error names the valid ones."""
    if name not in STRATEGIES:
        raise ConfigError(f"strategy={name!r}: expected one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]

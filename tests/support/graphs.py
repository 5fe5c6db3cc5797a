"""Helpers for graph tests: deps over the test store, recorded hooks, node visits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netra.config import Settings
from netra.graph.deps import Deps
from netra.graph.hooks import HOOK_NAMES, Hooks, RetrySettings
from netra.workloads.synthetic import generate_and_load

OPTIMIZE = "How can we cut our LLM spend by 30% without hurting quality?"
PLAIN = "What was the p95 latency of gpt-4o last week?"


@dataclass
class Recorder:
    """Records every hook call as (hook, agent) and every streamed node update."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)

    def hooks(self) -> Hooks:
        """Return hooks that record into this recorder."""
        return Hooks(**{h: [lambda a, p, h=h: self.calls.append((h, a))] for h in HOOK_NAMES})

    def on_event(self, mode: str, chunk: Any) -> None:
        """Collect the names of nodes that sent updates."""
        if mode == "updates":
            self.nodes.extend(chunk.keys())

    def started(self) -> list[str]:
        """Return agents in the order their `before_agent` hook fired."""
        return [agent for hook, agent in self.calls if hook == "before_agent"]


def make_deps(store, catalog, tmp_path, recorder: Recorder, database_url: str = "", **overrides) -> Deps:
    """Return deps over the test store with a checkpoint DB under tmp_path."""
    settings = Settings(home=tmp_path, database_url=database_url, **overrides)
    return Deps(store=store, catalog=catalog, settings=settings, hooks=recorder.hooks(),
                retry=RetrySettings(max_attempts=2, backoff_s=0.0))


def load_mixed(store, catalog, events: int = 20_000, seed: int = 7) -> dict:
    """Load the mixed scenario into the (empty) store; return its manifest."""
    return generate_and_load(store, catalog, "mixed", events, seed)

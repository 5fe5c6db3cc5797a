"""The graph as data: a node table, an edge table and a route table, joined by `build_graph`."""

from __future__ import annotations

from functools import partial
from typing import Callable

from langgraph.graph import END, START, StateGraph

from netra.graph.deps import Deps
from netra.graph.hooks import wrap_agent
from netra.graph.state import NetraState
from netra.nodes.actions import actions_to_meet_goals
from netra.nodes.data import data, data_task, route_data
from netra.nodes.optimizations import optimizations_core, route_optimizations, simulate_policy
from netra.nodes.reporting import reporting
from netra.nodes.supervisor import next_agent, supervisor
from netra.nodes.triage import triage

# node name -> (function of (deps, state), wrapped with hooks and retry?)
NODES: dict[str, tuple[Callable[[Deps, dict], dict], bool]] = {
    "supervisor": (supervisor, True),
    "triage": (triage, True),
    "data": (data, True),
    "data_task": (data_task, False),
    "optimizations_core": (optimizations_core, True),
    "simulate_policy": (simulate_policy, False),
    "actions_to_meet_goals": (actions_to_meet_goals, True),
    "reporting": (reporting, True),
}

EDGES: list[tuple[str, str]] = [
    (START, "supervisor"),
    ("triage", "supervisor"),
    ("data_task", "data"),
    ("simulate_policy", "optimizations_core"),
    ("actions_to_meet_goals", "supervisor"),
    ("reporting", "supervisor"),
]

# source -> (router, the nodes it may go to)
ROUTES: dict[str, tuple[Callable, list[str]]] = {
    "supervisor": (next_agent, ["triage", "data", "optimizations_core", "actions_to_meet_goals",
                                "reporting", END]),
    "data": (route_data, ["data_task", "data", "supervisor"]),
    "optimizations_core": (route_optimizations, ["simulate_policy", "optimizations_core", "supervisor"]),
}


def _node(name: str, deps: Deps) -> Callable[[dict], dict]:
    fn, wrapped = NODES[name]
    bound = partial(fn, deps)
    return wrap_agent(name, bound, deps.hooks, deps.retry) if wrapped else bound


def build_graph(deps: Deps) -> StateGraph:
    """Return the uncompiled graph (compile it with a checkpointer, or let Studio do it)."""
    graph = StateGraph(NetraState)
    for name in NODES:
        graph.add_node(name, _node(name, deps))
    for source, target in EDGES:
        graph.add_edge(source, target)
    _add_routes(graph)
    return graph


def _add_routes(graph: StateGraph) -> None:
    for source, (router, targets) in ROUTES.items():
        graph.add_conditional_edges(source, router, targets)

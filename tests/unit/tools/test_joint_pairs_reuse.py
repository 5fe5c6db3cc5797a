"""The events of a set of (feature, model) pairs are joined from kept loads (`_joint_data.pair_events`).

An analysis simulates each proposed policy alone, then all of them together. Each pair's events
are read once: the combined simulation joins the loads of the single ones (no query), a set
with pairs no load read reads only those (one query), and every figure is the one a single
query of all the pairs gives, to the last bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.tools._cache_replay.memo import forget, memo_of
from netra.tools._joint import JointSimulator, Savings
from netra.tools._sql import Queries
from netra.tools.base import ToolResult
from netra.tools.findings import Policy
from netra.tools.scope import Scope, in_workspace
from netra.workloads.synthetic import generate_and_load
from tests.support.factories import at, load
from tests.unit.tools.test_joint_reference import POLICIES

PAIRS = sorted({(p.feature, p.model) for p in POLICIES})


@pytest.fixture
def mixed(ctx, catalog):
    """3,000 events of the `mixed` scenario (every pair of `POLICIES` has events), no load kept."""
    generate_and_load(ctx.store, catalog, "mixed", 3_000, 7, 14.0)
    forget(ctx.store)
    return ctx


def simulator(ctx, policies: list[Policy]) -> tuple[JointSimulator, Queries]:
    """Load a joint simulator over the whole store for `policies`; return it and its queries."""
    queries = Queries(ctx.store)
    with in_workspace(ctx.workspace_id):
        return JointSimulator(ctx, Scope(), policies, queries), queries


def read_pairs(queries: Queries) -> list[list[tuple[str, str]]]:
    """Return the pairs of each events query among the evidence."""
    return [[tuple(p) for p in e.params["pairs"]] for e in queries.evidence if "pairs" in e.params]


def figures(sim: JointSimulator) -> dict[str, object]:
    """Return everything a policy tool takes from a simulation of `POLICIES`, as exact values."""
    with in_workspace(sim.ctx.workspace_id):
        saving = Savings.of(sim, POLICIES)
    outcomes = saving.alone + saving.joint.outcomes
    return {"saved": [o.saved.tolist() for o in outcomes], "saving": [o.saving for o in outcomes],
            "why": [o.skipped_because for o in outcomes], "joint": saving.joint.saving,
            "per_day": [saving.per_day(some).tolist() for some in [*([o] for o in outcomes), saving.joint.outcomes]],
            "baseline": [sim.baseline[sim.frame.rows_of(*pair)].tolist() for pair in PAIRS]}


def singles_then_all(ctx) -> tuple[JointSimulator, Queries]:
    """Simulate each policy of `POLICIES` alone, then all together; return the last simulator and its queries."""
    for policy in POLICIES:
        simulator(ctx, [policy])
    return simulator(ctx, POLICIES)


def test_the_combined_simulation_joins_the_single_loads_without_a_query(mixed):
    joined, queries = singles_then_all(mixed)
    assert len(memo_of(mixed.store, "joint_pairs").entries) == len(PAIRS)   # one load per pair, none for the set
    assert sorted(read_pairs(queries)) == [[pair] for pair in PAIRS]       # the queries that read its events


def test_joined_events_give_the_figures_of_one_query_to_the_last_bit(mixed):
    joined = singles_then_all(mixed)[0]
    got = figures(joined)
    forget(mixed.store)
    once, queries = simulator(mixed, POLICIES)
    assert read_pairs(queries) == [PAIRS] and not np.array_equal(once.frame.day, joined.frame.day)  # another order
    assert got == figures(once)


def test_only_the_pairs_no_load_read_are_read_with_one_query(mixed):
    first, second = POLICIES[0], [p for p in POLICIES if p.feature != POLICIES[0].feature]
    simulator(mixed, [first])
    sim, queries = simulator(mixed, [first, *second])
    rest = sorted({(p.feature, p.model) for p in second})
    assert read_pairs(queries) == [[(first.feature, first.model)], rest]
    assert len(memo_of(mixed.store, "joint_pairs").entries) == 2
    assert simulator(mixed, second)[1].evidence[-1].params["pairs"] == rest   # that load now serves them as is


def tool_singles_then_all(ctx) -> ToolResult:
    """Ask `policy_simulator` for each policy of `POLICIES` alone, then all together; return the last answer."""
    policies = [p.model_dump() for p in POLICIES]
    for policy in policies:
        ToolDispatcher(ctx).run("policy_simulator", {"policies": [policy]})
    return ToolDispatcher(ctx).run("policy_simulator", {"policies": policies})


def test_the_policy_simulator_answers_the_same_whether_its_events_were_read_at_once_or_pair_by_pair(mixed):
    joined = tool_singles_then_all(mixed)
    forget(mixed.store)
    once = ToolDispatcher(mixed).run("policy_simulator", {"policies": [p.model_dump() for p in POLICIES]})
    assert joined.model_dump(exclude={"evidence"}) == once.model_dump(exclude={"evidence"})
    assert joined.evidence != once.evidence and len(joined.evidence) > len(once.evidence)


# f and g: one gpt-4o event each a second; the first two are there before the others
ROWS = [{"timestamp": at(seconds=i), "feature": f, "model": "gpt-4o", "request_id": f"{f}{i}", "input_tokens": 1000,
         "output_tokens": 100} for i in range(3) for f in ("f", "g")]
BATCH = [Policy(policy_id=f"batch_api:{f}:gpt-4o", kind="batch_api", feature=f, model="gpt-4o") for f in "fg"]


def test_new_events_are_read_again_not_joined_from_older_loads(ctx, catalog):
    load(ctx.store, catalog, ROWS[:2])
    for alone in BATCH:
        simulator(ctx, [alone])
    load(ctx.store, catalog, ROWS[2:])
    sim, queries = simulator(ctx, BATCH)
    assert read_pairs(queries) == [[("f", "gpt-4o"), ("g", "gpt-4o")]] and sim.frame.n == 6


def test_a_set_of_no_pairs_reads_nothing(ctx):
    sim, queries = simulator(ctx, [])
    assert sim.frame.n == 0 and read_pairs(queries) == [] and np.array_equal(sim.baseline, np.zeros(0))

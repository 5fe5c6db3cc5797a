"""`cache_policy_optimizer`'s engine equals the plain-Python replays (tests/support/lru_reference.py).

Two ways in: random traces fed straight to the engine (`Reuse.of`: the policy query's answer,
in storage order, with exact or superset shared runs; many examples, 1-120 requests), and the
workloads of the other property tests loaded into the real chDB store (in one insert or two, so
`kv_prefix_seen` may count a shared block once in each of two parts) and run through the tool,
whose every figure and row must equal those the reference's hits give. Both draw capacities from
1 to a billion and TTLs that fall exactly on the gaps between requests.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netra.tools import ToolDispatcher
from netra.tools._cache_replay.lru import Reuse
from netra.tools._sql import Queries
from netra.tools.base import ToolContext, ToolResult
from netra.tools.cache_policy import TOOL, CachePolicyArgs, Curves, load_trace, result
from netra.tools.scope import Scope, in_workspace
from tests.property import cases
from tests.property.lru_workloads import Drawn, traces
from tests.property.workloads import record, workloads
from tests.support.factories import load
from tests.support.lru_reference import reference_curves

ENGINE = settings(max_examples=300, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOOL_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# capacities and TTLs (seconds) for the stored workloads: their gaps fall on 5 min and 1 h exactly
CAPACITY = st.sampled_from((1, 2, 3, 5, 10, 40, 10**9)) | st.integers(1, 100)
TTL_S = st.sampled_from((1, 60, 299, 300, 301, 3599, 3600, 3601))
SETTINGS_ARGS = st.fixed_dictionaries({"capacities": st.lists(CAPACITY, min_size=1, max_size=20),
                                       "ttls_s": st.lists(TTL_S, min_size=1, max_size=20)})


@ENGINE
@given(drawn=traces())
def test_engine_equals_the_reference_replays(drawn: Drawn):
    args = CachePolicyArgs(capacities=drawn.capacities, ttls_s=drawn.ttls_s)
    engine = Curves.of(Reuse.of(drawn.table()), args)
    assert engine == reference_curves(drawn.trace(), drawn.capacities, drawn.ttls_s)


@TOOL_SETTINGS
@given(workload=workloads(), args=SETTINGS_ARGS, later=st.floats(0, 1))
@example(workload=cases.SAME_MS, args={"capacities": [1, 3, 4], "ttls_s": [1]}, later=0.5)
@example(workload=cases.TTL_EXPIRED, args={"capacities": [1, 4], "ttls_s": [299, 300, 301]}, later=0.5)
@example(workload=cases.TTL_FRESH, args={"capacities": [2], "ttls_s": [300]}, later=0)
@example(workload=cases.CROSS_MODEL, args={"capacities": [4, 8], "ttls_s": [1, 2]}, later=0)
@example(workload=cases.FAILED, args={"capacities": [1, 5, 6], "ttls_s": [1, 2]}, later=0.5)
@example(workload=cases.UNHASHED, args={"capacities": [1], "ttls_s": [60]}, later=0)
def test_tool_figures_and_rows_equal_the_reference(plant, catalog, workload, args, later):
    """`later`: the share of the events loaded by a second insert."""
    ctx = planted(plant, catalog, workload, later)
    answer = ToolDispatcher(ctx).run(TOOL, args)
    expected = reference_result(ctx, args)
    assert (answer.figures, answer.rows, answer.notes) == (expected.figures, expected.rows, expected.notes)


def planted(plant, catalog, workload: list[dict], later: float) -> ToolContext:
    """Load the workload, its last `later` share by a second insert (blocks the two inserts share
    may then be counted once in each of two parts of `kv_prefix_seen`)."""
    first = len(workload) - int(later * len(workload))
    ctx = plant(workload[:first])
    load(ctx.store, catalog, [record(e) for e in workload[first:]])
    return ctx


def reference_result(ctx: ToolContext, args: dict) -> ToolResult:
    """Return the tool's answer as the reference replays compute it."""
    with in_workspace(ctx.workspace_id):
        trace = load_trace(Queries(ctx.store), Scope())
    return result(reference_curves(trace, args["capacities"], args["ttls_s"]), Queries(ctx.store))

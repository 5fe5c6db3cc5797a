"""performance_gains_simulator's model speeds (`_gains.speeds`): read once per data version, recorded every call."""

from __future__ import annotations

from netra.tools._gains import speeds
from netra.tools._sql import Queries
from netra.tools.scope import Scope, in_workspace
from tests.support.factories import at, load

FAST = [{"timestamp": at(seconds=i), "feature": "chat", "model": "gpt-4o", "request_id": f"c{i}", "latency_ms": 1000,
         "ttft_ms": 200, "output_tokens": 100, "input_tokens": 100} for i in range(3)]


def test_model_speeds_are_read_once_per_data_version_and_recorded_every_call(ctx, catalog):
    load(ctx.store, catalog, FAST)
    first, second = Queries(ctx.store), Queries(ctx.store)
    with in_workspace(ctx.workspace_id):
        assert speeds(ctx, first, Scope()) is speeds(ctx, second, Scope())
        load(ctx.store, catalog, [{**FAST[0], "request_id": "m", "model": "gpt-4o-mini"}])
        assert set(speeds(ctx, Queries(ctx.store), Scope())) == {"gpt-4o", "gpt-4o-mini"}
    assert first.evidence == second.evidence and len(first.evidence) == 1

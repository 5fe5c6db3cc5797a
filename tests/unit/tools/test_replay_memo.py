"""Loads shared by the tools of one analysis (`_cache_replay.memo`): reused only at the same data version.

Each test plants requests in the real chDB store, asks twice, and checks that the second
answer is the first one when nothing changed (and its query is still recorded as evidence),
and that new, deleted or replaced events are replayed, never the remembered ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from netra.tools._attempts import scoped_attempts
from netra.tools._cache_replay import replay_scope
from netra.tools._cache_replay.memo import KEPT, forget, memo_of
from netra.tools._joint import JointSimulator
from netra.tools._sql import Queries
from netra.tools.error_rates import attempts
from netra.tools.findings import Policy
from netra.tools.scope import Scope, in_workspace
from tests.support.factories import load
from tests.unit.tools.test_cache_replay import NO, P, SON, decisions, request

SHARED = (True, 2048, 0, 2048, "cache_write")  # P's 4 blocks x 512, written: nobody came before


def test_the_same_data_replays_once_and_every_caller_records_the_query(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), request("b", 10, SON, P)])
    first, second = Queries(ctx.store), Queries(ctx.store)
    assert replay_scope(ctx, Scope(), "5m", first) is replay_scope(ctx, Scope(), "5m", second)
    assert [e.sql for e in first.evidence] == [e.sql for e in second.evidence] != []


def test_new_events_are_replayed_not_the_remembered_ones(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P)])
    assert decisions(replay_scope(ctx, Scope(), "5m")) == {"a": NO}  # nobody shares a's prompt yet
    load(ctx.store, catalog, [request("b", 10, SON, P)])
    assert decisions(replay_scope(ctx, Scope(), "5m")) == {"a": SHARED, "b": (True, 2048, 2048, 0, "cache_write")}


def test_replaced_events_of_the_same_count_are_replayed(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), request("b", 10, SON, P)])
    replay_scope(ctx, Scope(), "5m")
    ctx.store.truncate()
    load(ctx.store, catalog, [request("a", 0, SON, P), request("b", 10, SON, [0xB1, 0xB2])])
    assert decisions(replay_scope(ctx, Scope(), "5m")) == {"a": NO, "b": NO}


def test_each_choice_is_replayed_once_and_shared_read_only(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), request("b", 10, SON, P)])
    replay = replay_scope(ctx, Scope(), "1h")
    assert replay is replay_scope(ctx, Scope(), "1h") and replay is not replay_scope(ctx, Scope(), "5m")
    with pytest.raises(ValueError, match="read-only"):
        replay.read_tokens[0] = 1


def test_only_the_newest_loads_are_kept(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), {**request("b", 10, SON, P), "feature": "other"}])
    scopes = [Scope(), Scope(feature="chat"), Scope(feature="other")]
    replays = [replay_scope(ctx, scope, "5m") for scope in scopes]
    assert len(memo_of(ctx.store).entries) == KEPT
    assert replay_scope(ctx, scopes[-1], "5m") is replays[-1] and replay_scope(ctx, scopes[0], "5m") is not replays[0]


ENRICH = [{"request_id": f"e{i}", "timestamp": request("x", i * 1000, SON, P)["timestamp"], "feature": "enrich",
           "model": "gpt-4o", "provider": "openai", "input_tokens": 1000, "output_tokens": 100} for i in range(4)]
BATCH = Policy(policy_id="batch_api:enrich:gpt-4o", kind="batch_api", feature="enrich", model="gpt-4o",
               source_tool="batch_opportunity_finder")


def test_joint_simulators_of_one_scope_and_pairs_share_their_events_and_each_records_the_queries(ctx, catalog):
    load(ctx.store, catalog, ENRICH)
    first, second = Queries(ctx.store), Queries(ctx.store)
    with in_workspace(ctx.workspace_id):
        one, two = JointSimulator(ctx, Scope(), [BATCH], first), JointSimulator(ctx, Scope(), [BATCH], second)
        assert one.frame is two.frame and one.run([BATCH]).saving == two.run([BATCH]).saving > 0
    assert [e.sql for e in first.evidence] == [e.sql for e in second.evidence] and len(first.evidence) == 3


ATTEMPTS = [{**row, "feature": feature, "request_id": f"{feature}{i}", "latency_ms": 100 + i, "prompt_hash": 7,
             "status": "ok" if i % 2 else "timeout"} for feature in ("f", "g") for i, row in enumerate(ENRICH)]


@pytest.mark.parametrize("features", [["f"], ["g"], ["f", "g"], []])
def test_the_shared_attempts_of_some_features_are_the_attempts_read_for_them_alone(ctx, catalog, features):
    load(ctx.store, catalog, ATTEMPTS)
    with in_workspace(ctx.workspace_id):
        alone = attempts(Queries(ctx.store), Scope(), features)
        shared = scoped_attempts(ctx, Queries(ctx.store), Scope(), features)
    assert sorted(alone) == sorted(shared)
    assert all(sorted(map(str, alone[name])) == sorted(map(str, shared[name])) for name in alone)
    assert len(shared["f"]) == 4 * len(features) and set(np.unique(shared["f"])) == set(features)


OTHER = [{**row, "request_id": f"o{i}", "model": "gpt-4.1"} for i, row in enumerate(ENRICH)]
WIDER = BATCH.model_copy(update={"policy_id": "batch_api:enrich:gpt-4.1", "model": "gpt-4.1"})


def simulator(ctx, policies: list[Policy]) -> JointSimulator:
    """Load a joint simulator over the whole store for `policies`."""
    with in_workspace(ctx.workspace_id):
        return JointSimulator(ctx, Scope(), policies, Queries(ctx.store))


def saved(sim: JointSimulator, policy: Policy) -> tuple[float, list[float]]:
    """Return what `policy` saves alone, in all and per event."""
    with in_workspace(sim.ctx.workspace_id):
        result = sim.run([policy])
    return result.saving, list(result.outcomes[0].saved)


def test_events_read_for_more_pairs_serve_a_subset_with_the_same_figures(ctx, catalog):
    load(ctx.store, catalog, ENRICH + OTHER)
    both, one = simulator(ctx, [BATCH, WIDER]), simulator(ctx, [BATCH])
    shared = saved(one, BATCH)
    forget(ctx.store)
    alone = simulator(ctx, [BATCH])
    assert one.frame is both.frame and alone.frame is not both.frame and alone.frame.n == 4
    assert shared == saved(alone, BATCH) and shared[0] > 0

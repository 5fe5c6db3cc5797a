"""performance_gains_simulator's coded replay (`_gains`, `_attempts.AttemptTable`) on the real chDB store.

The reference is the replay as it was written first: the attempts of the policies' features
read alone (`error_rates.attempts`), (feature, model) masks comparing text, and logical
requests found by `np.unique` over the request ids. The coded replay must give the same rows,
figures and notes, and keep the attempts and model speeds per data version.
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

import numpy as np
import pytest

from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolDispatcher
from netra.tools._attempts import attempt_table
from netra.tools._gains import _APPLY, PerRequest, Replay, speeds, unique
from netra.tools._sql import Queries, finish
from netra.tools.base import ToolContext
from netra.tools.error_rates import attempts
from netra.tools.findings import Policy
from netra.tools.performance import GAINS, GAINS_FIGURES
from netra.tools.scope import Scope, in_workspace

GAINS_PARAMS = {"route_model": {"target_model": "gpt-4o-mini"}, "cap_max_tokens": {"cap": 300},
                "prompt_cache": {"prefix_tokens": 800}, "batch_api": {}, "retry_budget": {}}


@pytest.fixture
def ctx(workload, catalog) -> ToolContext:
    """A tool context over the session store holding the `mixed` workload (never emptied here)."""
    return ToolContext(workload, catalog, workspace_id=LOCAL_WORKSPACE)


def pairs(ctx) -> list[tuple[str, str]]:
    """Return the (feature, model) pairs of the store's events, sorted."""
    return [(r["feature"], r["model"]) for r in ctx.store.rows(
        "SELECT DISTINCT toString(feature) AS feature, toString(model) AS model FROM workload_events "
        "ORDER BY feature, model")]


def every_kind(ctx) -> list[Policy]:
    """Return one policy per (feature, model) pair, the kinds taken in turn, plus an unknown pair and a repeat."""
    found = [Policy(policy_id=f"{kind}:{f}:{m}", kind=kind, feature=f, model=m, params=GAINS_PARAMS[kind],
                    source_tool="test") for (f, m), kind in zip(pairs(ctx), cycle(GAINS_PARAMS))]
    stranger = Policy(policy_id="batch_api:nobody:gpt-4o", kind="batch_api", feature="nobody", model="gpt-4o",
                      source_tool="test")
    return [*found, found[0], stranger]


def reference(ctx, policies: list[Policy]) -> dict[str, Any]:
    """Return the first replay's result (rows, figures, notes) for `policies`."""
    q = Queries(ctx.store)
    found = attempts(q, Scope(), sorted({p.feature for p in policies}))
    timed = found["timed"] > 0
    sim = _text_replay({k: v[timed] for k, v in found.items()}, speeds(ctx, q, Scope()), ctx)
    notes = [n for n in (_text_apply(sim, p) for p in unique(policies)) if n]
    per = _by_unique(sim)
    return _plain(finish(GAINS, GAINS_FIGURES, per.gains(), _text_rows(per), q, notes))


def _text_replay(a: dict[str, np.ndarray], known: dict[str, dict], ctx) -> Replay:
    """Return a replay whose feature and model columns are text."""
    ttft = np.minimum(a["ttft"], a["lat"])
    flags = np.zeros(len(ttft), dtype=bool)
    return Replay(a, ttft, a["lat"] - ttft, flags, flags.copy(), known, ctx.catalog, ())


def _text_apply(sim: Replay, policy: Policy) -> str:
    """Apply a policy to the attempts whose feature and model text are its own."""
    mask = (sim.a["f"] == policy.feature) & (sim.a["m"] == policy.model)
    if not mask.any():
        return f"{policy.policy_id}: no requests of {policy.feature}/{policy.model} in scope; no effect"
    return _APPLY[policy.kind](sim, mask, policy)


def _by_unique(sim: Replay) -> PerRequest:
    """Return the logical requests found by `np.unique` over the request ids (feature as text)."""
    _, first, inverse = np.unique(sim.a["request"], return_index=True, return_inverse=True)
    new = np.where(sim.dropped, 0.0, sim.ttft + sim.gen)
    offline = np.bincount(inverse, weights=sim.offline) > 0
    return PerRequest(sim.a["f"][first], np.bincount(inverse, weights=sim.a["lat"]), np.bincount(inverse, weights=new),
                      offline)


def _text_rows(per: PerRequest) -> list[dict[str, Any]]:
    """Return each feature's gains, in name order."""
    return [{"feature": f, **per.at(per.feature == f).gains()} for f in sorted(set(per.feature))]


def _plain(result) -> dict[str, Any]:
    """Return a result's rows, figure values and notes."""
    return {"rows": result.rows, "figures": {k: f.value for k, f in result.figures.items()}, "notes": result.notes}


def run(ctx, policies: list[Policy]):
    """Run the simulator on `policies` over the whole store."""
    return ToolDispatcher(ctx).run(GAINS, {"policies": [p.model_dump(mode="json") for p in policies]})


def test_every_kind_of_policy_gives_the_first_replays_answer(ctx):
    policies = every_kind(ctx)
    with in_workspace(ctx.workspace_id):
        expected = reference(ctx, policies)
    assert len(expected["rows"]) > 1 and any(p.kind == "retry_budget" for p in policies)
    assert _plain(run(ctx, policies)) == expected


@pytest.mark.parametrize("kind", sorted(GAINS_PARAMS))
def test_each_round_of_one_kind_gives_the_first_replays_answer(ctx, kind):
    policies = [p for p in every_kind(ctx) if p.kind == kind]
    with in_workspace(ctx.workspace_id):
        expected = reference(ctx, policies)
    assert _plain(run(ctx, policies)) == expected


def table_of(ctx):
    """Return the shared attempts of the whole store."""
    with in_workspace(ctx.workspace_id):
        return attempt_table(ctx, Queries(ctx.store), Scope())


def test_the_shared_attempts_are_runs_of_requests_read_only(ctx):
    table = table_of(ctx)
    ids, number = table.numbers["request"], table.request
    assert np.all(np.diff(number) >= 0) and np.all((np.diff(ids) != 0) == (np.diff(number) == 1))
    assert list(table.feature.values) == sorted({f for f, _ in pairs(ctx)})
    with pytest.raises(ValueError, match="read-only"):
        table.numbers["lat"][0] = 1


def test_unknown_features_and_models_have_no_code_and_no_rows(ctx):
    table = table_of(ctx)
    chosen = table.chosen(["nobody"])
    assert table.feature.code("nobody") == table.model.code("nobody") == -1
    assert (chosen.attempts, chosen.timed, len(table.rows(chosen))) == (0, 0, 0)



def sorted_rows(columns: dict[str, np.ndarray]) -> list[list]:
    """Return the feature, model and request of each attempt, in (request, feature, model) order."""
    order = np.lexsort((columns["m"], columns["f"], columns["request"]))
    return [list(columns[k][order]) for k in ("f", "m", "request")]


def test_a_narrow_scope_codes_only_the_labels_its_attempts_hold(ctx):
    """ClickHouse sends feature and model with the whole LowCardinality dictionary; unused values get no code."""
    model = pairs(ctx)[0][1]
    with in_workspace(ctx.workspace_id):
        table = attempt_table(ctx, Queries(ctx.store), Scope(model=model))
        found = attempts(Queries(ctx.store), Scope(model=model), sorted({f for f, m in pairs(ctx) if m == model}))
    assert list(table.model.values) == [model] and list(table.feature.values) == sorted(set(found["f"]))
    assert sorted_rows(table.columns(np.arange(len(table.request)))) == sorted_rows(found)

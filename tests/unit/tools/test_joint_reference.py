"""The joint simulator against a plain per-event reference on the `mixed` synthetic workload.

The reference is written from the rules of docs/tools.md (`policy_simulator`): it walks the
events one by one in (timestamp, request_id) order, changes each as its policies say, in the
order prompt cache, route, cap, batch, retries, and prices every event before and after each
step with the reference pricing of docs/pricing.md (`netra/evals/reference`). The prompt-cache reads
and writes come from the replay engine (checked against its own reference elsewhere).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any, Callable

import pytest

from netra.tools._cache_replay import replay_scope
from netra.tools._joint import JointSimulator
from netra.tools._sql import Queries
from netra.tools.findings import Policy
from netra.tools.scope import Scope, in_workspace
from netra.workloads.catalog import PACKAGED_CATALOG
from netra.workloads.synthetic import generate_and_load
from netra.evals.reference import ReferenceCatalog
from netra.evals.reference.pricing import billed

EVENTS_SQL = """SELECT model, feature, request_id, prompt_hash, max_tokens, status, service_tier, is_batch,
       input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens
FROM workload_events ORDER BY timestamp, request_id"""
TOKENS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
          "reasoning_tokens")
KINDS = ("prompt_cache", "route_model", "cap_max_tokens", "batch_api", "retry_budget")


def policy(kind: str, feature: str, model: str, **params: Any) -> Policy:
    """A policy of `kind` on (feature, model)."""
    return Policy(policy_id=f"{kind}:{feature}:{model}", kind=kind, feature=feature, model=model, params=params)


SONNET = ("support_bot", "claude-sonnet-4-5")
POLICIES = [policy("prompt_cache", *SONNET, ttl_option="1h"), policy("route_model", *SONNET,
                                                                       target_model="claude-haiku-4-5"),
            policy("batch_api", *SONNET), policy("route_model", "ticket_classifier", "gpt-4o", target_model="gpt-4o-mini"),
            policy("cap_max_tokens", "summarizer", "gpt-4.1", cap=512), policy("batch_api", "nightly_enrichment", "gpt-4.1"),
            policy("retry_budget", "agent_tools", "gpt-4.1", max_retries=1), policy("cap_max_tokens", "agent_tools",
                                                                                    "gpt-4.1", cap=64)]


def eligible(replay: Any) -> dict[str, tuple[int, int, str]]:
    """Return (read, write, write class) of every eligible event of the replay, by request_id."""
    return {r: (read, write, kind) for r, ok, read, write, kind in zip(
        replay.request_id, replay.eligible, replay.read_tokens, replay.write_tokens, replay.write_class) if ok}


def cached(replay: Any) -> Callable[[dict], None]:
    """Return the cache step: an eligible event takes the replay's reads and writes (docs/caching.md)."""
    rows = eligible(replay)

    def step(event: dict) -> None:
        if event["request_id"] in rows:
            read, write, kind = rows[event["request_id"]]
            event.update(cached_input_tokens=read, cache_write_tokens=0 if kind == "input" else write,
                         cache_write_1h_tokens=write if kind == "cache_write_1h" else 0)
    return step


def capped(cap: int) -> Callable[[dict], None]:
    """Return the cap step: an event that sets max_tokens keeps at most `cap` output tokens."""
    def step(event: dict) -> None:
        if event["max_tokens"] > 0 and event["output_tokens"] > cap:
            event.update(output_tokens=cap, reasoning_tokens=min(event["reasoning_tokens"], cap))
    return step


def attempt_groups(events: list[dict]) -> list[list[dict]]:
    """Return the events with a prompt hash grouped by it, each group in time order."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for event in events:
        if event["prompt_hash"]:
            groups[event["prompt_hash"]].append(event)
    return list(groups.values())


def beyond_budget(events: list[dict], budget: int) -> set[int]:
    """Return the ids of billed retried failures after the first `budget` of their prompt-hash group."""
    dropped = set()
    for attempts in attempt_groups(events):
        retried = [e for e in attempts[:-1] if e["status"] != "ok" and billed(e)]  # not the last: retried
        dropped |= {id(e) for e in retried[budget:]}
    return dropped


class Reference:
    """Applies the policies to a copy of every event, one event and one step at a time."""

    def __init__(self, events: list[dict], prices: ReferenceCatalog, replay: Any) -> None:
        self.events = [{**e, "pair": (e["feature"], e["model"])} for e in events]  # the pair as logged
        self.prices, self.replay = prices, replay
        self.saving: dict[str, float] = defaultdict(float)

    def run(self, policies: list[Policy]) -> dict[str, float]:
        """Return each policy's saving at its step."""
        for policy in sorted(policies, key=lambda p: (KINDS.index(p.kind), p.feature, p.model)):
            self.apply(policy, [e for e in self.events if e["pair"] == (policy.feature, policy.model)])
        return dict(self.saving)

    def apply(self, policy: Policy, mine: list[dict]) -> None:
        """Change each event of the policy's pair, pricing it before and after."""
        step = self.step(policy, mine)
        for event in mine:
            before = self.prices.cost(event)
            step(event)
            self.saving[policy.policy_id] += before - self.prices.cost(event)

    def step(self, policy: Policy, mine: list[dict]) -> Callable[[dict], None]:
        """Return the change `policy` makes to one event of its pair."""
        dropped = beyond_budget(mine, policy.params.get("max_retries", 0))
        return {"prompt_cache": cached(self.replay), "cap_max_tokens": capped(policy.params.get("cap", 0)),
                "route_model": lambda e: e.update(model=policy.params.get("target_model")),
                "batch_api": lambda e: e.update(is_batch=1),
                "retry_budget": lambda e: e.update(dict.fromkeys(TOKENS, 0)) if id(e) in dropped else None}[policy.kind]


@pytest.fixture
def expected(ctx, catalog) -> dict[str, float]:
    """Load 3,000 events of the `mixed` scenario; return the reference's saving of each policy."""
    generate_and_load(ctx.store, catalog, "mixed", 3_000, 7, 14.0)
    prices = ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], catalog.resolve)
    with in_workspace(ctx.workspace_id):
        replay = replay_scope(ctx, Scope(), "1h")
    return Reference(ctx.store.rows(EVENTS_SQL), prices, replay).run(POLICIES)


def test_the_joint_simulator_agrees_with_the_per_event_reference(ctx, expected):
    with in_workspace(ctx.workspace_id):
        result = JointSimulator(ctx, Scope(), POLICIES, Queries(ctx.store)).run(POLICIES)
    got = {o.policy.policy_id: o.saving for o in result.outcomes}
    assert all(o.applied for o in result.outcomes) and set(got) == set(expected)
    assert all(math.isclose(got[k], expected[k], rel_tol=1e-9, abs_tol=1e-12) for k in got), (got, expected)
    assert 0.0 not in got.values()   # every policy changes its events' cost (the 1-hour cache costs more here)

"""The evaluation reference: independent of the engines it judges, and its joint rules on worked examples.

Prices are the packaged catalog's (docs/pricing.md): gpt-4.1 input $2.00, cached read $0.50,
output $8.00, batch input $1.00, batch output $4.00 per 1M; gpt-4o input $2.50, output $10.00;
gpt-4o-mini input $0.15, output $0.60, batch $0.075 / $0.30.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from netra.evals.reference import JointReplay, PolicySpec, ReferenceCatalog, Window, span_days
from netra.evals.reference.cache_replay import KeyReplay, common_prefix
from netra.evals.reference.cache_rules import OPENAI_RULE
from netra.workloads.catalog import PACKAGED_CATALOG

REFERENCE = Path(__file__).resolve().parents[2] / "netra" / "evals" / "reference"
FORBIDDEN = ("netra.tools", "netra.workloads.pricing", "netra.workloads.caching", "netra.workloads.synthetic")


def imported(path: Path) -> list[str]:
    """Return every module a source file imports (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    return names + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.py")), ids=lambda p: p.name)
def test_the_reference_imports_nothing_of_the_engines_it_judges(path):
    netra = [name for name in imported(path) if name.split(".")[0] == "netra"]
    assert not [n for n in netra if n.startswith(FORBIDDEN)], f"{path.name} imports an engine: {netra}"
    assert all(n.startswith("netra.evals.reference") for n in netra), f"{path.name} imports {netra}"


@pytest.fixture(scope="module")
def reference(catalog) -> ReferenceCatalog:
    return ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], catalog.resolve)


def event(rid: str, ts: int, model: str = "gpt-4.1", feature: str = "f", **columns) -> dict:
    """Return a reference event: 1,000 input and 100 output tokens unless given."""
    return {"request_id": rid, "timestamp": ts, "feature": feature, "model": model, "provider": "openai",
            "input_tokens": 1000, "output_tokens": 100, "status": "ok", **columns}


def credits(reference: ReferenceCatalog, events: list[dict], *policies: PolicySpec) -> dict[str, float]:
    """Return each applied policy's window credit by kind, rounded to 1e-9."""
    return {c.policy.kind: round(c.window_saving_usd, 9) for c in JointReplay(events, reference).run(policies)}


def test_route_then_batch_credits_the_route_at_standard_and_the_batch_at_the_targets_batch_prices(reference):
    # gpt-4o $0.0035 -> gpt-4o-mini $0.00021 (route $0.00329) -> mini batch $0.000105 (batch $0.000105)
    one = [event("a", 0, model="gpt-4o")]
    got = credits(reference, one, PolicySpec.of("batch_api", "f", "gpt-4o"),
                  PolicySpec.of("route_model", "f", "gpt-4o", target_model="gpt-4o-mini"))
    assert got == {"route_model": 0.00329, "batch_api": 0.000105}


def test_a_cap_cuts_output_above_it_on_requests_that_set_max_tokens(reference):
    events = [event("a", 0, output_tokens=900, max_tokens=1000), event("b", 1, output_tokens=900),
              event("c", 2, output_tokens=100, max_tokens=1000)]
    # only `a` sets max_tokens and writes past 500: 400 output tokens at $8/1M
    assert credits(reference, events, PolicySpec.of("cap_max_tokens", "f", "gpt-4.1", cap=500)) == {
        "cap_max_tokens": 0.0032}


def test_a_retry_budget_drops_billed_retried_failures_past_the_budget(reference):
    failed = {"status": "error", "prompt_hash": 7}
    events = [event("a", 0, output_tokens=50, **failed), event("b", 1, output_tokens=50, **failed),
              event("c", 2, output_tokens=0, **failed), event("d", 3, prompt_hash=7)]
    # a and b are billed retried failures ($0.0024 each), c was refused ($0); a budget of 1 keeps a
    assert credits(reference, events, PolicySpec.of("retry_budget", "f", "gpt-4.1", max_retries=1)) == {
        "retry_budget": 0.0024}


GIVEN = [PolicySpec.of("batch_api", "f", "gpt-4.1"), PolicySpec.of("batch_api", "f", "gpt-4.1"),
         PolicySpec.of("route_model", "f", "gpt-4.1", target_model="no-such-model"),
         PolicySpec.of("cap_max_tokens", "f", "gpt-4.1"), PolicySpec.of("batch_api", "g", "gpt-4.1")]


def test_one_policy_per_key_applies_and_refused_ones_say_why(reference):
    run = JointReplay([event("a", 0)], reference).run(GIVEN)
    assert [(c.policy.kind, c.applied, c.why) for c in run] == [
        ("route_model", False, "target 'no-such-model' is not in the catalog"),
        ("cap_max_tokens", False, "parameter 'cap' is missing"), ("batch_api", True, ""),
        ("batch_api", False, "no events of its pair in scope")]


def test_joint_credits_add_up_to_the_cost_as_logged_minus_the_cost_under_all(reference):
    events = [event(str(i), i * 1000, output_tokens=2000, max_tokens=4000) for i in range(5)]
    policies = [PolicySpec.of("cap_max_tokens", "f", "gpt-4.1", cap=300), PolicySpec.of("batch_api", "f", "gpt-4.1")]
    changed = [dict(e, output_tokens=300, is_batch=1) for e in events]
    total = sum(reference.cost(e) for e in events) - sum(reference.cost(e) for e in changed)
    assert sum(c.window_saving_usd for c in JointReplay(events, reference).run(policies)) == pytest.approx(total)


def test_the_cache_step_reads_what_the_replay_reads(reference):
    prompt = list(range(1, 9))  # 8 blocks of 256 = 2,048 tokens, shared
    events = [event(str(i), i * 60_000, input_tokens=2048, prefix_hashes=prompt, block_size=256) for i in range(3)]
    # the 2nd and 3rd read 2,048 tokens each at $0.50 instead of $2.00 per 1M
    assert credits(reference, events, PolicySpec.of("prompt_cache", "f", "gpt-4.1", ttl_option="5m")) == {
        "prompt_cache": 0.006144}


def test_the_trie_finds_the_longest_prefix_shared_with_any_other_event():
    prompts = [[1, 2, 3, 4], [1, 2, 9], [1, 2, 3, 7], [5], [1, 2, 3, 4]]
    replay = KeyReplay([{"request_id": str(i), "timestamp": i, "prefix_hashes": p, "block_size": 256}
                        for i, p in enumerate(prompts)], OPENAI_RULE, "5m")
    brute = [max(common_prefix(p, q) for j, q in enumerate(prompts) if j != i) for i, p in enumerate(prompts)]
    assert [replay.cacheable_depth(i) for i in range(len(prompts))] == brute == [4, 2, 3, 0, 4]


def test_a_look_back_ends_a_millisecond_after_the_newest_event_and_spans_its_events_whatever_the_filters():
    events = [event("a", 0, user_id="u1"), event("b", 86_400_000, user_id="u2"), event("c", 2 * 86_400_000)]
    window = Window.last_days(events, 1.0)
    assert (window.start_ms, window.end_ms) == (86_400_001, 2 * 86_400_000 + 1)
    assert [e["request_id"] for e in window.select(events)] == ["c"]
    assert [e["request_id"] for e in Window(user_id="u2").select(events)] == ["b"]
    assert span_days(events[:1]) == pytest.approx(1 / 24) and Window(user_id="u2").span(events) == 2.0

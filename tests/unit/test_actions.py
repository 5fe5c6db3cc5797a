"""Action plans follow the provider: each step names its source, a route claims quality only on evidence."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from netra.nodes.actions import action_for, actions_to_meet_goals
from netra.report.cite import ungrounded
from netra.workloads import playbooks as pb


def policy(kind: str, model: str, **params: Any) -> dict[str, Any]:
    """A chosen policy as the state holds it."""
    return {"policy_id": f"{kind}:f:{model}", "kind": kind, "feature": "f", "model": model, "params": params,
            "monthly_saving_usd": 1.0, "quality_risk": params.pop("risk", "low")}


CLAUDE = "claude-sonnet-4-5"
# (policy, provider family, what its steps must say, the source they follow)
PLANS = [
    (policy("prompt_cache", CLAUDE, provider="anthropic", ttl_s=3600), "anthropic",
     ['`"cache_control": {"type": "ephemeral", "ttl": "1h"}`', "tools, system, then messages"], pb.ANTHROPIC_CACHE),
    (policy("prompt_cache", CLAUDE, provider="anthropic", ttl_option="5m", ttl_s=300), "anthropic",
     ['`"cache_control": {"type": "ephemeral", "ttl": "5m"}`'], pb.ANTHROPIC_CACHE),
    (policy("prompt_cache", "gpt-4o", provider="openai", ttl_option="5m"), "openai",
     ["byte-identical", "`prompt_cache_key`", "`usage.prompt_tokens_details.cached_tokens`"], pb.OPENAI_CACHE),
    (policy("prompt_cache", "gemini-2.5-pro"), "gemini",
     ["Implicit caching is on by default", "`cachedContents`", "storage per token-hour"], pb.GEMINI_CACHE),
    (policy("batch_api", "gpt-4o"), "openai", ["JSONL", "purpose `batch`", "`completion_window` `24h`",
                                              "`custom_id`"], pb.OPENAI_BATCH),
    (policy("batch_api", CLAUDE), "anthropic", ["one Message Batch", "`processing_status` is `ended`"],
     pb.ANTHROPIC_BATCH),
    (policy("batch_api", "gemini-2.5-pro"), "vertex_ai", ["`batchPredictionJobs`", "Cloud Storage"], pb.VERTEX_BATCH),
    (policy("batch_api", "gpt-4o"), "azure", ["global batch deployment"], pb.AZURE_BATCH),
    (policy("cap_max_tokens", CLAUDE, cap=512), "anthropic", ["Set `max_tokens` of `f` to `512`"],
     pb.ANTHROPIC_REQUEST),
    (policy("cap_max_tokens", "gpt-4o", cap=512), "azure", ["`max_completion_tokens`"], pb.OPENAI_REQUEST),
    (policy("retry_budget", "gpt-4o"), "mystery", ["exponential backoff"], pb.TOOLS_DOC),
]
IDS = [f"{p['kind']}-{family}-{i}" for i, (p, family, _, _) in enumerate(PLANS)]


@pytest.mark.parametrize(("chosen", "family", "says", "source"), PLANS, ids=IDS)
def test_steps_follow_the_provider_and_name_their_source(chosen, family, says, source):
    action = action_for(1, chosen, family)
    text = "\n".join(action["steps"])
    assert all(part in text for part in says), text
    assert action["sources"] == [source] and all(s.endswith(f"(source: `{source}`)") for s in action["steps"])


@pytest.mark.parametrize(("chosen", "family"), [(p, f) for p, f, _, _ in PLANS], ids=IDS)
def test_steps_hold_no_number_outside_code_spans(chosen, family):
    action = action_for(1, chosen, family)
    assert ungrounded("\n".join(action["steps"] + action["success_criteria"] + [action["title"]]), set()) == []


@pytest.mark.parametrize(("risk", "criterion"), [
    ("low", "quality score of `f` on `gpt-4o-mini` stays within the budget, as measured on both models"),
    ("unknown", "quality is not shown kept yet: switch only once the shadow test scores `gpt-4o-mini` within the "
                "budget of `gpt-4o`"),
    ("medium", "quality is not shown kept yet"),
])
def test_a_route_claims_quality_only_on_measured_evidence(risk, criterion):
    action = action_for(1, policy("route_model", "gpt-4o", target_model="gpt-4o-mini", risk=risk))
    assert criterion in action["success_criteria"][0]


def test_the_node_takes_each_policys_provider_from_the_catalog(catalog):
    chosen = [policy("batch_api", CLAUDE), policy("batch_api", "gpt-4o"), policy("batch_api", "mystery-model")]
    actions = actions_to_meet_goals(SimpleNamespace(catalog=catalog), {"recommendations": chosen})["actions"]
    assert [(a["priority"], a["provider"]) for a in actions] == [(1, "anthropic"), (2, "openai"), (3, "")]
    assert re.search(r"Message Batch", actions[0]["steps"][0]) and "JSONL" in actions[1]["steps"][0]

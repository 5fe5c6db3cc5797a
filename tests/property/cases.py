"""Hand-written workloads that every property test also runs (`@example`), one edge each.

Expected outcomes, read off docs/caching.md and docs/pricing.md, are in the comments; the
tests compare engine and reference, and `tests/property/test_reference_cases.py` pins the
reference itself to these outcomes.
"""

from __future__ import annotations

from tests.property.workloads import HAIKU_3_5, PROVIDERS, chain_hashes

PROMPT = [1, 2, 3, 4]  # four blocks shared by the events of a case


def event(request_id: str, timestamp: int, model: str, blocks: list[int], block_size: int, **logged) -> dict:
    """Return one event: its prompt's chained hashes, 100 prompt tokens past them, 100 output."""
    base = {"timestamp": timestamp, "request_id": request_id, "model": model, "provider": PROVIDERS[model],
            "feature": "chat", "prefix_hashes": chain_hashes(blocks), "block_size": block_size,
            "input_tokens": len(blocks) * block_size + 100, "output_tokens": 100}
    return {**base, **logged}


def pair(model: str, gap_ms: int, block_size: int = 512) -> list[dict]:
    """Return two requests with the same prompt, `gap_ms` apart."""
    return [event("a", 0, model, PROMPT, block_size), event("b", gap_ms, model, PROMPT, block_size)]


# 2,048 shared tokens, 300,000 ms apart: the 5-minute entry has expired (a miss, b writes
# again); under 1 h, b reads 2,048
TTL_EXPIRED = pair("claude-sonnet-4-5", 300_000)
# 299,999 ms apart: b reads 2,048 tokens under both TTLs
TTL_FRESH = pair("claude-sonnet-4-5", 299_999)
# a and b at the same millisecond never hit each other (both write 1,536); c reads 1,536
# (OpenAI keeps its automatic 5 minutes under either TTL choice)
SAME_MS = [event("b", 1_000, "gpt-4o", [1, 2, 3], 512), event("a", 1_000, "gpt-4o", [1, 2, 3], 512),
           event("c", 2_000, "gpt-4o", [1, 2, 3], 512)]
# haiku-4-5 caches from 4,096 tokens: 3 x 1,024 shared is ineligible; gpt-4o shares one
# 1,000-token block (< 1,024): ineligible; gpt-4.1 shares 2,000 tokens: the second reads 1,920
# (128-token steps) and writes 80
BELOW_MINIMUM = [event("h1", 0, "claude-haiku-4-5", [1, 2, 3], 1024),
                 event("h2", 10, "claude-haiku-4-5", [1, 2, 3], 1024),
                 event("o1", 0, "gpt-4o", [1, 2], 1000), event("o2", 10, "gpt-4o", [1, 5], 1000),
                 event("g1", 0, "gpt-4.1", [1, 2], 1000), event("g2", 10, "gpt-4.1", [1, 2], 1000)]
# the same prompt to two models: one cache per (provider, model), so no event shares anything
CROSS_MODEL = [event("c1", 0, "claude-sonnet-4-5", PROMPT, 512), event("o1", 1_000, "gpt-4o", PROMPT, 512),
               event("c2", 2_000, "claude-sonnet-4-6", PROMPT, 512)]
# f0 failed without output: not billed, so it neither counts for c(r) nor touches the cache
# (ok2 shares 5 blocks with f0 but 4 with ok1: c = 4, it reads 2,048); f1 failed after 50
# output tokens: billed, it reads what ok1 wrote
FAILED = [event("ok1", 0, "claude-sonnet-4-5", PROMPT, 512),
          event("f0", 1_000, "claude-sonnet-4-5", PROMPT + [9], 512, status="error", output_tokens=0),
          event("f1", 2_000, "claude-sonnet-4-5", PROMPT, 512, status="error", output_tokens=50),
          event("ok2", 3_000, "claude-sonnet-4-5", PROMPT + [9, 10], 512)]
# prompts past the long-context tiers: gpt-5.4 above 272k (its `_above_272k` prices), gemini
# 2.5 Pro above 200k (priced, not replayed: no published TTL), one exactly at 272,000 (base)
LONG_CONTEXT = [event("l1", 0, "gpt-5.4", PROMPT, 1024, input_tokens=300_000),
                event("l2", 60_000, "gpt-5.4", PROMPT, 1024, input_tokens=300_000, service_tier="flex"),
                event("l3", 90_000, "gpt-5.4", PROMPT, 1024, input_tokens=272_000, is_batch=1),
                event("g1", 0, "gemini-2.5-pro", PROMPT, 1024, input_tokens=250_000, service_tier="priority"),
                event("g2", 10, "gemini-2.5-pro", PROMPT, 1024, input_tokens=250_000)]
# OpenAI under the '1h' choice still expires after 5 minutes: b misses under both choices
OPENAI_EXPIRED = pair("gpt-4o", 300_000)
# the catalog decides: azure/eu/gpt-4o offers no prompt caching (not replayed); Haiku 3.5 (a
# Bedrock key logged as anthropic) caches from 2,048; azure/eu/gpt-5.6 has a write price, but
# OpenAI-style writes are billed as input
CATALOG_RULES = [event("n1", 0, "azure/eu/gpt-4o", PROMPT, 512), event("n2", 10, "azure/eu/gpt-4o", PROMPT, 512),
                 event("k1", 0, HAIKU_3_5, PROMPT, 512), event("k2", 10, HAIKU_3_5, PROMPT, 512),
                 event("k3", 20, HAIKU_3_5, [1, 2, 3, 7], 512),
                 event("z1", 0, "azure/eu/gpt-5.6", PROMPT, 512), event("z2", 10, "azure/eu/gpt-5.6", PROMPT, 512)]
# a lone event shares nothing (c = 0); an event without prefix hashes is not in the replay at
# all (TraceLab and Azure traces have none) while the two others hit as in TTL_FRESH
LONE = [event("r000", 0, "claude-sonnet-4-5", [1], 128)]
UNHASHED = [{**event("u", 0, "gpt-4o", [], 512), "input_tokens": 5_000}, *pair("claude-sonnet-4-5", 299_999)]

CASES = {"ttl_expired": TTL_EXPIRED, "ttl_fresh": TTL_FRESH, "same_ms": SAME_MS, "below_minimum": BELOW_MINIMUM,
         "cross_model": CROSS_MODEL, "failed": FAILED, "long_context": LONG_CONTEXT,
         "openai_expired": OPENAI_EXPIRED, "catalog_rules": CATALOG_RULES, "lone": LONE, "unhashed": UNHASHED}

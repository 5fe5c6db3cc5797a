"""Small random workloads for the property tests: events as dicts, timestamps in milliseconds.

    workload = data.draw(workloads())     # 1-40 events over a Claude, an OpenAI and maybe a third model

A prompt is a few blocks drawn from a small alphabet, maybe followed by blocks of its own,
hashed as a chain (block k's hash covers blocks 1..k), so events share prefixes of many depths
and the prefix trie branches at many of them. Timestamps are built from gaps that fall on, just under and just over
the 5-minute and 1-hour TTLs, and on 0 (ties). Block sizes make prefixes straddle the
minimums (1,024, 2,048, 4,096 tokens); some prompts pass the 128k/200k/272k price tiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Callable

from hypothesis import strategies as st

from tests.support.factories import T0

HAIKU_3_5 = "anthropic.claude-3-5-haiku-20241022-v1:0"  # a Bedrock key, logged as anthropic
# logged provider of each model the workloads use (Claude sizes: 1,024, 4,096, 2,048, 1,024,
# 2,048); azure/eu/gpt-4o says it offers no prompt caching, azure/eu/gpt-5.6 has a write price
PROVIDERS = {"claude-sonnet-4-5": "anthropic", "claude-haiku-4-5": "anthropic",
             "claude-sonnet-4-6": "anthropic", "claude-opus-4-8": "anthropic", HAIKU_3_5: "anthropic",
             "gpt-4o": "openai", "gpt-5": "openai", "gpt-5.4": "openai", "gpt-4.1": "openai",
             "azure/gpt-4o": "azure", "azure/eu/gpt-4o": "azure", "azure/eu/gpt-5.6": "azure",
             "gemini-2.5-pro": "gemini"}
CLAUDE = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-8")
OPENAI = ("gpt-4o", "gpt-5", "gpt-5.4", "gpt-4.1")
THIRD = ("gemini-2.5-pro", "gpt-5.4", "claude-sonnet-4-5", HAIKU_3_5, "azure/gpt-4o", "azure/eu/gpt-4o",
         "azure/eu/gpt-5.6")
BLOCK_SIZES = (128, 256, 512, 1000, 1024, 2048)
TTL_GAPS_MS = (0, 0, 1, 299_999, 300_000, 300_001, 3_599_999, 3_600_000, 3_600_001)
FEATURES = ("chat", "search")
STATUSES = ("ok", "ok", "ok", "error")
SERVICE_TIERS = ("", "", "", "default", "priority", "flex", "batch")
# tokens a prompt may have beyond its hashed blocks: some cross the 128k, 200k and 272k tiers
LONG_CONTEXT = (128_500, 200_500, 240_000, 272_500, 300_000)
MAX_SHARED_BLOCKS = 10  # the longest part of a prompt other prompts may share
# the strategies every event draws from, made once (a strategy made per draw is validated anew each time)
BEYOND_BLOCKS = st.integers(0, 3_000) | st.sampled_from(LONG_CONTEXT)
OUTPUT_TOKENS = st.sampled_from((0, 0, 1, 500, 2_000))
STATUS, IS_BATCH = st.sampled_from(STATUSES), st.sampled_from((0, 0, 0, 1))
SERVICE_TIER, FEATURE = st.sampled_from(SERVICE_TIERS), st.sampled_from(FEATURES)


def chain_hashes(segments: list[int]) -> list[int]:
    """Return chained block hashes: block k's hash covers segments 1..k (below 2**61)."""
    hashes, h = [], 17
    for segment in segments:
        h = (h * 1_000_003 + segment + 1) % (1 << 61)
        hashes.append(h)
    return hashes


def record(event: dict) -> dict:
    """Return the store record of a workload event: its millisecond timestamp as a datetime."""
    return {**event, "timestamp": T0 + timedelta(milliseconds=event["timestamp"])}


@dataclass
class WorkloadDraw:
    """One workload being drawn: its models, their block sizes and its prompts' alphabet."""

    draw: Callable
    models: list[str]
    block_size: dict[str, int]
    alphabet: int  # how many different blocks may follow a prefix (1: all prompts one chain)

    @cached_property
    def model(self) -> st.SearchStrategy[str]:
        """The strategy of an event's model, made once for the workload."""
        return st.sampled_from(self.models)

    def prompt(self, i: int) -> list[int]:
        """Draw a prompt: blocks from a small alphabet (prefixes shared at many depths, a bushy
        trie), then up to two blocks of event `i`'s own."""
        depth = self.draw(st.integers(1, MAX_SHARED_BLOCKS))
        shared = [self.draw(st.integers(0, self.alphabet - 1)) for _ in range(depth)]
        own = [10_000 + i * 10 + j for j in range(self.draw(st.integers(0, 2)))]
        return chain_hashes(shared + own)

    def prompt_tokens(self, blocks: int, block_size: int) -> int:
        """Draw the prompt size: its blocks and more, sometimes past the long-context tiers; or
        ending inside its last block (a partial block, as in Mooncake traces)."""
        if self.draw(st.booleans()):
            return (blocks - 1) * block_size + self.draw(st.integers(1, block_size))
        return blocks * block_size + self.draw(BEYOND_BLOCKS)

    def usage(self, input_tokens: int) -> dict:
        """Draw the logged cache and output counts of one request."""
        cached = self.draw(st.integers(0, input_tokens))
        writes = self.draw(st.integers(0, input_tokens - cached))
        output = self.draw(OUTPUT_TOKENS)
        return {"cached_input_tokens": cached, "cache_write_tokens": writes, "output_tokens": output,
                "cache_write_1h_tokens": self.draw(st.integers(0, writes + 10)),
                "reasoning_tokens": self.draw(st.integers(0, output + 10))}

    def mode(self) -> dict:
        """Draw how the request was served and whether it succeeded."""
        return {"status": self.draw(STATUS), "is_batch": self.draw(IS_BATCH),
                "service_tier": self.draw(SERVICE_TIER), "feature": self.draw(FEATURE)}

    def event(self, i: int, timestamp: int, request_id: str) -> dict:
        """Draw event `i` of the workload."""
        model = self.draw(self.model)
        hashes, block_size = self.prompt(i), self.block_size[model]
        input_tokens = self.prompt_tokens(len(hashes), block_size)
        return {"timestamp": timestamp, "request_id": request_id, "model": model,
                "provider": PROVIDERS[model], "prefix_hashes": hashes, "block_size": block_size,
                "input_tokens": input_tokens, **self.usage(input_tokens), **self.mode()}


def timestamps(draw: Callable, n: int) -> list[int]:
    """Draw `n` ascending timestamps (ms) whose gaps include ties and the TTL edges."""
    gap = st.sampled_from(TTL_GAPS_MS) | st.integers(0, 60_000) | st.integers(0, 4_000_000)
    gaps = draw(st.lists(gap, min_size=n, max_size=n))
    return [sum(gaps[: i + 1]) for i in range(n)]


@st.composite
def workloads(draw: Callable) -> list[dict]:
    """Draw a workload of 1-40 events over a Claude, an OpenAI and maybe a third model."""
    models = [draw(st.sampled_from(CLAUDE)), draw(st.sampled_from(OPENAI))]
    models += draw(st.lists(st.sampled_from(THIRD), max_size=1))
    block_sizes = {m: draw(st.sampled_from(BLOCK_SIZES)) for m in models}
    drawing = WorkloadDraw(draw, models, block_sizes, draw(st.sampled_from((1, 1, 2, 3))))
    n = draw(st.integers(1, 40))
    ids = draw(st.permutations([f"r{i:03d}" for i in range(n)]))
    return [drawing.event(i, ts, ids[i]) for i, ts in enumerate(timestamps(draw, n))]

"""The synthetic workload, as tables: features, scenario mixes, model speeds and fixes.

`docs/scenarios.md` is the contract these tables implement: which features each scenario
holds in what proportion, how each feature's requests look, and which inefficiency a
planted feature carries (with the fix its ground truth assumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
START_MS = int(START.timestamp() * 1000)
BLOCK_SIZE = 256
USERS = tuple(f"u{i:02d}" for i in range(1, 13))
ZIPF_EXPONENT = 1.1
RATE_LIMIT_SHARE = 0.003
QUALITY_SAMPLE = 0.05
TIMEOUT_MS = 30_000
RETRY_GAP_MS = (1_000, 5_000)
SESSION_MS = 30 * 60_000
THREAD_MS = 10 * 60_000
OVERSIZED_CAP = 512
ROUTE_TARGET = "gpt-4o-mini"

FINISH = ("stop", "length", "error")
STATUS = ("ok", "error")
ERRORS = ("", "timeout", "rate_limit")

# model -> (base time to first token in ms, ms per output token)
MODEL_SPEED: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (250.0, 7.0),
    "gpt-4o": (350.0, 11.0),
    "gpt-4.1": (400.0, 12.0),
    "claude-sonnet-4-5": (550.0, 15.0),
}
PREFILL_MS_PER_TOKEN = 0.02


@dataclass(frozen=True)
class Length:
    """How a token length is drawn: `kind` names a sampler, `args` are its parameters.

    Kinds: `azure` (service, column) inverse-CDF over the Azure trace quantiles;
    `uniform` (low, high) integers; `lognormal` (median, sigma, low, high) clipped.
    """

    kind: str
    args: tuple


@dataclass(frozen=True)
class Retry:
    """Retry storm: `share` of logical requests fail `low`..`high` times before succeeding."""

    share: float = 0.0
    low: int = 0
    high: int = 0


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the synthetic product: its model, request shape and behaviour.

    `prefix_tokens` is a shared system prompt prepended to the sampled input; `prompts`
    holds the shares of the distinct shared prompts (empty: every prefix is unique).
    `cache` is `read` (reads after the first occurrence), `write_read` (a write on the
    first occurrence, reads after) or empty (no cache use). `kind` names the planted
    inefficiency of an unhealthy feature.
    """

    model: str
    input: Length
    output: Length
    max_tokens: int
    prefix_tokens: int = 0
    prompts: tuple[float, ...] = ()
    cache: str = ""
    streamed: bool = True
    interactive: bool = True
    hours: tuple[int, int] | None = None
    runaway: float = 0.0
    retry: Retry = field(default_factory=Retry)
    kind: str = ""

    @property
    def healthy(self) -> bool:
        """Return whether the feature carries no planted inefficiency."""
        return not self.kind


_CONV = (Length("azure", ("conv", "ContextTokens")), Length("azure", ("conv", "GeneratedTokens")))
_CODE = (Length("azure", ("code", "ContextTokens")), Length("azure", ("code", "GeneratedTokens")))

FEATURES: dict[str, FeatureSpec] = {
    "chat_assistant": FeatureSpec("gpt-4o-mini", *_CONV, max_tokens=2048, prefix_tokens=1024,
                                  prompts=(1.0,), cache="read"),
    "code_assistant": FeatureSpec("claude-sonnet-4-5", *_CODE, max_tokens=4096, prefix_tokens=2048,
                                  prompts=(1.0,), cache="write_read"),
    "doc_qa": FeatureSpec("gpt-4.1", Length("uniform", (2000, 6000)), Length("uniform", (150, 600)),
                          max_tokens=1536),
    "ticket_classifier": FeatureSpec("gpt-4o", Length("uniform", (150, 700)), Length("uniform", (1, 8)),
                                     max_tokens=16, kind="premium_on_simple"),
    "support_bot": FeatureSpec("claude-sonnet-4-5", Length("uniform", (100, 800)),
                               Length("lognormal", (180, 0.5, 40, 500)), max_tokens=1024,
                               prefix_tokens=3072, prompts=(0.5, 0.3, 0.2), kind="uncached_prefix"),
    "summarizer": FeatureSpec("gpt-4.1", Length("uniform", (1500, 9000)),
                              Length("lognormal", (180, 0.45, 40, 400)), max_tokens=8192,
                              runaway=0.04, kind="oversized_max_tokens"),
    "agent_tools": FeatureSpec("gpt-4.1", Length("uniform", (1500, 4000)), Length("uniform", (80, 400)),
                               max_tokens=1024, retry=Retry(0.35, 2, 5), kind="retry_storm"),
    "nightly_enrichment": FeatureSpec("gpt-4.1", Length("uniform", (800, 3000)),
                                      Length("uniform", (50, 300)), max_tokens=1024, streamed=False,
                                      interactive=False, hours=(1, 5), kind="batchable_offline"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
HEALTHY_SPLIT = {"chat_assistant": 0.5, "code_assistant": 0.3, "doc_qa": 0.2}

# scenario -> {feature or "baseline": share of events}; "baseline" splits as HEALTHY_SPLIT
MIXES: dict[str, dict[str, float]] = {
    "baseline": {"baseline": 1.0},
    "premium_on_simple": {"baseline": 0.7, "ticket_classifier": 0.3},
    "uncached_prefix": {"baseline": 0.7, "support_bot": 0.3},
    "oversized_max_tokens": {"baseline": 0.7, "summarizer": 0.3},
    "retry_storm": {"baseline": 0.7, "agent_tools": 0.3},
    "batchable_offline": {"baseline": 0.7, "nightly_enrichment": 0.3},
    "mixed": {"baseline": 0.45, "ticket_classifier": 0.15, "support_bot": 0.14, "summarizer": 0.08,
              "agent_tools": 0.08, "nightly_enrichment": 0.10},
}
SCENARIOS: tuple[str, ...] = tuple(MIXES)

# planted kind -> the fix its ground-truth saving assumes
FIXES: dict[str, dict] = {
    "premium_on_simple": {"target_model": ROUTE_TARGET},
    "uncached_prefix": {"prompts": 3, "prefix_tokens": 3072},
    "oversized_max_tokens": {"cap": OVERSIZED_CAP},
    "retry_storm": {"max_retries": 1, "backoff": "exponential"},
    "batchable_offline": {"api": "batch"},
}


def scenario_shares(scenario: str) -> dict[str, float]:
    """Return {feature: share of events} of `scenario`, the baseline split out."""
    shares: dict[str, float] = {}
    for name, share in MIXES[scenario].items():
        split = HEALTHY_SPLIT if name == "baseline" else {name: 1.0}
        shares.update({f: shares.get(f, 0.0) + share * s for f, s in split.items()})
    return shares


def prompt_bases() -> dict[str, int]:
    """Return {feature: key of its first shared prompt}; keys are global and distinct."""
    sizes = [len(spec.prompts) for spec in FEATURES.values()]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return dict(zip(FEATURE_NAMES, starts))


PROMPT_BASE = prompt_bases()
PROMPT_COUNT = sum(len(spec.prompts) for spec in FEATURES.values())

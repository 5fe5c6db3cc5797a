"""Planted workloads about the evidence itself: failures with and without usage, missing latency, scores.

All traffic is interactive (users and sessions) over 14 days, 08:00-20:00, without prefix hashes.

| workload | feature | model | shape | the reference says |
|---|---|---|---|---|
| `failed_usage` | `agent_steps` | gpt-4.1 | 100 a day, 1,500-4,000 in / 80-400 out; 30% fail 2-4 times with `timeout` after 20-200 output tokens (billed), retried 1-5 s later | retry budget saves |
| | `search_rewrite` | gpt-4o | 100 a day, 300-900 in / 20-80 out; 30% fail 2-4 times with `rate_limit` and no output (refused: $0), retried | nothing: a refused attempt costs nothing |
| `missing_latency` | `summaries` | gpt-4.1 | 120 a day, 1,500-9,000 in; outputs 100-500 (`stop`) or, 5%, 8,192 (`length`) under `max_tokens` 8,192; no latency or first-token time logged | cap saves |
| | `agent_loop` | gpt-4.1 | 80 a day; 30% fail 2-3 times with `timeout` after 20-200 output tokens (billed); no latency logged | retry budget saves |
| `route_quality` | `faq_answers` | gpt-4o, 10% shadowed on gpt-4o-mini | 140 a day, 200-700 in / 5-40 out; 20% of gpt-4o and every gpt-4o-mini request scored, both around 0.86 | route to gpt-4o-mini saves and keeps quality |
| | `legal_answers` | gpt-4o, 10% shadowed on gpt-4o-mini | the same; gpt-4o-mini scores 0.12 lower | no route: quality drops |
| | `ticket_tags` | gpt-4o | the same, scored on gpt-4o only | a route is unproven: supported only as "shadow-test first" |
"""

from __future__ import annotations

from typing import Any

from netra.evals.planted._planter import Planter
from netra.evals.planted._shapes import Storm

DAYS = 14
SCORE_SD = 0.05  # spread of planted quality scores around their mean
SHADOW_SHARE, PREMIUM_SCORED = 0.1, 0.2  # requests shadowed on gpt-4o-mini; gpt-4o requests scored


def daytime(planter: Planter, per_day: int) -> list[int]:
    """Return `per_day` arrivals a day, 08:00-20:00."""
    return planter.daily(DAYS, 8, 20, per_day)


BILLED_STORM = Storm("agent_steps", "gpt-4.1", 0.3, (2, 4), "timeout", True, (1_500, 4_000), (80, 400), 1024)
REFUSED_STORM = Storm("search_rewrite", "gpt-4o", 0.3, (2, 4), "rate_limit", False, (300, 900), (20, 80), 256)
UNTIMED_STORM = Storm("agent_loop", "gpt-4.1", 0.3, (2, 3), "timeout", True, (1_500, 4_000), (80, 400), 1024,
                      timed=False)
SUMMARY_LIMIT, RUNAWAY_SHARE = 8192, 0.05


def failed_usage(planter: Planter) -> None:
    """Retried failures that were billed beside retried failures that were refused."""
    BILLED_STORM.add(planter, daytime(planter, 100))
    REFUSED_STORM.add(planter, daytime(planter, 100))


def summary(planter: Planter, ms: int) -> None:
    """Add one summary that logs no timings: a natural output, or a runaway to its limit."""
    runaway = planter.rng.random() < RUNAWAY_SHARE
    person = {k: v for k, v in planter.person(ms).items() if k not in ("latency_ms", "ttft_ms")}
    planter.add(ms, "summaries", "gpt-4.1", [], input_tokens=planter.rng.randint(1_500, 9_000),
                max_tokens=SUMMARY_LIMIT, output_tokens=SUMMARY_LIMIT if runaway else planter.rng.randint(100, 500),
                finish_reason="length" if runaway else "stop", **person)


def missing_latency(planter: Planter) -> None:
    """A cap and a retry budget on traffic that logs no latency."""
    for ms in daytime(planter, 120):
        summary(planter, ms)
    UNTIMED_STORM.add(planter, daytime(planter, 80))


# feature -> (mean score on gpt-4o, mean score on gpt-4o-mini or None when it is not shadowed)
ROUTES: dict[str, tuple[float, float | None]] = {"faq_answers": (0.86, 0.86), "legal_answers": (0.86, 0.74),
                                                 "ticket_tags": (0.86, None)}


def scored(planter: Planter, mean: float, share: float) -> dict[str, Any]:
    """Return a quality score around `mean` for `share` of requests (no score for the others)."""
    if planter.rng.random() >= share:
        return {}
    return {"quality_score": min(max(planter.rng.gauss(mean, SCORE_SD), 0.0), 1.0)}


def answer(planter: Planter, ms: int, feature: str, means: tuple[float, float | None]) -> None:
    """Add one short answer: on gpt-4o (a fifth scored), or shadowed on gpt-4o-mini (every one scored)."""
    premium, small = means
    if small is not None and planter.rng.random() < SHADOW_SHARE:
        model, quality = "gpt-4o-mini", scored(planter, small, 1.0)
    else:
        model, quality = "gpt-4o", scored(planter, premium, PREMIUM_SCORED)
    planter.add(ms, feature, model, [], input_tokens=planter.rng.randint(200, 700), max_tokens=64,
                output_tokens=planter.rng.randint(5, 40), **quality, **planter.person(ms))


def route_quality(planter: Planter) -> None:
    """Short answers on gpt-4o, some shadowed on gpt-4o-mini with the team's scores on both."""
    for feature, means in ROUTES.items():
        for ms in daytime(planter, 140):
            answer(planter, ms, feature, means)

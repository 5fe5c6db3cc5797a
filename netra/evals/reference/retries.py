"""Retried failures, one event at a time (docs/tools.md, `retry_waste_analyzer` and `retry_budget`).

    over = beyond_budget(events, max_retries=1)   # request ids of billed retried failures past the budget

The attempts of one prompt are the events of one (feature, model, prompt_hash) with a
`prompt_hash` other than 0, in (timestamp, request_id) order. A retried failure is an attempt
whose `status` is not `ok` and that is not the last attempt of its prompt. Only billed ones cost
money (docs/pricing.md, "Failed requests"); a budget keeps the first `max_retries` billed retried
failures of each prompt and drops the rest. Refused attempts cost nothing and use no budget.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Sequence

from netra.evals.reference.pricing import billed
from netra.evals.reference.window import order


def attempts(events: Sequence[Mapping]) -> dict[tuple[str, str, int], list[Mapping]]:
    """Return the attempts of each prompt, (feature, model, prompt_hash) -> events in replay order."""
    prompts: dict[tuple[str, str, int], list[Mapping]] = defaultdict(list)
    for event in sorted(events, key=order):
        if int(event.get("prompt_hash") or 0):
            prompts[(str(event["feature"]), str(event["model"]), int(event["prompt_hash"]))].append(event)
    return prompts


def billed_retried_failures(tries: Sequence[Mapping]) -> list[Mapping]:
    """Return the billed failed attempts of one prompt that were retried (all but its last attempt)."""
    return [e for e in tries[:-1] if e.get("status", "ok") != "ok" and billed(e)]


def retried(events: Sequence[Mapping]) -> list[Mapping]:
    """Return every billed retried failure of the events."""
    return [e for tries in attempts(events).values() for e in billed_retried_failures(tries)]


def beyond_budget(events: Sequence[Mapping], max_retries: int) -> set[str]:
    """Return the request ids of billed retried failures past the first `max_retries` of their prompt."""
    return {str(e["request_id"]) for tries in attempts(events).values()
            for e in billed_retried_failures(tries)[max(max_retries, 0):]}

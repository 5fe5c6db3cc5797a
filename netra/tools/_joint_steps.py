"""The joint simulator's steps: how each policy kind changes the events of its (feature, model).

| kind | change to each event of the pair (as the earlier steps left it) |
|---|---|
| `prompt_cache` | the exact replay of docs/caching.md under `params.ttl_option` ('5m' or '1h'), joined by request_id: an eligible event reads R(r) (`cached_input_tokens`) and writes W(r) (`cache_write_tokens`, and `cache_write_1h_tokens` when the option bills 1-hour writes; an option with no write premium, OpenAI's, leaves them plain input). Other events keep their logged reads and writes. |
| `route_model` | `model` := `params.target_model`; tokens unchanged (the target's prices, tiers and cache prices apply) |
| `cap_max_tokens` | the rule of `max_tokens_optimizer`: an event that sets `max_tokens` and whose output exceeds `params.cap` keeps `cap` output tokens, reasoning clamped to them (generation stops at the cap) |
| `batch_api` | `is_batch` := 1 (batch prices) |
| `retry_budget` | `retry_waste_analyzer`'s retried failures (failed, not the last attempt of their (feature, model, prompt_hash ≠ 0) group, in (timestamp, request_id) order) that are billed: within each group the first `params.max_retries` stay, the ones beyond the budget are never sent (no tokens, so $0). Refused attempts cost nothing and never count. |

A step returns "" once it changed the events, or why the policy cannot apply (before changing
anything).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from netra.tools._cache_replay import CacheReplay
from netra.tools._event_frame import EventFrame, Events
from netra.tools.base import ToolContext
from netra.tools.findings import Policy, PolicyKind
from netra.workloads.caching import CHOICES, Choice
from netra.workloads.pricing import OK, TOKEN_COLUMNS, billed

NO_EVENTS = "no events of this (feature, model) in scope"
UNKNOWN_MODEL = "model not in the price catalog"


class Simulation(Protocol):
    """What a step reads besides the events: the catalog and the prompt-cache replays joined to the events."""

    ctx: ToolContext

    def cache_writes(self, choice: Choice, policy: Policy, rows: np.ndarray) -> CacheWrites:
        """Return the replay's reads and writes of the pair's events under a TTL option."""


@dataclass(frozen=True)
class CacheWrites:
    """The reads and writes the exact replay gives some events (at their positions), and how writes bill."""

    at: np.ndarray
    read: np.ndarray
    write: np.ndarray
    billed_as: np.ndarray  # 'cache_write' | 'cache_write_1h' | 'input' (no write premium)

    @classmethod
    def joined(cls, replay: CacheReplay, frame: EventFrame, policy: Policy, rows: np.ndarray) -> CacheWrites:
        """Join the replay's eligible entries of the policy's pair to its events (`rows`) by request_id."""
        hits = replay.eligible_of(policy.feature, policy.model)
        at, found = frame.positions(rows, replay.request_ids(hits))
        hits = hits[found]
        return cls(at, replay.read_tokens[hits], replay.write_tokens[hits], replay.write_class[hits])

    def apply(self, events: Events) -> None:
        """Give the events their reads and writes: 1-hour writes also in `cache_write_1h_tokens`."""
        events.set("cached_input_tokens", self.at, self.read)
        events.set("cache_write_tokens", self.at, np.where(self.billed_as == "input", 0, self.write))
        events.set("cache_write_1h_tokens", self.at, np.where(self.billed_as == "cache_write_1h", self.write, 0))


Step = Callable[[Simulation, Events, Policy, np.ndarray], str]


def whole(value: Any) -> int | None:
    """Return `value` as an int when it is a whole number (not a bool), else None."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return int(value) if number and float(value).is_integer() else None


def _cache(sim: Simulation, events: Events, policy: Policy, rows: np.ndarray) -> str:
    """Give the pair's eligible events the replay's reads and writes."""
    choice = policy.params.get("ttl_option")
    if choice not in CHOICES:
        return f"params.ttl_option is {choice!r}, not one of {', '.join(CHOICES)}"
    sim.cache_writes(choice, policy, rows).apply(events)
    return ""


def _route(sim: Simulation, events: Events, policy: Policy, rows: np.ndarray) -> str:
    """Send the pair's events to the target model."""
    target = str(policy.params.get("target_model") or "")
    if sim.ctx.catalog.resolve(target) is None:
        return f"target model {target!r} is not in the price catalog"
    events.relabel("model", rows, target)
    return ""


def _cap(sim: Simulation, events: Events, policy: Policy, rows: np.ndarray) -> str:
    """Cut the output of the pair's events that set max_tokens to the cap."""
    cap = whole(policy.params.get("cap"))
    if cap is None or cap <= 0:
        return "params.cap is missing or not a positive whole number"
    over = _over_cap(events, rows, cap)
    events.set("reasoning_tokens", over, np.minimum(events.numbers["reasoning_tokens"][over], cap))
    events.set("output_tokens", over, cap)
    return ""


def _over_cap(events: Events, rows: np.ndarray, cap: int) -> np.ndarray:
    """Return the rows that set max_tokens and whose output exceeds the cap (max_tokens_optimizer's rule)."""
    n = events.numbers
    return rows[(n["max_tokens"][rows] > 0) & (n["output_tokens"][rows] > cap)]


def _batch(sim: Simulation, events: Events, policy: Policy, rows: np.ndarray) -> str:
    """Send the pair's events through the Batch API."""
    events.set("is_batch", rows, 1)
    return ""


def _retries(sim: Simulation, events: Events, policy: Policy, rows: np.ndarray) -> str:
    """Drop the billed retried failures beyond the budget of each attempt group."""
    budget = whole(policy.params.get("max_retries"))
    if budget is None or budget < 0:
        return "params.max_retries is missing or not a whole number >= 0"
    dropped = Attempts(events, rows).beyond(budget)
    for name in TOKEN_COLUMNS:
        events.set(name, dropped, 0)
    return ""


class Attempts:
    """One pair's attempts grouped by prompt_hash, each group in time order, and its retried failures."""

    def __init__(self, events: Events, rows: np.ndarray) -> None:
        hashes = events.numbers["prompt_hash"]
        self.rows = rows[np.argsort(hashes[rows], kind="stable")]  # rows come in time order
        key = hashes[self.rows]
        self.first = np.r_[True, key[1:] != key[:-1]]
        status = events.labels["status"].strings(self.rows)
        failed = (status.astype(str) != OK) & billed(status, events.numbers["output_tokens"][self.rows])
        self.retried = failed & (key != 0) & ~np.r_[self.first[1:], True]  # billed, and not its group's last

    def beyond(self, budget: int) -> np.ndarray:
        """Return the rows of the retried failures after the first `budget` of their group."""
        count = np.cumsum(self.retried)
        start = np.maximum.accumulate(np.where(self.first, np.arange(len(count)), 0))
        rank = count - count[start] + self.retried[start]  # 1 for a group's first retried failure
        return np.sort(self.rows[self.retried & (rank > budget)])


# policy kind -> its step
STEPS: dict[PolicyKind, Step] = {"prompt_cache": _cache, "route_model": _route, "cap_max_tokens": _cap,
                                 "batch_api": _batch, "retry_budget": _retries}

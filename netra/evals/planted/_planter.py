"""What every planted workload is made of: requests as event records, prompts as chained block hashes.

    planter = Planter(seed=5)
    prompt = planter.prompt("digest-system", shared_blocks=12, own_blocks=2)   # 14 chained hashes
    planter.add(planter.at(day=0, hour=9), "weekly_digest", "claude-sonnet-4-5", prompt,
                output_tokens=240, user_id="u01")
    planter.records   # event dicts for `events_from_records`, one per request

A prompt's hashes are chained (block k's hash covers blocks 1..k, docs/caching.md): two prompts
share block k only if they share every block before it. Shared blocks are named by the prompt
they belong to, own blocks by the request, so only the shared part of a prompt repeats.
`input_tokens` is the prompt's blocks × `BLOCK_SIZE` plus any extra unhashed tokens. Every
draw comes from one `random.Random(seed)`: the same seed gives the same events.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday, 00:00 UTC
BLOCK_SIZE = 256
MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
USERS = 12  # planted users u01..u12
SESSION_MS = 30 * MINUTE_MS  # a user's requests of one half hour share a session
RETRY_GAP_MS = (1_000, 5_000)  # a failed attempt is retried 1-5 s later
# the provider each planted model is logged with
PROVIDERS = {"gpt-4o": "openai", "gpt-4o-mini": "openai", "gpt-4.1": "openai", "claude-sonnet-4-5": "anthropic",
             "claude-haiku-4-5": "anthropic", "gemini-2.5-pro": "vertex_ai-language-models"}


def chained(previous: int, content: str) -> int:
    """Return the hash of a block that follows a prefix whose hash is `previous` (63 bits)."""
    digest = hashlib.blake2b(f"{previous}:{content}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class Planter:
    """The records of one planted workload, built request by request from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.seed, self.rng = seed, random.Random(seed)
        self.records: list[dict[str, Any]] = []

    def at(self, day: int = 0, hour: float = 0.0, ms: int = 0) -> int:
        """Return milliseconds after `START` of a day, an hour of it and an offset."""
        return day * DAY_MS + round(hour * HOUR_MS) + ms

    def prompt(self, shared: str | None, shared_blocks: int, own_blocks: int) -> list[int]:
        """Return a prompt's chained hashes: `shared_blocks` named by `shared`, then blocks of its own."""
        own = f"own-{self.seed}-{len(self.records)}-{self.rng.random()}"
        contents = [f"{shared}#{k}" for k in range(shared_blocks)] + [f"{own}#{k}" for k in range(own_blocks)]
        hashes, previous = [], 0
        for content in contents:
            previous = chained(previous, content)
            hashes.append(previous)
        return hashes

    def prompt_hash(self) -> int:
        """Return a new prompt hash (the attempts of one request share it)."""
        return self.rng.getrandbits(63) or 1

    def add(self, ms: int, feature: str, model: str, prompt: list[int], **columns: Any) -> dict[str, Any]:
        """Add one request at `ms` after `START`; its prompt sets `prefix_hashes` and the hashed input."""
        record = {"request_id": f"req-{self.seed}-{len(self.records):06d}", "feature": feature, "model": model,
                  "provider": PROVIDERS[model], "timestamp": START + timedelta(milliseconds=ms),
                  "prefix_hashes": prompt, "block_size": BLOCK_SIZE, "input_tokens": len(prompt) * BLOCK_SIZE,
                  "finish_reason": "stop", "status": "ok", **columns}
        self.records.append(record)
        return record

    def spread(self, count: int, start_ms: int, end_ms: int) -> list[int]:
        """Return `count` sorted arrival times drawn uniformly in [start_ms, end_ms)."""
        return sorted(self.rng.randrange(start_ms, end_ms) for _ in range(count))

    def daily(self, days: int, first_hour: float, last_hour: float, per_day: int) -> list[int]:
        """Return `per_day` arrivals a day between two hours of the day, over `days` days."""
        return [t for day in range(days)
                for t in self.spread(per_day, self.at(day, first_hour), self.at(day, last_hour))]

    def gaps(self, count: int, start_ms: int, low_ms: int, high_ms: int) -> list[int]:
        """Return `count` arrivals from `start_ms`, each `low_ms`..`high_ms` after the one before."""
        times, now = [], start_ms
        for _ in range(count):
            now += self.rng.randint(low_ms, high_ms)
            times.append(now)
        return times

    def person(self, ms: int, streamed: bool = True) -> dict[str, Any]:
        """Return the columns of a request a user waits for: user, session and thread, first-token and total time."""
        user = f"u{self.rng.randint(1, USERS):02d}"
        session, ttft = f"ses-{user}-{ms // SESSION_MS}", self.rng.randint(250, 900)
        return {"user_id": user, "session_id": session, "thread_id": session, "ttft_ms": ttft if streamed else 0,
                "latency_ms": ttft + self.rng.randint(500, 4_000)}

    def attempts(self, ms: int, failures: int, failed: dict[str, Any], *request: Any, **columns: Any) -> None:
        """Add a request's `failures` failed attempts (`failed` columns), each retried 1-5 s later, then its success."""
        columns["prompt_hash"] = self.prompt_hash()
        for _ in range(failures):
            self.add(ms, *request, **{**columns, **failed})
            ms += self.rng.randint(*RETRY_GAP_MS)
        self.add(ms, *request, **columns)

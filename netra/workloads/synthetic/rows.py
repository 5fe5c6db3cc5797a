"""The rows of one feature, as numpy columns: arrivals, tokens, outcomes and latencies.

Each step of `FeatureDraw` fills some columns of a `dict` from the feature's spec; a row is one request
(an attempt, for retried requests). Rows come out unsorted; `plan` merges and sorts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from netra.workloads.synthetic import specs
from netra.workloads.synthetic.lengths import sample_lengths
from netra.workloads.synthetic.specs import FeatureSpec
from netra.workloads.synthetic.timeline import arrivals_ms, draw_users

Columns = dict[str, np.ndarray]
_CODES = {"finish": specs.FINISH, "status": specs.STATUS, "error": specs.ERRORS}


def code(column: str, label: str) -> int:
    """Return the code of `label` in the label table of `column` (finish, status, error)."""
    return _CODES[column].index(label)


@dataclass
class FeatureDraw:
    """The rows of one feature being drawn: its columns, spec, row count, random stream and days.

    Each step method fills some columns, in the order of `STEPS` (the random draws depend on it).
    """

    spec: FeatureSpec
    n: int
    rng: np.random.Generator
    days: float
    c: Columns = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """Return the number of logical requests (a retried request spans its attempts)."""
        return len(self.c["first_row"])

    def chains(self) -> None:
        """Group rows into logical requests; a retried request spans its attempts."""
        retry, n, rng = self.spec.retry, self.n, self.rng
        fails = np.where(rng.random(n) < retry.share, rng.integers(retry.low, retry.high, n, endpoint=True), 0)
        sizes = fails + 1
        ends = np.cumsum(sizes)
        sizes = sizes[: int(np.searchsorted(ends, n)) + 1]
        sizes[-1] -= int(sizes.sum()) - n
        self.set_attempts(sizes)

    def set_attempts(self, sizes: np.ndarray) -> None:
        """Number each row's request and attempt from the requests' sizes."""
        c = self.c
        c["request"] = np.repeat(np.arange(len(sizes)), sizes)
        first = np.cumsum(sizes) - sizes
        c["attempt"] = np.arange(int(sizes.sum())) - first[c["request"]]
        c["retried"] = c["attempt"] < (sizes - 1)[c["request"]]
        c["first_row"] = first

    def arrivals(self) -> None:
        """Draw each request's start, then space its attempts 1-5 s apart."""
        c = self.c
        starts = arrivals_ms(self.rng, self.requests, self.days, self.spec.hours)
        gaps = self.rng.integers(*specs.RETRY_GAP_MS, self.n, endpoint=True)
        gaps[c["attempt"] == 0] = 0
        since = np.cumsum(gaps)
        c["ts"] = starts[c["request"]] + since - since[c["first_row"]][c["request"]]
        c["start"] = starts[c["request"]]

    def tokens(self) -> None:
        """Draw input (shared prefix + sampled, one per request) and output tokens."""
        c, spec, n = self.c, self.spec, self.n
        sampled = sample_lengths(self.rng, spec.input, self.requests)[c["request"]]
        c["input_tokens"] = spec.prefix_tokens + sampled
        c["output_tokens"] = sample_lengths(self.rng, spec.output, n)
        c["max_tokens"] = np.full(n, spec.max_tokens, np.int64)
        for name in ("cached_input_tokens", "cache_write_tokens", "reasoning_tokens"):
            c[name] = np.zeros(n, np.int64)

    def who(self) -> None:
        """Draw each request's user, prompt hash and shared prompt (per request, not attempt)."""
        c, rng, prompts = self.c, self.rng, self.spec.prompts
        c["user"] = draw_users(rng, self.requests)[c["request"]]
        c["prompt_hash"] = rng.bit_generator.random_raw(self.requests).astype(np.uint64)[c["request"]]
        shares = np.asarray(prompts or (1.0,))
        choice = rng.choice(len(shares), self.requests, p=shares / shares.sum())[c["request"]]
        base = specs.PROMPT_BASE[specs.FEATURE_NAMES[int(c["feature"][0])]]
        c["prompt"] = np.where(bool(prompts), choice + base, -1).astype(np.int16)

    def latency(self) -> None:
        """Time to first token from the model's base and the prefill; latency adds decoding."""
        c, n = self.c, self.n
        base, per_token = specs.MODEL_SPEED[self.spec.model]
        ttft = base * self.rng.lognormal(0.0, 0.3, n) + c["input_tokens"] * specs.PREFILL_MS_PER_TOKEN
        decode = c["output_tokens"] * per_token * self.rng.lognormal(0.0, 0.15, n)
        c["latency_ms"] = np.rint(ttft + decode).astype(np.int64)
        c["ttft_ms"] = np.maximum(np.rint(ttft), 1).astype(np.int64) * int(self.spec.streamed)

    def outcomes(self) -> None:
        """Set finish, status and error: success, runaways, retried timeouts, rate limits."""
        c = self.c
        c["finish"], c["status"], c["error"] = (np.zeros(self.n, np.int8) for _ in range(3))
        runaway = self.rng.random(self.n) < self.spec.runaway
        c["output_tokens"][runaway] = self.spec.max_tokens
        c["finish"][runaway] = code("finish", "length")
        self.fail(c["retried"], "timeout", specs.TIMEOUT_MS)
        self.rate_limits(self.rng.random(self.n) < (specs.RATE_LIMIT_SHARE if self.spec.healthy else 0.0))

    def fail(self, rows: np.ndarray, error: str, latency_ms: int | np.ndarray) -> None:
        """Mark `rows` as failed with `error`, after `latency_ms`."""
        self.c["finish"][rows] = code("finish", "error")
        self.c["status"][rows] = code("status", "error")
        self.c["error"][rows] = code("error", error)
        self.c["latency_ms"][rows] = latency_ms

    def rate_limits(self, rows: np.ndarray) -> None:
        """Rejected at once: no tokens billed, not streamed, a prompt hash of its own."""
        count = int(rows.sum())
        self.fail(rows, "rate_limit", self.rng.integers(20, 300, count, endpoint=True))
        for name in ("input_tokens", "output_tokens", "ttft_ms"):
            self.c[name][rows] = 0
        self.c["prompt_hash"][rows] = self.rng.bit_generator.random_raw(count).astype(np.uint64)

    def context(self) -> None:
        """Session and thread keys (0: none) from user, feature and the request's start."""
        c, n = self.c, self.n
        user_feature = (c["user"].astype(np.int64) + 1) << 48 | c["feature"].astype(np.int64) << 40
        for name, width in (("session_key", specs.SESSION_MS), ("thread_key", specs.THREAD_MS)):
            c[name] = (user_feature | c["start"] // width) * int(self.spec.interactive)
        scored = (self.rng.random(n) < specs.QUALITY_SAMPLE) & (c["status"] == 0)
        c["quality_score"] = np.where(scored, self.rng.beta(8.0, 2.0, n), np.nan).astype(np.float32)


# the steps after `chains`, in the order they draw from the feature's random stream
STEPS: tuple[Callable[[FeatureDraw], None], ...] = (FeatureDraw.arrivals, FeatureDraw.tokens, FeatureDraw.who,
                                                    FeatureDraw.latency, FeatureDraw.outcomes, FeatureDraw.context)


def feature_rows(feature: int, spec: FeatureSpec, n: int, days: float, rng: np.random.Generator) -> Columns:
    """Return the `n` rows of one feature as columns (unsorted; helper columns included)."""
    draw = FeatureDraw(spec, n, rng, days, {"feature": np.full(n, feature, np.int8)})
    draw.chains()
    for step in STEPS:
        step(draw)
    return draw.c

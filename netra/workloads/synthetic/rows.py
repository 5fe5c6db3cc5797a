"""The rows of one feature, as numpy columns: arrivals, tokens, outcomes and latencies.

Each step fills some columns of a `dict` from the feature's spec; a row is one request
(an attempt, for retried requests). Rows come out unsorted; `plan` merges and sorts them.
"""

from __future__ import annotations

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


def _chains(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator) -> None:
    """Group rows into logical requests; a retried request spans its attempts."""
    retry = spec.retry
    fails = np.where(rng.random(n) < retry.share, rng.integers(retry.low, retry.high, n, endpoint=True), 0)
    sizes = fails + 1
    ends = np.cumsum(sizes)
    sizes = sizes[: int(np.searchsorted(ends, n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    _set_attempts(c, sizes)


def _set_attempts(c: Columns, sizes: np.ndarray) -> None:
    c["request"] = np.repeat(np.arange(len(sizes)), sizes)
    first = np.cumsum(sizes) - sizes
    c["attempt"] = np.arange(int(sizes.sum())) - first[c["request"]]
    c["retried"] = c["attempt"] < (sizes - 1)[c["request"]]
    c["first_row"] = first


def _arrivals(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Draw each request's start, then space its attempts 1-5 s apart."""
    starts = arrivals_ms(rng, len(c["first_row"]), days, spec.hours)
    gaps = rng.integers(*specs.RETRY_GAP_MS, n, endpoint=True)
    gaps[c["attempt"] == 0] = 0
    since = np.cumsum(gaps)
    c["ts"] = starts[c["request"]] + since - since[c["first_row"]][c["request"]]
    c["start"] = starts[c["request"]]


def _tokens(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Draw input (shared prefix + sampled, one per request) and output tokens."""
    sampled = sample_lengths(rng, spec.input, len(c["first_row"]))[c["request"]]
    c["input_tokens"] = spec.prefix_tokens + sampled
    c["output_tokens"] = sample_lengths(rng, spec.output, n)
    c["max_tokens"] = np.full(n, spec.max_tokens, np.int64)
    for name in ("cached_input_tokens", "cache_write_tokens", "reasoning_tokens"):
        c[name] = np.zeros(n, np.int64)


def _who(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Draw each request's user, prompt hash and shared prompt (per request, not attempt)."""
    c["user"] = draw_users(rng, len(c["first_row"]))[c["request"]]
    c["prompt_hash"] = rng.bit_generator.random_raw(len(c["first_row"])).astype(np.uint64)[c["request"]]
    shares = np.asarray(spec.prompts or (1.0,))
    choice = rng.choice(len(shares), len(c["first_row"]), p=shares / shares.sum())[c["request"]]
    base = specs.PROMPT_BASE[specs.FEATURE_NAMES[int(c["feature"][0])]]
    c["prompt"] = np.where(bool(spec.prompts), choice + base, -1).astype(np.int16)


def _latency(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Time to first token from the model's base and the prefill; latency adds decoding."""
    base, per_token = specs.MODEL_SPEED[spec.model]
    ttft = base * rng.lognormal(0.0, 0.3, n) + c["input_tokens"] * specs.PREFILL_MS_PER_TOKEN
    decode = c["output_tokens"] * per_token * rng.lognormal(0.0, 0.15, n)
    c["latency_ms"] = np.rint(ttft + decode).astype(np.int64)
    c["ttft_ms"] = np.maximum(np.rint(ttft), 1).astype(np.int64) * int(spec.streamed)


def _outcomes(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Set finish, status and error: success, runaways, retried timeouts, rate limits."""
    c["finish"], c["status"], c["error"] = (np.zeros(n, np.int8) for _ in range(3))
    runaway = rng.random(n) < spec.runaway
    c["output_tokens"][runaway] = spec.max_tokens
    c["finish"][runaway] = code("finish", "length")
    _fail(c, c["retried"], "timeout")
    c["latency_ms"][c["retried"]] = specs.TIMEOUT_MS
    _rate_limits(c, rng.random(n) < (specs.RATE_LIMIT_SHARE if spec.healthy else 0.0), rng)


def _fail(c: Columns, rows: np.ndarray, error: str) -> None:
    c["finish"][rows] = code("finish", "error")
    c["status"][rows] = code("status", "error")
    c["error"][rows] = code("error", error)


def _rate_limits(c: Columns, rows: np.ndarray, rng: np.random.Generator) -> None:
    """Rejected at once: no tokens billed, not streamed, a prompt hash of its own."""
    _fail(c, rows, "rate_limit")
    for name in ("input_tokens", "output_tokens", "ttft_ms"):
        c[name][rows] = 0
    c["latency_ms"][rows] = rng.integers(20, 300, int(rows.sum()), endpoint=True)
    c["prompt_hash"][rows] = rng.bit_generator.random_raw(int(rows.sum())).astype(np.uint64)


def _context(c: Columns, spec: FeatureSpec, n: int, rng: np.random.Generator, days: float) -> None:
    """Session and thread keys (0: none) from user, feature and the request's start."""
    user_feature = (c["user"].astype(np.int64) + 1) << 48 | c["feature"].astype(np.int64) << 40
    for name, width in (("session_key", specs.SESSION_MS), ("thread_key", specs.THREAD_MS)):
        c[name] = (user_feature | c["start"] // width) * int(spec.interactive)
    scored = (rng.random(n) < specs.QUALITY_SAMPLE) & (c["status"] == 0)
    c["quality_score"] = np.where(scored, rng.beta(8.0, 2.0, n), np.nan).astype(np.float32)


STEPS: tuple[Callable[..., None], ...] = (_arrivals, _tokens, _who, _latency, _outcomes, _context)


def feature_rows(feature: int, spec: FeatureSpec, n: int, days: float, rng: np.random.Generator) -> Columns:
    """Return the `n` rows of one feature as columns (unsorted; helper columns included)."""
    c: Columns = {"feature": np.full(n, feature, np.int8)}
    _chains(c, spec, n, rng)
    for step in STEPS:
        step(c, spec, n, rng, days)
    return c

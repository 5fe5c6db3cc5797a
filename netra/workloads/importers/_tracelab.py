"""TraceLab (uw-syfi/TraceLab) round traces of coding agents (Claude Code, Codex), JSON Lines.

One LLM round a line. Fields (`FIELDS`): `model`; `session_id` -> session_id and
thread_id; `round_id` -> request_id; `turn_id` (Codex: one user turn) -> run_id;
`input_tokens_total` -> input_tokens, which already includes cache reads and writes
(TraceLab's `docs/prompt_cache_accounting.md`: Claude's total = uncached +
cache_creation + cache_read; the example's first round: 2892 + 2163 + 27217 = 32272);
`claude_cache_read_input_tokens`, else `prefix_tokens` (Codex's cached input) ->
cached_input_tokens; `claude_cache_creation_input_tokens` -> cache_write_tokens (Codex
reports none: 0); `output_tokens` (includes reasoning) and `reasoning_output_tokens`.
The trace's `provider` is the agent: it becomes `provider` by `VENDORS`
(`claude` -> `anthropic`, `codex` -> `openai`) and the feature, unless `options.feature`.

Timing from `timing_events`: input events (`user_message`, `tool_result`) arrive, then
the model writes output events (`reasoning`, `text`, `tool_call`). The request starts at
the last input event before the first output event (the agent sends it once every tool
result is in), else at the first event: that is the event's timestamp. `ttft_ms` runs from
the start to the first output event (0 when there is none), `latency_ms` to the last
event. Events are logged when a block is written, so both are upper bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.importers._preset_base import Columns, JsonParser, Preset, json_keys
from netra.workloads.importers._preset_columns import column, drop, iso_timestamps, recode, stamps_ms
from netra.workloads.importers.base import ImportOptions, Rejection

TEXT = ("provider", "model", "session_id", "round_id", "turn_id")
NUMBERS = ("input_tokens_total", "prefix_tokens", "claude_cache_read_input_tokens",
           "claude_cache_creation_input_tokens", "output_tokens", "reasoning_output_tokens")
EVENTS = pa.list_(pa.struct([("event_type", pa.string()), ("timestamp", pa.string())]))
SCHEMA = pa.schema([(n, pa.string()) for n in TEXT] + [(n, pa.float64()) for n in NUMBERS]
                   + [("timing_events", EVENTS)])
# event column -> TraceLab field
FIELDS = {"model": "model", "session_id": "session_id", "thread_id": "session_id", "request_id": "round_id",
          "run_id": "turn_id", "input_tokens": "input_tokens_total",
          "cache_write_tokens": "claude_cache_creation_input_tokens", "output_tokens": "output_tokens",
          "reasoning_tokens": "reasoning_output_tokens"}
CACHE_READ = ("claude_cache_read_input_tokens", "prefix_tokens")
VENDORS = {"claude": "anthropic", "codex": "openai"}
INPUT_EVENTS = ("user_message", "tool_result")
OUTPUT_EVENTS = ("reasoning", "text", "tool_call")
_NONE = np.iinfo(np.int64).max


def accepts(line: str, path: Path) -> bool:
    """Return whether the first line is a JSON object with `input_tokens_total` and a round key."""
    keys = json_keys(line)
    return "input_tokens_total" in keys and bool(keys & {"round_id", "round_index"})


def parser(path: Path, options: ImportOptions) -> JsonParser:
    """Return the JSON Lines parser of the round fields."""
    return JsonParser(SCHEMA)


@dataclass(frozen=True)
class _Events:
    """Every round's timing events, flattened: owning round, epoch ms, and kind masks."""

    rounds: int
    parent: np.ndarray
    ms: np.ndarray
    timed: np.ndarray
    bad: np.ndarray
    kind: pa.Array

    @classmethod
    def of(cls, events: pa.Array) -> _Events:
        """Flatten the rounds' event lists and parse their timestamps."""
        kind, stamps = pc.list_flatten(events).flatten()
        parsed, bad = iso_timestamps(stamps)
        ms = np.append(pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(), 0)
        timed = parsed.is_valid().to_numpy(zero_copy_only=False)
        return cls(len(events), pc.list_parent_indices(events).to_numpy(), ms, timed, bad, kind)

    def of_kind(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Return which timed events are of one of `kinds`."""
        return self.timed & pc.fill_null(pc.is_in(self.kind, pa.array(kinds)), False).to_numpy(zero_copy_only=False)

    def first(self, mask: np.ndarray) -> np.ndarray:
        """Per round, the index of its first event in `mask` (-1 when none)."""
        out, at = np.full(self.rounds, _NONE), np.flatnonzero(mask)
        np.minimum.at(out, self.parent[at], at)
        return np.where(out == _NONE, -1, out)

    def last(self, mask: np.ndarray) -> np.ndarray:
        """Per round, the index of its last event in `mask` (-1 when none)."""
        out, at = np.full(self.rounds, -1), np.flatnonzero(mask)
        np.maximum.at(out, self.parent[at], at)
        return out

    def bad_rounds(self) -> np.ndarray:
        """Return which rounds hold an event whose time could not be read."""
        return np.bincount(self.parent[self.bad], minlength=self.rounds) > 0


def _start(events: _Events, first_output: np.ndarray) -> np.ndarray:
    """Per round, the index of the event the request starts at (-1 for a round without times)."""
    before = np.where(first_output < 0, _NONE, first_output)[events.parent]
    sent = events.last(events.of_kind(INPUT_EVENTS) & (np.arange(len(events.parent)) < before))
    return np.where(sent >= 0, sent, events.first(events.timed))


def _ttft(events: _Events, start: np.ndarray, first_output: np.ndarray) -> np.ndarray:
    """Per round, ms from the start to the first output event (0 when there is none after it)."""
    return np.where((start >= 0) & (first_output > start), events.ms[first_output] - events.ms[start], 0)


def _timing(values: pa.Array) -> tuple[Columns, np.ndarray]:
    """Return timestamp, latency_ms and ttft_ms per round, and which rounds hold a bad time."""
    events = _Events.of(values)
    first_output = events.first(events.of_kind(OUTPUT_EVENTS))
    start = _start(events, first_output)
    begun, end = events.ms[start], events.ms[events.last(events.timed)]
    columns = {"timestamp": stamps_ms(begun, start < 0), "latency_ms": pa.array(np.maximum(end - begun, 0)),
               "ttft_ms": pa.array(_ttft(events, start, first_output))}
    return columns, events.bad_rounds()


def _agent(agent: pa.Array, options: ImportOptions) -> Columns:
    """Return the provider of the agent, and the agent as the feature unless the options name one."""
    columns = {"provider": recode(agent, VENDORS)}
    return columns if options.feature else columns | {"feature": agent}


def transform(table: pa.Table, rows: np.ndarray, options: ImportOptions,
              path: Path) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """Name the round fields after event columns; reject rounds with an unreadable event time."""
    columns = {name: column(table, source, SCHEMA.field(source).type) for name, source in FIELDS.items()}
    columns["cached_input_tokens"] = pc.coalesce(*(column(table, name, pa.float64()) for name in CACHE_READ))
    columns |= _agent(column(table, "provider"), options)
    timing, bad = _timing(column(table, "timing_events", EVENTS))
    return drop(columns | timing, rows, bad, "bad_timestamp", "a timing event's time is not a date and time")


TRACELAB = Preset("tracelab", accepts, parser, transform)

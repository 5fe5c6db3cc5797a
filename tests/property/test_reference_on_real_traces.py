"""Engine and reference on real traces, imported with the project's importers.

The TraceLab round trace (../shared/data) holds real Claude Code and Codex rounds with their
provider cache counts but no prefix hashes, and the Azure traces hold token counts only: on
those the replay has nothing to replay (both sides must say so) and the pricing is compared
event by event. The Mooncake sample (tests/fixtures/presets) carries chained block hashes,
so the replay is compared on it, under a Claude and an OpenAI model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from netra.workloads.importers import ImportOptions, ingest_file
from tests.property.pricing_check import check_pricing, check_stored_costs
from tests.property.replay_check import check_replay

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "presets"
CHOICES = ("5m", "1h")
EVENTS_SQL = """SELECT toUnixTimestamp64Milli(timestamp) AS timestamp, request_id, feature, provider, model,
       status, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
       reasoning_tokens, is_batch, service_tier, prefix_hashes, block_size, cost_usd
FROM workload_events"""


@dataclass(frozen=True)
class Trace:
    """A trace file, its importer preset and the model given to rows that name none."""

    path: Path
    preset: str
    model: str | None = None

    def located(self) -> Path:
        """Return the file; skip without it (fail under CI=true, whose copy has ../shared/data)."""
        if not self.path.exists() and os.environ.get("CI") == "true":
            pytest.fail(f"{self.path} is missing (CI=true: the shared data is required)")
        if not self.path.exists():
            pytest.skip(f"{self.path} is not here; put ../shared/data next to the repo to run this test")
        return self.path

    def imported(self, store, catalog) -> list[dict]:
        """Import the trace into the (empty) store and return its events as stored."""
        ingest_file(store, catalog, self.located(), self.preset, ImportOptions(model=self.model))
        return store.rows(EVENTS_SQL)


TRACELAB = Trace(SHARED / "tracelab_example_sanitized_round_trace.jsonl", "tracelab")
REPLAYED = {"tracelab": TRACELAB,
            "mooncake-claude": Trace(FIXTURES / "mooncake_sample.jsonl", "mooncake", "claude-sonnet-4-5"),
            "mooncake-openai": Trace(FIXTURES / "mooncake_sample.jsonl", "mooncake", "gpt-4o")}
PRICED = {"tracelab": TRACELAB, **{f"azure-{service}-{model}": Trace(SHARED / f"AzureLLMInferenceTrace_{service}.csv",
                                                                      "azure", model)
                                   for service in ("code", "conv")
                                   for model in ("gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-pro", "gpt-5.4")}}


@pytest.mark.parametrize("trace", list(REPLAYED.values()), ids=list(REPLAYED))
def test_engine_replays_a_real_trace_as_the_reference(ctx, reference_catalog, trace):
    events = trace.imported(ctx.store, ctx.catalog)
    for choice in CHOICES:
        check_replay(ctx, reference_catalog, events, choice)


@pytest.mark.parametrize("trace", list(PRICED.values()), ids=list(PRICED))
def test_a_real_trace_is_priced_as_the_reference(store, catalog, reference_catalog, trace):
    events = trace.imported(store, catalog)
    check_pricing(catalog, reference_catalog, events)
    check_stored_costs(reference_catalog, events)

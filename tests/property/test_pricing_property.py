"""`price_events` prices every event as the reference does, on the packaged catalog and on
synthetic catalogs whose rows hold random subsets of the mode and tier keys (the lookup order)."""

from __future__ import annotations

from typing import Callable

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netra.workloads.catalog import catalog_from_doc
from tests.property import cases
from tests.property.pricing_check import check_pricing
from netra.evals.reference import ReferenceCatalog
from netra.evals.reference.pricing import FALLBACK, MODE_SUFFIX

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
# a dated name, a provider-prefixed name and an unknown model (costs 0) among them
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-8", "gpt-4o", "gpt-5", "gpt-5.4",
          "gpt-4.1", "gemini-2.5-pro", "openai/gpt-4o", "gpt-4o-2024-08-06", "no-such-model")
SYNTHETIC = ("m-one", "m-two")
# prompt sizes on and around the long-context thresholds
PROMPTS = st.sampled_from((0, 1, 1_000, 128_000, 128_001, 200_000, 200_001, 272_000, 272_001, 400_000))
# how a request was served and whether it was billed ("scale" is a tier with no prices: standard)
SERVING = st.fixed_dictionaries({"is_batch": st.sampled_from((0, 0, 1)),
                                 "service_tier": st.sampled_from(("", "default", "batch", "priority", "flex", "scale")),
                                 "status": st.sampled_from(("ok", "ok", "error", "timeout"))})
CLASSES = ("input", "output", *FALLBACK)
PRICE_KEYS = tuple(c + m + t for c in CLASSES for m in MODE_SUFFIX.values()
                   for t in ("", "_above_128k", "_above_200k", "_above_272k"))


@st.composite
def priced_event(draw: Callable, models: tuple[str, ...]) -> dict:
    """Draw one event; counts may be inconsistent (more reads than prompt) to test the clamps."""
    prompt = draw(PROMPTS | st.integers(0, 500_000))
    counts, output = st.integers(0, prompt + 10), draw(st.integers(0, 5_000))
    tokens = {"input_tokens": prompt, "cached_input_tokens": draw(counts), "cache_write_tokens": draw(counts),
              "cache_write_1h_tokens": draw(counts), "output_tokens": output,
              "reasoning_tokens": draw(st.integers(0, output + 10))}
    return {"model": draw(st.sampled_from(models)), **tokens, **draw(SERVING)}


def price_row(keys: set[str], offset: int) -> dict:
    """Return a synthetic catalog row: a distinct price for each key, input and output always."""
    row = {k: (PRICE_KEYS.index(k) + 1 + offset) * 1e-8 for k in keys | {"input", "output"}}
    return {**row, "provider": "openai", "supports_prompt_caching": True}


@st.composite
def synthetic_docs(draw: Callable) -> dict:
    """Draw a catalog document of two models, each with a random subset of the price keys."""
    keys = st.sets(st.sampled_from(PRICE_KEYS), max_size=30)
    return {"version": "synthetic", "models": {m: price_row(draw(keys), 100 * i) for i, m in enumerate(SYNTHETIC)}}


ALL_CASES = [e for case in cases.CASES.values() for e in case]
# batch reads with a standard read price and a batch input price: the standard read price wins
BATCH_READ = {"version": "synthetic", "models": {"m-one": price_row({"input_batch", "cache_read"}, 0),
                                                 "m-two": price_row({"cache_write_1h_priority_above_200k"}, 100)}}
BATCH_READ_EVENTS = [{"model": "m-one", "input_tokens": 1_000, "cached_input_tokens": 800, "is_batch": 1},
                     {"model": "m-two", "input_tokens": 250_000, "cache_write_tokens": 900,
                      "cache_write_1h_tokens": 900, "service_tier": "priority"}]


@SETTINGS
@given(events=st.lists(priced_event(MODELS), min_size=1, max_size=30))
@example(events=ALL_CASES)
def test_price_events_matches_the_reference_on_the_catalog(catalogs, events):
    check_pricing(catalogs.production, catalogs.reference, events)


@SETTINGS
@given(doc=synthetic_docs(), events=st.lists(priced_event(SYNTHETIC), min_size=1, max_size=30))
@example(doc=BATCH_READ, events=BATCH_READ_EVENTS)
def test_price_events_follows_the_lookup_order(doc, events):
    catalog = catalog_from_doc(doc)
    check_pricing(catalog, ReferenceCatalog(doc["models"], catalog.resolve), events)

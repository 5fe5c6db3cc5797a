"""Quality priors (published benchmark figures with their sources) and the team's observed scores."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netra.workloads.quality import PRIORS_FILE, load_priors, observed, prior, prior_drop, prior_key
from tests.factories import at, load

DOC = json.loads(PRIORS_FILE.read_text())
ENTRIES = [(model, category, entry) for model, cats in DOC["models"].items() for category, entry in cats.items()]
SOURCE_FIELDS = ("publisher", "title", "date", "url")

# logged model name, category -> expected score (None: no published prior, quality unknown)
LOOKUPS = [
    ("gpt-4o", "knowledge", 0.887),
    ("openai/gpt-4o-2024-08-06", "knowledge", 0.887),     # provider prefix and date suffix dropped
    ("GPT-4o-mini", "code", 0.872),                       # case-insensitive
    ("gpt-4o-mini-2024-07-18", "math", 0.702),
    ("gpt-4o-2024-11-20", "knowledge", 0.857),            # its own dated entry wins over gpt-4o's
    ("gpt-4o-2024-11-20", "code", None),
    ("gpt-4.1-mini", "reasoning", 0.65),
    ("anthropic/claude-3-5-sonnet-20241022", "code", 0.937),
    ("claude-3-5-haiku-20241022", "reasoning", 0.416),
    ("claude-3-5-sonnet-20240620", "knowledge", None),    # conflicting published MMLU figures: left out
    ("claude-3-5-sonnet", "code", None),                  # undated: two announcements, ambiguous
    ("gpt-4.1-nano", "code", None),
    ("gpt-4o", "classification", None),                   # no vendor benchmark for this category
    ("mystery-model", "code", None),
]

# source, target, category -> expected drop (None: no comparable pair of priors)
DROPS = [
    ("gpt-4o", "gpt-4o-mini", "knowledge", 0.887 - 0.82),
    ("openai/gpt-4o", "gpt-4o-mini", "code", 0.902 - 0.872),
    ("gpt-4o-mini", "gpt-4o", "knowledge", 0.0),                     # an upgrade drops nothing
    ("gpt-4.1", "gpt-4.1-mini", "code", 0.546 - 0.236),             # both SWE-bench Verified
    ("gpt-4.1", "gpt-4o-mini", "code", None),                        # SWE-bench vs HumanEval: not compared
    ("gpt-4o", "gpt-4.1-nano", "code", None),                        # target has no code prior
    ("claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "math", 0.783 - 0.692),
]


@pytest.mark.parametrize("model,category,entry", ENTRIES)
def test_every_prior_is_the_published_figure_with_its_source(model, category, entry):
    assert category in DOC["categories"]
    assert entry["score"] == pytest.approx(float(entry["figure"].rstrip("%")) / 100, abs=1e-12)
    assert 0 <= entry["score"] <= 1 and entry["benchmark"] and entry["setting"]
    assert all(DOC["sources"][entry["source"]][k] for k in SOURCE_FIELDS)


@pytest.mark.parametrize("model,category,score", LOOKUPS)
def test_prior_matches_names_like_the_price_catalog(model, category, score):
    found = prior(model, category)
    assert (found.score if found else None) == score


def test_a_prior_cites_benchmark_figure_and_publication():
    found = prior("gpt-4o-mini", "knowledge")
    assert (found.model, found.benchmark, found.figure) == ("gpt-4o-mini", "MMLU", "82.0%")
    assert "GPT-4o mini: advancing cost-efficient intelligence" in found.cite() and "2024-07-18" in found.cite()
    assert found.url.startswith("https://openai.com/")


@pytest.mark.parametrize("model,key", [("azure/gpt-4.1", "gpt-4.1"), ("gpt-4.1-2025-04-14", "gpt-4.1"),
                                       ("unknown-1", None)])
def test_prior_key(model, key):
    assert prior_key(model) == key


def test_priors_load_once_as_objects():
    assert load_priors() is load_priors()
    assert {p.category for p in load_priors()["gpt-4o"].values()} == {"knowledge", "code", "reasoning", "math"}


@pytest.mark.parametrize("source,target,category,drop", DROPS)
def test_prior_drop_compares_only_the_same_benchmark(source, target, category, drop):
    found = prior_drop(source, target, category)
    assert (found[0] if found else None) == (None if drop is None else pytest.approx(drop, abs=1e-12))
    assert found is None or "benchmark prior" in found[1]


# ---------------------------------------------------------------- observed scores

ZERO: dict[str, Any] = {"input_tokens": 10, "output_tokens": 1, "status": "ok"}
SCORED = [
    {**ZERO, "timestamp": at(hours=0), "request_id": "a", "feature": "faq", "model": "gpt-4o", "quality_score": 0.5},
    {**ZERO, "timestamp": at(hours=1), "request_id": "b", "feature": "faq", "model": "gpt-4o", "quality_score": 0.75},
    {**ZERO, "timestamp": at(hours=2), "request_id": "c", "feature": "faq", "model": "gpt-4o", "quality_score": None},
    {**ZERO, "timestamp": at(hours=3), "request_id": "d", "feature": "chat", "model": "gpt-4o", "quality_score": 1.0},
    {**ZERO, "timestamp": at(hours=4), "request_id": "e", "feature": "faq", "model": "gpt-4o-mini"},
]


@pytest.mark.parametrize("feature,model,score", [("faq", "gpt-4o", 0.625), ("chat", "gpt-4o", 1.0),
                                                 ("faq", "gpt-4o-mini", None), ("absent", "gpt-4o", None)])
def test_observed_is_the_mean_of_present_scores(store, catalog, feature, model, score):
    load(store, catalog, SCORED)
    assert observed(store, feature, model) == score

"""Quality priors (published benchmark figures with their sources) and the team's observed scores."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netra.workloads.quality import (PRIORS_FILE, Comparison, load_priors, observed, prior, prior_drop, prior_key,
                                     priors_from, quality_evidence)
from tests.support.factories import at, load

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


# ---------------------------------------------------------------- priors need their source

def test_a_prior_without_its_source_is_dropped():
    doc = {"sources": {"s": {"url": "https://example.org/a"}, "bare": {"publisher": "X"}},
           "models": {"m": {"knowledge": {**DOC["models"]["gpt-4o"]["knowledge"], "source": "s"},
                            "code": {**DOC["models"]["gpt-4o"]["code"], "source": "bare"},
                            "math": {k: v for k, v in DOC["models"]["gpt-4o"]["math"].items() if k != "source"}}}}
    doc["sources"]["s"].update(publisher="P", title="T", date="2024-01-01")
    assert set(priors_from(doc)["m"]) == {"knowledge"}


def test_every_packaged_prior_keeps_its_source():
    assert sum(len(cats) for cats in load_priors().values()) == len(ENTRIES)


# ---------------------------------------------------------------- quality evidence of a route

NAN = float("nan")


def comparison(n: tuple[int, int], means: tuple[float, float], ci: tuple[float, float], p: float) -> Comparison:
    """A COMPARE_SQL row: Welch's interval of mean(current) - mean(target) and the p-value of drop = budget."""
    return Comparison.of({"n_current": n[0], "n_target": n[1], "mean_current": means[0], "mean_target": means[1],
                          "welch": {"confidence_interval_low": ci[0], "confidence_interval_high": ci[1]},
                          "shifted": {"p_value": p}})


# case -> (comparison, category, basis, delta, interval, within, risk at budget 0.02)
EVIDENCE_CASES = {
    "drop beyond": (comparison((40, 40), (0.85, 0.65), (0.18, 0.22), 1e-30), None, "measured", -0.2, (-0.22, -0.18),
                    5e-31, None),
    "kept": (comparison((40, 40), (0.85, 0.85), (-0.01, 0.01), 0.08), None, "measured", 0.0, (-0.01, 0.01), 0.96,
             "low"),
    "estimate within": (comparison((40, 40), (0.85, 0.84), (-0.01, 0.03), 0.5), None, "measured", -0.01,
                        (-0.03, 0.01), 0.75, "medium"),
    "estimate beyond": (comparison((40, 40), (0.85, 0.82), (0.01, 0.05), 0.5), None, "measured", -0.03, (-0.05, -0.01),
                        0.25, "high"),
    "constant scores": (comparison((5, 5), (0.9, 0.89), (NAN, NAN), NAN), None, "measured", -0.01, (-0.01, -0.01),
                        1.0, "low"),
    "one target score": (comparison((40, 1), (0.85, 0.5), (NAN, NAN), NAN), "knowledge", "prior", 0.82 - 0.887, None,
                         0.0, "high"),
    "no scores, no category": (None, None, "unknown", None, None, 0.0, "unknown"),
    "no comparable prior": (None, "code", "unknown", None, None, 0.0, "unknown"),
}


@pytest.mark.parametrize("case", sorted(EVIDENCE_CASES))
def test_quality_evidence_is_measured_else_prior_else_unknown(case):
    found_in, category, basis, delta, interval, within, risk = EVIDENCE_CASES[case]
    target = "gpt-4o-mini" if category != "code" else "gpt-4.1-mini"
    found = quality_evidence(found_in, "gpt-4o", target, category, budget=0.02)
    assert (found.basis, found.risk(0.02)) == (basis, risk)
    assert found.delta == (None if delta is None else pytest.approx(delta))
    assert found.interval == (None if interval is None else pytest.approx(interval))
    assert found.within == pytest.approx(within)


@pytest.mark.parametrize(("case", "source"), [
    ("drop beyond", "measured: quality_score 0.8500 on gpt-4o (n=40) -> 0.6500 on gpt-4o-mini (n=40); 90% Welch "
                    "interval of the change -0.2200..-0.1800"),
    ("one target score", "prior, not a measurement (knowledge): MMLU 88.7% (0-shot CoT; OpenAI, \"Hello GPT-4o\", "
                         "2024-05-13) -> MMLU 82.0% (as published; OpenAI, \"GPT-4o mini: advancing cost-efficient "
                         "intelligence\", 2024-07-18)"),
    ("no scores, no category", "unknown: 0 scored requests on gpt-4o and 0 on gpt-4o-mini (2 needed on each), no task "
                               "category for a prior: shadow-test first"),
])
def test_quality_evidence_states_its_source(case, source):
    found_in, category = EVIDENCE_CASES[case][:2]
    assert quality_evidence(found_in, "gpt-4o", "gpt-4o-mini", category, 0.02).source == source

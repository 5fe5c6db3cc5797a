"""The grounding validator: which numbers in prose match a figure, and which do not."""

from __future__ import annotations

import pytest

from netra.report.grounding import validate_text

FIGURES = [
    {"name": "monthly_cost_usd", "value": 1_234_567.0, "unit": "usd"},
    {"name": "premium_cost_share", "value": 0.3291, "unit": "ratio"},
    {"name": "latency_p95_ms", "value": 1834.2, "unit": "ms"},
    {"name": "combined_saving_pct", "value": 32.9, "unit": "pct"},
    {"name": "requests", "value": 20_000, "unit": "requests"},
    {"name": "cap", "value": 512, "unit": "tokens", "label": "cap for top 3 features"},
]


@pytest.mark.parametrize(("text", "ungrounded"), [
    ("Spend is $1,234,567.00 a month, about $1.2M or $1,235k.", []),
    ("Premium models take 32.9% of spend (a share of 0.329).", []),
    ("p95 latency is 1,834 ms, or 1.83 s.", []),
    ("We can save 33%, or 32.9 percent, over 20,000 requests (20k).", []),
    ("Spend is $987,654.32 a month.", ["$987,654.32"]),
    ("Premium models take 41.0% of spend.", ["41.0%"]),
    ("The saving is $32.90.", ["$32.90"]),
    ("Latency is 1,834 s.", ["1,834 s"]),
    ("Spend is $1.3M.", ["$1.3M"]),
    ("Route `gpt-4o` and `claude-3-5-haiku` traffic; watch p95 and p99.", []),
    ("1. Cap max_tokens at 512 for the top 3 features.", []),
    ("Since 2026-03-02T10:00:00Z, on March 3, 2026 at 10:00, and in March 2026.", []),
    ("You asked to cut 30%; we found 32.9%.", []),
    ("```\nSELECT 42\n```\nNothing else.", []),
    ("Spend is $5. Latency is 7 ms.", ["$5", "7 ms"]),
], ids=["usd-rounded", "ratio-as-pct", "ms-and-s", "pct-and-k", "usd-invented", "pct-invented",
        "pct-figure-as-usd", "ms-figure-as-s-wrong", "M-out-of-precision", "identifiers", "list-label",
        "dates", "question-number", "code-block", "two-sentences"])
def test_numbers_are_checked_against_figures(text, ungrounded):
    result = validate_text(text, FIGURES, question="Can we cut 30%?")
    assert [u["number"] for u in result.ungrounded] == ungrounded
    assert result.ok is (not ungrounded)


def test_each_failure_names_its_sentence():
    result = validate_text("All good at $1.2M. But $9 is made up!\n- And 77 too.", FIGURES)
    assert result.ungrounded == [{"number": "$9", "sentence": "But $9 is made up!"},
                                 {"number": "77", "sentence": "And 77 too."}]
    assert result.sentences() == ["But $9 is made up!", "And 77 too."]
    assert result.to_dict() == {"ok": False, "checked": 3, "ungrounded": result.ungrounded}


def test_figures_may_be_given_by_name():
    figures = {"total_cost_usd": {"value": 99.5, "unit": "USD"}, "error_rate": {"value": 0.021, "unit": "ratio"}}
    assert validate_text("Spend was $99.50 with 2.1% errors.", figures).ok
    assert not validate_text("Spend was $98.", figures).ok

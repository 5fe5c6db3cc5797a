"""Offline triage rules: intent, goal, window, filters, target, constraints, topics."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from netra.nodes.triage_rules import parse

END = datetime(2026, 3, 15, 23, 59, 59, tzinfo=timezone.utc)
NAMES = {"model": ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"], "feature": ["support_bot", "doc_qa"],
         "user_id": ["u01", "u02"]}


@pytest.mark.parametrize(("question", "expected"), [
    ("How can we cut our LLM spend by 30% without hurting quality?",
     {"intent": "optimize", "goal": "cost", "target_saving_pct": 30.0, "preserve_quality": True, "filters": {}}),
    ("What was the p95 latency of gpt-4o last week?",
     {"intent": "question", "goal": "latency", "window_label": "last week", "filters": {"model": "gpt-4o"}}),
    ("How much did support_bot cost on gpt-4o-mini in the last 3 days?",
     {"intent": "question", "goal": "cost", "window_label": "last 3 days",
      "filters": {"feature": "support_bot", "model": "gpt-4o-mini"}}),
    ("Reduce latency and cost for u02", {"intent": "optimize", "goal": "both", "filters": {"user_id": "u02"}}),
    ("Show token usage", {"intent": "question", "topics": ["tokens"], "target_saving_pct": None}),
    ("What is our cache hit ratio?", {"intent": "question", "topics": ["cache"], "start": None}),
], ids=["target", "p95", "cost-window", "both", "tokens", "cache"])
def test_rules_read_the_question(question, expected):
    request = parse(question, END, NAMES)
    assert {k: request[k] for k in expected} == expected


@pytest.mark.parametrize(("question", "days"), [("last week", 7), ("yesterday", 1), ("last 30 days", 30),
                                                ("past month", 30), ("last 12 hours", 0.5)])
def test_windows_end_at_the_newest_event(question, days):
    request = parse(f"cost {question}", END, NAMES)
    start, end = datetime.fromisoformat(request["start"]), datetime.fromisoformat(request["end"])
    assert (end - start).total_seconds() == pytest.approx(days * 86400) and end > END


def test_an_empty_store_has_no_window_and_model_names_need_word_boundaries():
    request = parse("p95 latency of gpt-4o-mini last week", None, NAMES)
    assert request["start"] is None and request["filters"] == {"model": "gpt-4o-mini"}

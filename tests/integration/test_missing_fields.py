"""Missing is not zero, on the published Azure conv trace (timestamps and token counts only).

The trace logs no latency, TTFT, status, user, session, prefix hashes, quality score, cache
tokens, max_tokens or finish reason: its figures for them are not in the telemetry, and its
report says so instead of printing 0 ms or 0.0%. A synthetic store keeps every number; the
two loaded together give latency over the synthetic half. Every report stays grounded.
"""

from __future__ import annotations

import pytest

from netra.graph.runner import ask
from netra.nodes.data import plan_tasks, run_task
from netra.report import Report, build_report
from netra.tools import ToolDispatcher
from netra.workloads.importers import ImportOptions, ingest_file
from tests.support.graphs import PLAIN, Recorder, load_mixed, make_deps
from tests.integration.test_ingest_presets import CONV, shared

ROWS = 19_366
NOT_LOGGED = f"not in the telemetry ({ROWS:,} of {ROWS:,} events lack latency_ms)"


def load_azure(store, catalog) -> None:
    """Import the conv trace as the issue does: model gpt-4o, feature conv."""
    ingest_file(store, catalog, shared(CONV), "azure", ImportOptions(model="gpt-4o", feature="conv"))


def optimize_report(store, catalog, tmp_path) -> Report:
    """Run the data agent's analyses of an optimisation question and build their report."""
    deps, request = make_deps(store, catalog, tmp_path, Recorder()), {"intent": "optimize"}
    results = [run_task(deps, task) for task in plan_tasks(request)]
    analyses = {key: value for result in results for key, value in result["analyses"].items()}
    return build_report({"question": "Cut spend?", "request": request, "analyses": analyses, "tool_calls": []})


def latency(ctx):
    """Return latency_analyzer's result on the test store."""
    return ToolDispatcher(ctx).run("latency_analyzer", {"group_by": "model"})


def test_the_azure_trace_has_no_latency_and_no_error_rate(ctx, catalog):
    load_azure(ctx.store, catalog)
    result = latency(ctx)
    p50, errors = result.figures["latency_p50_ms"], result.figures["error_rate"]
    assert (p50.value, p50.missing.lacking, p50.missing.events, errors.value) == (None, ROWS, ROWS, None)
    assert result.figures["requests"].value == ROWS and result.rows[0]["latency_p95_ms"] is None


def test_the_azure_report_says_not_in_the_telemetry_and_never_0_ms(store, catalog, tmp_path):
    load_azure(store, catalog)
    report = optimize_report(store, catalog, tmp_path)
    assert f"- Latency: p50/p95/p99 {NOT_LOGGED}" in report.markdown
    assert "cache reads not in the telemetry" in report.markdown and " 0 ms" not in report.markdown
    assert report.ungrounded == []


def test_the_azure_answer_through_the_graph_is_grounded(store, catalog, tmp_path):
    load_azure(store, catalog)
    state = ask(make_deps(store, catalog, tmp_path, Recorder()), PLAIN, strategy="conditional")
    markdown = state["report"]["markdown"]
    assert NOT_LOGGED in markdown and " 0 ms" not in markdown and state["report"]["grounded"]


def test_a_synthetic_store_keeps_its_numbers(ctx, catalog, tmp_path):
    load_mixed(ctx.store, catalog, 5_000)
    figures = latency(ctx).figures
    assert all(figures[n].value > 0 and figures[n].missing is None for n in ("latency_p50_ms", "ttft_p50_ms"))
    report = optimize_report(ctx.store, catalog, tmp_path)
    assert "not in the telemetry" not in report.markdown and report.ungrounded == []


def test_with_both_loaded_latency_covers_the_synthetic_half(ctx, catalog, tmp_path):
    load_mixed(ctx.store, catalog, 5_000)
    alone = latency(ctx).figures["latency_p95_ms"].value
    load_azure(ctx.store, catalog)
    p95 = latency(ctx).figures["latency_p95_ms"]
    assert (p95.value, p95.missing.text) == (alone, f"{ROWS:,} of {ROWS + 5_000:,} events lack latency_ms")
    report = optimize_report(ctx.store, catalog, tmp_path)
    assert p95.missing.text in report.markdown and report.ungrounded == []

"""What `netra eval` and `netra eval compare` do, apart from parsing.

    netra eval --dataset evals/datasets/smoke --out /tmp/run1     # [1/4] mixed-optimize ✓ 1.2 s ...
    netra eval compare /tmp/run0 /tmp/run1 --max-recall-drop 0.05

Exit codes: 0 every case passed / no regression; 1 a case failed / run B regressed;
2 bad input (missing dataset, malformed case line `file:line`, unreadable results).

The run itself is `netra.cli.eval_run` (it imports the graph); comparing two runs does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from netra.evals.compare import Thresholds, compare, render
from netra.evals.results import REPORT_FILE, RESULTS_FILE, load_results

# aggregate -> label in the one-line summary
SUMMARY = {"finding_recall_micro": "recall", "finding_precision_micro": "precision",
           "savings_error_median": "median savings error", "savings_error_max": "worst savings error",
           "grounding_mean": "grounding",
           "trajectory_strict_rate": "trajectory strict", "latency_p50_s": "p50 s", "latency_p95_s": "p95 s"}


def _figure(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def summary_lines(doc: dict[str, Any], folder: Path) -> list[str]:
    """Return the summary: pass count and headline aggregates, goals missed, failed cases, where the files are."""
    agg = doc["aggregates"]
    figures = ", ".join(f"{label} {_figure(agg.get(key))}" for key, label in SUMMARY.items())
    missed = ", ".join(key for key, met in agg.get("goals", {}).items() if met is False)
    return [f"{agg['passed']}/{agg['cases']} passed ({doc['mode']}, {doc['wall_seconds']:.1f} s); {figures}",
            f"goals not met: {missed or 'none'}", *_failed(doc), f"results: {folder / RESULTS_FILE}",
            f"report:  {folder / REPORT_FILE}"]


def _failed(doc: dict[str, Any]) -> list[str]:
    failed = [c["id"] for c in doc["cases"] if not c["passed"]]
    return [f"failed: {', '.join(failed)} (reasons under Failures in {REPORT_FILE})"] if failed else []


def print_summary(console: Console, doc: dict[str, Any], folder: Path) -> None:
    """Print the summary lines."""
    for line in summary_lines(doc, folder):
        console.print(line, markup=False)


def compare_command(console: Console, a: Path, b: Path, **limits: float) -> int:
    """Compare run B with run A, print the comparison; return 1 when B regressed, else 0."""
    comparison = compare(load_results(a), load_results(b), Thresholds(**limits))
    for line in render(comparison):
        console.print(line, markup=False)
    return 1 if comparison.regressions else 0

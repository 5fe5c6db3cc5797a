"""Offline evaluation of the agent graph against synthetic workloads with known truth.

    from netra.evals import run_eval, compare, load_results
    results = run_eval("evals/datasets/core", "out/run1", get_settings())
    compare(load_results("out/run0"), results).regressions   # [] when no regression

See docs/evals.md for the dataset format, the evaluators and the aggregates.
"""

from __future__ import annotations

from netra.evals.compare import Comparison, Thresholds, compare
from netra.evals.dataset import FIXES, Case, DatasetError, load_dataset
from netra.evals.evaluators import EVALUATORS, CaseError, evaluate
from netra.evals.results import load_results
from netra.evals.runner import eval_store_url, run_eval

__all__ = ["EVALUATORS", "FIXES", "Case", "CaseError", "Comparison", "DatasetError", "Thresholds", "compare",
           "eval_store_url", "evaluate", "load_dataset", "load_results", "run_eval"]

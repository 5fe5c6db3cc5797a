"""Offline evaluation of the agent graph against a plain-Python reference truth.

    from netra.evals import run_eval, compare, load_results
    results = run_eval("evals/datasets/core", "out/run1", get_settings())
    compare(load_results("out/run0"), results).regressions   # [] when no regression

The truth of each case is computed by `netra.evals.reference` from the events the case loads,
never from the generator's rules or the tools. See docs/evals.md for the dataset format, the
evaluators and the aggregates.
"""

from __future__ import annotations

from netra.evals.compare import Comparison, Thresholds, compare
from netra.evals.dataset import Case, DatasetError, load_dataset
from netra.evals.evaluators import EVALUATORS, evaluate
from netra.evals.results import load_results
from netra.evals.runner import eval_store_url, run_eval
from netra.evals.truth import CaseError, CaseTruth

__all__ = ["EVALUATORS", "Case", "CaseError", "CaseTruth", "Comparison", "DatasetError", "Thresholds", "compare",
           "eval_store_url", "evaluate", "load_dataset", "load_results", "run_eval"]

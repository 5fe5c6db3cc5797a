"""Offline evaluation of the agent graph against a plain-Python reference truth.

    from netra.evals import run_eval, compare, load_results
    results = run_eval("evals/datasets/core", "out/run1", get_settings())
    compare(load_results("out/run0"), results).regressions   # [] when no regression

The truth of each case is computed by `netra.evals.reference` from the events the case loads,
never from the generator's rules or the tools. See docs/evals.md for the dataset format, the
evaluators and the aggregates.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# imported now (it is light): the function `compare` must shadow the submodule of the same name
from netra.evals.compare import Comparison, Thresholds, compare

if TYPE_CHECKING:
    from netra.evals.dataset import Case, DatasetError, load_dataset
    from netra.evals.evaluators import EVALUATORS, evaluate
    from netra.evals.results import load_results
    from netra.evals.runner import eval_store_url, run_eval
    from netra.evals.truth import CaseError, CaseTruth

# name -> the module defining it, imported on first use: the runner loads the graph and the
# LLM stack, which `netra eval compare` (compare, results) never needs
_EXPORTS: dict[str, str] = {
    "Case": "dataset", "DatasetError": "dataset", "load_dataset": "dataset",
    "EVALUATORS": "evaluators", "evaluate": "evaluators", "load_results": "results",
    "eval_store_url": "runner", "run_eval": "runner", "CaseError": "truth", "CaseTruth": "truth",
}

__all__ = ["EVALUATORS", "Case", "CaseError", "CaseTruth", "Comparison", "DatasetError", "Thresholds", "compare",
           "eval_store_url", "evaluate", "load_dataset", "load_results", "run_eval"]


def __getattr__(name: str) -> Any:
    """Return an exported name from its module, imported now; any other name is missing."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)

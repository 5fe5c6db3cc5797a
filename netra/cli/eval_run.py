"""What `netra eval` (a run) does, apart from parsing: run a dataset through the graph, print the summary.

    netra eval --dataset evals/datasets/smoke --out /tmp/run1     # [1/4] mixed-optimize ✓ 1.2 s ...

Exit code 0 when every case passed, 1 when one failed; 2 for bad input (`netra.cli.evals`).
The dataset is read and checked before the runner (the graph, the LLM stack) is imported, so
bad input is refused at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from netra.cli.evals import print_summary
from netra.config import Settings, get_settings
from netra.evals.dataset_files import dataset_file

REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_dataset(path: Path) -> Path:
    """Return `path`, or the same relative path inside the Netra checkout when only that exists."""
    if path.exists() or path.is_absolute():
        return path
    fallback = REPO_ROOT / path
    return fallback if fallback.exists() else path


def default_out(settings: Settings) -> Path:
    """Return a new run folder: NETRA_HOME/evals/<timestamp>."""
    return settings.home / "evals" / time.strftime("%Y%m%d-%H%M%S")


def _printer(console: Console):
    from netra.evals.runner import progress_line

    return lambda index, total, case: console.print(progress_line(index, total, case), markup=False)


def checked_dataset(dataset: Path, cases: list[str]) -> Path:
    """Return the dataset's path once its file and every case (and `cases`) are valid, else `DatasetError`."""
    path = resolve_dataset(dataset)
    dataset_file(path)
    from netra.evals.dataset import load_dataset

    load_dataset(path, cases)
    return path


def run_command(console: Console, dataset: Path, out: Path | None, cases: list[str]) -> int:
    """Run a dataset with live per-case progress, print the summary; return the exit code."""
    folder = out or default_out(get_settings())
    console.print(f"evaluating {dataset} → {folder}", markup=False)
    path = checked_dataset(dataset, cases)
    from netra.evals.runner import run_eval

    doc = run_eval(path, folder, get_settings(), progress=_printer(console), case_ids=cases)
    print_summary(console, doc, folder)
    return 0 if doc["aggregates"]["failed"] == 0 else 1

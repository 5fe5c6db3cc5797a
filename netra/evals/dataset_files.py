"""Where a dataset's cases are: `NAME/cases.jsonl` (or the file itself), found without parsing a case.

    dataset_file("evals/datasets/core")    # Path("evals/datasets/core/cases.jsonl"), else DatasetError
    dataset_name("evals/datasets/core")    # "core"

Kept apart from `netra.evals.dataset` (which builds the case model from the graph's agent names
and the tools) so that reading results and refusing a missing dataset import neither.
"""

from __future__ import annotations

from pathlib import Path

from netra.errors import UserInputError

CASES_FILE = "cases.jsonl"


class DatasetError(UserInputError):
    """A dataset is missing, empty or has a malformed case (the message names file:line)."""


def file_in(path: str | Path, name: str) -> Path | None:
    """Return the file `name` of a folder, or the path itself when it is a file; None when neither exists."""
    path = Path(path)
    file = path / name if path.is_dir() else path
    return file if file.is_file() else None


def dataset_file(path: str | Path) -> Path:
    """Return the `cases.jsonl` of a dataset folder (or the file itself); raise when missing."""
    file = file_in(path, CASES_FILE)
    if file is None:
        raise DatasetError(f"no dataset at {path}: expected a folder holding {CASES_FILE}")
    return file


def dataset_name(path: str | Path) -> str:
    """Return a dataset's name: its folder's name."""
    file = dataset_file(path)
    return file.parent.name if file.name == CASES_FILE else file.stem

"""results.json of an evaluation run: build it, write it (with report.md), read it back.

    doc = results_document(dataset_dir, session, case_results, started, wall_seconds)
    write_outputs(Path("out"), doc)          # out/results.json, out/report.md
    load_results("out")                      # the folder or the results.json itself

Version info comes from installed package metadata, never from git.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from netra.errors import UserInputError
from netra.evals.aggregate import aggregates
from netra.evals.dataset_files import dataset_file, dataset_name, file_in
from netra.evals.report import render_report

RESULTS_FILE, REPORT_FILE = "results.json", "report.md"
_PACKAGES = ("netra", "langgraph", "langchain-core", "chdb")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_info(catalog_version: str) -> dict[str, str]:
    """Return the versions a run used: packages, Python, platform and the price catalog."""
    packages = {name: _version(name) for name in _PACKAGES}
    return {**packages, "python": platform.python_version(), "platform": platform.platform(),
            "price_catalog": catalog_version}


def dataset_info(dataset_dir: str | Path, cases: int) -> dict[str, Any]:
    """Return the dataset's name, file, content hash and how many cases ran."""
    file = dataset_file(dataset_dir)
    return {"name": dataset_name(dataset_dir), "path": str(file),
            "sha256": hashlib.sha256(file.read_bytes()).hexdigest(), "cases": cases}


def results_document(dataset_dir: str | Path, session: Any, cases: list[dict], started: datetime,
                     wall_seconds: float) -> dict[str, Any]:
    """Return the whole results document of a run (`session` is the runner's EvalSession)."""
    settings = session.settings
    return {"dataset": dataset_info(dataset_dir, len(cases)), "mode": session.mode,
            "model": None if settings.offline else settings.llm_model, "strategy": settings.strategy,
            "version": version_info(session.catalog.version), "started": started.isoformat(),
            "finished": (started + timedelta(seconds=wall_seconds)).isoformat(), "wall_seconds": wall_seconds,
            "aggregates": aggregates(cases), "cases": cases}


def write_outputs(out_dir: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Write results.json and report.md into `out_dir` (created); return the document."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULTS_FILE).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    (out_dir / REPORT_FILE).write_text(render_report(doc), encoding="utf-8")
    return doc


def results_path(path: str | Path) -> Path:
    """Return the results.json a path names: the file itself or the one in a run folder."""
    file = file_in(path, RESULTS_FILE)
    if file is None:
        raise UserInputError(f"no evaluation results at {path}: expected {RESULTS_FILE} or a run folder")
    return file


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results.json (or a run folder's); a `UserInputError` says what is wrong."""
    file = results_path(path)
    doc = _read_json(file)
    if not isinstance(doc, dict) or not {"aggregates", "cases"} <= doc.keys():
        raise UserInputError(f"{file}: not an evaluation results file (no aggregates / cases)")
    return doc


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{file}: not valid JSON: {exc}") from exc

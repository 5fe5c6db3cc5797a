"""Evaluation datasets: `evals/datasets/NAME/cases.jsonl`, one JSON case per line.

    cases = load_dataset("evals/datasets/core")                       # every case, in file order
    cases = load_dataset("evals/datasets/core", ["mixed-optimize-cost"])  # only these

A case names the workload to load, the question to ask, the scope the question is about and
what a correct run does (`expected`). The workload is a synthetic scenario (`scenario`, `seed`,
`events` as a count, `days`), a planted event set (`"events": "planted:<name>"`, built with
`seed`) or shared real traces (`"events": "trace:<name>"`). The recommendations a run must make
are not written in the case: the reference computes them from the loaded events
(`netra.evals.truth`). `expected.findings` and `expected.absent` only state what the case is
built to hold (`kind@feature`): a case whose workload does not hold it crashes.
A malformed line raises `DatasetError` naming `file:line` and the problem. Finding the file
(`dataset_file`, `dataset_name`, `DatasetError`) is `netra.evals.dataset_files`, re-exported here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from netra.evals.dataset_files import CASES_FILE, DatasetError, dataset_file, dataset_name
from netra.evals.planted import PLANTED
from netra.evals.reference.joint import ORDER
from netra.evals.traces import TRACES
from netra.graph.state import AGENTS
from netra.workloads.synthetic import SCENARIOS

# a recommendation kind on a feature, as `expected.findings` and `expected.absent` name it
PAIR_PATTERN = rf"^({'|'.join(ORDER)})@[A-Za-z0-9_.:/-]+$"
# events given as a name -> the table that knows the names
SOURCES: dict[str, frozenset[str]] = {"planted": frozenset(PLANTED), "trace": frozenset(TRACES)}
Agent = Literal[AGENTS]  # type: ignore[valid-type]
Scenario = Literal[SCENARIOS]  # type: ignore[valid-type]
Pair = str
__all__ = ["CASES_FILE", "Case", "CaseScope", "DatasetError", "Expected", "dataset_file", "dataset_name",
           "load_dataset", "parse_case"]
_PAIR = re.compile(PAIR_PATTERN)


class CaseScope(BaseModel):
    """What the question is about: a look-back of `days` ending at the newest event, and filters."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    feature: str | None = None
    model: str | None = None
    user_id: str | None = None
    days: float | None = Field(None, gt=0)


class Expected(BaseModel):
    """What a correct run of a case does, besides the reference's recommendations."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    findings: list[Pair] = Field(default_factory=list)
    absent: list[Pair] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    check_savings: bool = True
    savings_tolerance: float = Field(0.10, ge=0)
    max_seconds: float | None = Field(None, gt=0)

    @field_validator("findings", "absent")
    @classmethod
    def _pairs(cls, pairs: list[str]) -> list[str]:
        bad = [p for p in pairs if not _PAIR.match(p)]
        if bad:
            raise ValueError(f"not `kind@feature` with a kind of {list(ORDER)}: {bad}")
        return pairs

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, tools: list[str]) -> list[str]:
        from netra.tools import ToolRegistry

        unknown = sorted(set(tools) - set(ToolRegistry().names()))
        if unknown:
            raise ValueError(f"unknown tools {unknown}")
        return tools

    @model_validator(mode="after")
    def _disjoint(self) -> Expected:
        both = sorted(set(self.findings) & set(self.absent))
        if both:
            raise ValueError(f"pairs both expected and absent: {both}")
        return self


class Case(BaseModel):
    """One evaluation case: a workload, a question and its scope, and the expected outcome."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: Scenario | None = None
    seed: int = Field(0, ge=0)
    events: int | str
    days: float = Field(14.0, gt=0, le=366)
    question: str = Field(min_length=1)
    intent: Literal["optimize", "question"]
    goal: Literal["cost", "latency", "both"] | None = None
    scope: CaseScope = Field(default_factory=CaseScope)
    expected: Expected = Field(default_factory=Expected)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _workload(self) -> Case:
        problem = _workload_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def source(self) -> tuple[str, str]:
        """Return where the events come from: ("scenario", name), ("planted", name) or ("trace", name)."""
        if isinstance(self.events, int):
            return "scenario", str(self.scenario)
        kind, _, name = self.events.partition(":")
        return kind, name

    @property
    def data_key(self) -> tuple[str | None, int, int | str, float]:
        """Return what identifies the loaded workload: (scenario, seed, events, days)."""
        return self.scenario, self.seed, self.events, self.days


def _workload_problem(case: Case) -> str:
    """Return what is wrong with a case's workload fields ("" when nothing)."""
    if isinstance(case.events, int):
        count_ok = 1 <= case.events <= 5_000_000
        return "" if case.scenario and count_ok else "a scenario and 1..5,000,000 events are needed"
    kind, _, name = case.events.partition(":")
    if kind not in SOURCES or case.scenario is not None:
        return f"events {case.events!r}: a count with a scenario, or `planted:<name>` / `trace:<name>` without one"
    return "" if name in SOURCES[kind] else f"unknown {kind} workload {name!r}; known: {sorted(SOURCES[kind])}"


def load_dataset(path: str | Path, ids: list[str] | None = None) -> list[Case]:
    """Read and validate every case of a dataset; keep only `ids` when given (in file order)."""
    file = dataset_file(path)
    cases = _parse_lines(file, file.read_text(encoding="utf-8").splitlines())
    if not cases:
        raise DatasetError(f"{file}: the dataset has no cases")
    return _select(file, cases, ids or [])


def _parse_lines(file: Path, lines: list[str]) -> list[Case]:
    cases: dict[str, tuple[int, Case]] = {}
    for number, text in enumerate(lines, start=1):
        if text.strip():
            case = parse_case(text, f"{file}:{number}")
            _check_unique(cases, case, number, file)
            cases[case.id] = (number, case)
    return [case for _, case in cases.values()]


def parse_case(text: str, where: str) -> Case:
    """Parse one JSON line into a `Case`; a `DatasetError` names `where` and what is wrong."""
    try:
        return Case.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except ValidationError as exc:
        raise DatasetError(f"{where}: invalid case: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'case'}: {e['msg']}" for e in exc.errors())


def _check_unique(cases: dict[str, tuple[int, Case]], case: Case, number: int, file: Path) -> None:
    if case.id in cases:
        first = cases[case.id][0]
        raise DatasetError(f"{file}:{number}: duplicate case id {case.id!r} (first on line {first})")


def _select(file: Path, cases: list[Case], ids: list[str]) -> list[Case]:
    unknown = sorted(set(ids) - {c.id for c in cases})
    if unknown:
        raise DatasetError(f"{file}: no case with id {', '.join(unknown)}")
    return [c for c in cases if c.id in ids] if ids else cases

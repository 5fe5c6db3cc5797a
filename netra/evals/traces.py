"""Shared real traces a case can load (`"events": "trace:<name>"`), through the project's importers.

    for file in TRACES["azure_code"]: ingest_file(store, catalog, file.path(), "auto", file.options())

The files live in `../shared/data` next to the checkout (docs/evals.md): the Azure LLM
inference traces (Splitwise, ISCA'24, CC-BY-4.0), which name no model, so each is loaded as a
model of this table, and the TraceLab round trace of coding agents (Apache-2.0). A missing file
makes the case crash with its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netra.errors import UserInputError

if TYPE_CHECKING:  # the importers load pandas and the store: only a case that loads traces needs them
    from netra.workloads.importers import ImportOptions

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass(frozen=True)
class TraceFile:
    """One shared file, and the model and feature its rows take when the file names none."""

    name: str
    model: str | None = None
    feature: str | None = None

    def path(self) -> Path:
        """Return the file's path; raise `UserInputError` when it is not there."""
        path = SHARED_DATA / self.name
        if not path.is_file():
            raise UserInputError(f"shared trace {path} is not here: put ../shared/data next to the checkout")
        return path

    def options(self) -> ImportOptions:
        """Return the import options: the model and feature to give rows that name none."""
        from netra.workloads.importers import ImportOptions

        return ImportOptions(model=self.model, feature=self.feature)


AZURE_CODE = TraceFile("AzureLLMInferenceTrace_code.csv", model="gpt-4.1")
AZURE_CONV = TraceFile("AzureLLMInferenceTrace_conv.csv", model="gpt-4o")
TRACELAB = TraceFile("tracelab_example_sanitized_round_trace.jsonl")
# trace workload -> the files it loads into one store
TRACES: dict[str, tuple[TraceFile, ...]] = {
    "azure_code": (AZURE_CODE,),
    "azure_conv": (AZURE_CONV,),
    "azure_both": (AZURE_CODE, AZURE_CONV),
    "tracelab": (TRACELAB,),
}

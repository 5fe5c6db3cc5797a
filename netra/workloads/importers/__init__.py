"""Importers: read telemetry files of many formats into workload events.

    ingest_file(store, catalog, path, "auto", ImportOptions(...)) -> IngestSummary
"""

from __future__ import annotations

from pathlib import Path

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection
from netra.workloads.importers.loader import IngestSummary, Progress, load_batches
from netra.workloads.importers.registry import MODULES, UnknownFormatError, detect, importer


def ingest_file(store: AnalyticsStore, catalog: PriceCatalog, path: Path, fmt: str = "auto",
                options: ImportOptions | None = None, progress: Progress | None = None) -> IngestSummary:
    """Import one file all-or-nothing; return what was accepted, skipped and rejected."""
    options = options or ImportOptions()
    options.source = options.source or Path(path).name
    reader = importer(detect(Path(path)) if fmt == "auto" else fmt)
    return load_batches(store, catalog, reader.batches(Path(path), options), options, progress)


__all__ = ["MODULES", "ImportOptions", "IngestSummary", "RawBatch", "Rejection", "UnknownFormatError",
           "detect", "importer", "ingest_file"]

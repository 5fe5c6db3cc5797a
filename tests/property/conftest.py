"""Fixtures of the property tests: the reference's view of the packaged catalog, a planter."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import pytest

from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools.base import ToolContext
from netra.workloads.catalog import PACKAGED_CATALOG, PriceCatalog
from tests.support.factories import load
from tests.property.workloads import record
from netra.evals.reference import ReferenceCatalog


@dataclass(frozen=True)
class Catalogs:
    """The production catalog and the reference's view of it (a short repr: hypothesis prints it)."""

    production: PriceCatalog = field(repr=False)
    reference: ReferenceCatalog = field(repr=False)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """Print as `repr` does (hypothesis would print every field, thousands of catalog rows)."""
        printer.text(repr(self))


@pytest.fixture(scope="session")
def reference_catalog(catalog: PriceCatalog) -> ReferenceCatalog:
    """The packaged catalog's raw rows, found by the production name matcher."""
    return ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], catalog.resolve)


@pytest.fixture(scope="session")
def catalogs(catalog: PriceCatalog, reference_catalog: ReferenceCatalog) -> Catalogs:
    """Both catalogs in one short-repr argument."""
    return Catalogs(catalog, reference_catalog)


@pytest.fixture(scope="session")
def plant(session_store: AnalyticsStore, catalog: PriceCatalog) -> Callable[[Sequence[Mapping]], ToolContext]:
    """Return a function that empties the store, loads a workload and gives a tool context.

    Session-scoped, as hypothesis runs many examples in one test call and the function-scoped
    `store` would be emptied only once.
    """
    def planted(events: Sequence[Mapping]) -> ToolContext:
        session_store.truncate()
        load(session_store, catalog, [record(e) for e in events])
        return ToolContext(store=session_store, catalog=catalog, workspace_id=LOCAL_WORKSPACE)

    return planted

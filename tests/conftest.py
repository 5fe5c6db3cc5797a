"""Shared fixtures: one embedded chDB store per test session, real PostgreSQL and Redis.

Under pytest-xdist (`-n 3` in `make test`) every worker is a process of its own: its own temporary folders
(NETRA_HOME, chDB path), servers on free ports, uniquely named PostgreSQL databases, and a
Redis database number of its own (`worker_redis_url`), so two workers never share state.
"""

from __future__ import annotations

import gc
import os

import pytest

from netra.persistence.analytics import AnalyticsStore, open_store
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools.base import ToolContext
from netra.workloads.catalog import PriceCatalog, load_catalog
from tests.support.databases import TEMPLATES
from tests.support.services import require_service, worker_redis_url

# A full pass of the cyclic garbage collector every 100 younger passes instead of 10: a worker's
# heap holds a few hundred thousand long-lived objects (schemas, the catalog, servers' apps) and
# each full pass walks them all. With the freeze below, tests/integration/api in one process spent
# 2.4 s in full passes instead of 7.2 s.
FULL_COLLECTION_EVERY = 100

PG_URL = os.environ.get("NETRA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = worker_redis_url(os.environ.get("NETRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what start-up and collection built (modules, classes, test items): the collector skips them."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory):
    """Point NETRA_HOME at a fresh folder: no test reads a developer's catalog or data."""
    from netra.config import get_settings

    os.environ["NETRA_HOME"] = str(tmp_path_factory.mktemp("netra-home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def databases():
    """At the end of the session, wait for the background drops of test databases; drop the templates."""
    yield TEMPLATES
    TEMPLATES.close()


@pytest.fixture(scope="session")
def session_store(tmp_path_factory) -> AnalyticsStore:
    """The one chDB store of this process (chDB opens one path per process)."""
    return open_store(f"chdb://{tmp_path_factory.mktemp('chdb') / 'analytics'}")


@pytest.fixture
def store(session_store: AnalyticsStore) -> AnalyticsStore:
    """An empty store for one test."""
    session_store.truncate()
    return session_store


@pytest.fixture(scope="session")
def catalog(isolated_home) -> PriceCatalog:
    """The packaged price catalog."""
    return load_catalog()


@pytest.fixture
def ctx(store: AnalyticsStore, catalog: PriceCatalog) -> ToolContext:
    """A tool context over an empty store, in the `local` workspace (where planted events go)."""
    return ToolContext(store=store, catalog=catalog, workspace_id=LOCAL_WORKSPACE)


@pytest.fixture(scope="module")
def workload(session_store, catalog):
    """The session's store holding `mixed` (20k events): planted once for the module (live-run tests)."""
    from netra.workloads.synthetic import generate_and_load

    session_store.truncate()
    generate_and_load(session_store, catalog, "mixed", 20_000, 7, 14.0)
    return session_store


@pytest.fixture
def postgres_url() -> str:
    """A reachable PostgreSQL URL (skipped when unreachable, failed under CI=true)."""
    return require_service("PostgreSQL", PG_URL)


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL (skipped when unreachable, failed under CI=true)."""
    return require_service("Redis", REDIS_URL)

"""Operations endpoints on each backend: monitoring, database monitoring, circuits, LLM cache, quality.

The module's `api` (one server per backend, shared by the module's tests to keep it quick)
keeps the app it serves (`api.app`): the tests reach the app's own LLM cache, and the app's
engine is watched by `netra.persistence.querylog` with every statement counted as slow
(`slow_query_ms=0`), so the slow-statement list is never empty. Tests only compare counters
before and after what they do, so they do not depend on each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from langchain_core.outputs import Generation

from netra.config import Settings
from netra.llm import breaker
from netra.llm.cache import LLMCache
from netra.persistence.db import create_engine_from_settings, make_session_factory
from netra.persistence.migrations import head
from netra.persistence.querylog import watch
from netra.persistence.uow import UnitOfWork
from netra.report.cite import Citations
from netra.server import create_app
from tests.conftest import PG_URL, REDIS_URL
from tests.support.databases import fresh_pg
from tests.integration.api.conftest import Api, embedded_settings
from tests.integration.api.seeding import user_id, workspace_of
from tests.support.servers import serving
from tests.support.services import require_service

OPERATOR_ROUTES = ("/api/monitoring", "/api/monitoring/database")
LOGIN, LLM_CACHE, MODEL = "/auth/dev-login", "/api/admin/llm-cache", "model=test"
SECTIONS = {"requests", "runs", "agent_executions", "tool_calls", "llm_cache", "rate_limited",
            "rate_limit_backend_errors", "cache_backend_errors", "websockets_active"}
SPEND = {"tool": "cost_analyzer", "call_id": "c1", "figures": {"spend": {"value": 1234.5, "unit": "usd"},
                                                               "p95": {"value": 250.0, "unit": "ms"}}}


@dataclass
class OpsApi(Api):
    """The running server, and the app it serves."""

    app: FastAPI | None = None
    signed: dict[tuple[str, str | None], httpx.Client] = field(default_factory=dict)

    def user(self, email: str, role: str | None = None) -> httpx.Client:
        """Return a client signed in as `email`, signed in once for the module's tests."""
        if (email, role) not in self.signed:
            self.signed[email, role] = self.login(email, role)
        return self.signed[email, role]


@contextlib.contextmanager
def module_settings(backend: str, home: Path) -> Iterator[Settings]:
    """Yield the settings of `backend` (`embedded`, or `services`: a fresh PostgreSQL database and Redis)."""
    base = embedded_settings(home).model_copy(update={"slow_query_ms": 0.0})
    if backend == "embedded":
        yield base
        return
    with fresh_pg(require_service("PostgreSQL", PG_URL), "netra_ops") as url:
        yield base.model_copy(update={"database_url": url, "redis_url": require_service("Redis", REDIS_URL)})


@pytest.fixture(scope="module", params=["embedded", "services"])
def api_settings(request, tmp_path_factory) -> Iterator[Settings]:
    """The backend's settings, every statement counted as slow (one server per backend for the module)."""
    with module_settings(request.param, tmp_path_factory.mktemp("ops-home")) as settings:
        yield settings


@pytest.fixture(scope="module")
def api(api_settings, session_store, catalog) -> Iterator[OpsApi]:
    """A server over the backend under test whose engine's statements are logged."""
    app = create_app(api_settings, store=session_store, catalog=catalog)
    with serving(lambda url: app, lifespan="on") as url:
        watch(app.state.resources.engine, api_settings.slow_query_ms)  # idempotent: AppResources.start() may too
        ops = OpsApi(url, api_settings, app=app)
        yield ops
        ops.close()


def is_pg(api: Api) -> bool:
    """Whether the backend under test is PostgreSQL."""
    return api.settings.database_url.startswith("postgresql")


def route_count(body: dict[str, Any], route: str) -> int:
    """Return the request count of `route` in a monitoring answer (0 when not in the top routes)."""
    return next((row["count"] for row in body["requests"]["by_route"] if row["route"] == route), 0)


def growth(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int]:
    """Return how much the requests of the dev-login route, and the 2xx answers, grew."""
    return (route_count(after, LOGIN) - route_count(before, LOGIN),
            after["requests"]["by_status"]["2xx"] - before["requests"]["by_status"]["2xx"])


def test_monitoring_counts_requests(api):
    admin = api.user("ops@example.com", role="admin")
    before = admin.get("/api/monitoring").json()
    for _ in range(3):
        api.token("ops@example.com")
    after = admin.get("/api/monitoring").json()
    assert min(growth(before, after)) >= 3 and SECTIONS <= set(after)
    assert after["requests"]["total"] >= sum(row["count"] for row in after["requests"]["by_route"])


@pytest.mark.parametrize("route", OPERATOR_ROUTES)
@pytest.mark.parametrize("role, status", [("admin", 200), ("developer", 200), ("user", 403), (None, 401)])
def test_monitoring_is_for_admins_and_developers(api, route: str, role: str | None, status: int):
    client = api.user(f"{role}@example.com", role=role) if role else api.anonymous
    answer = client.get(route)
    assert answer.status_code == status
    assert status == 200 or {"code", "message"} <= set(answer.json()["error"])


def test_database_monitoring_names_the_backend_not_the_url(api):
    body = api.user("developer@example.com", role="developer").get("/api/monitoring/database")
    data = body.json()
    assert data["backend"] == ("postgresql" if is_pg(api) else "sqlite")
    assert set(data["pool"]) == {"class", "status", "size", "checked_in", "checked_out", "overflow"}
    assert data["schema"] == {"revision": head(), "head": head()}
    assert (data["activity"] is not None) == is_pg(api)
    assert "://" not in body.text and "postgres@" not in body.text and "netra.db" not in body.text


def plant_secrets(alice: httpx.Client) -> list[str]:
    """Make the app's engine run statements with secret values bound; return the values."""
    assert alice.post("/api/threads", json={"title": "sekret-title-123"}).status_code == 201
    assert alice.post("/api/quality/validate", json={"report_id": "sekret-id-456"}).status_code == 404
    return ["sekret-title-123", "sekret-id-456", alice.get("/auth/me").json()["id"]]


def test_slow_queries_keep_placeholders_never_values(api):
    secrets = plant_secrets(api.user("alice@example.com"))
    body = api.user("root@example.com", role="admin").get("/api/monitoring/database")
    queries = body.json()["queries"]
    assert queries["threshold_ms"] == 0.0 and queries["seen"] >= queries["slow"] >= 2
    assert any("INSERT INTO threads" in entry["statement"] for entry in queries["slowest"])
    assert [secret for secret in secrets if secret in body.text] == []


@pytest.fixture
def open_breaker() -> Iterator[str]:
    """An open breaker of a made-up endpoint (forgotten after the test)."""
    endpoint = f"http://127.0.0.1:9/{uuid.uuid4().hex[:8]}/v1"
    breaker.breaker_for(endpoint, failure_threshold=1).record_failure()
    yield endpoint
    breaker.BREAKERS.pop(endpoint, None)


def states(client: httpx.Client) -> dict[str, str]:
    """Return the state of each breaker, by endpoint."""
    return {b["endpoint"]: b["state"] for b in client.get("/api/health/circuits").json()["breakers"]}


def reset_path(endpoint: str) -> str:
    """Return the reset route of `endpoint`'s breaker, the endpoint percent-encoded."""
    return f"/api/admin/circuits/{quote(endpoint, safe='')}/reset"


def test_circuits_list_and_reset(api, open_breaker: str):
    alice, admin = api.user("alice@example.com"), api.user("root@example.com", role="admin")
    assert states(alice)[open_breaker] == "open"
    assert admin.post(reset_path(open_breaker)).json()["state"] == "closed"
    assert states(alice)[open_breaker] == "closed"
    assert alice.get("/api/health/circuits").json()["offline"] == api.settings.offline


def test_circuit_reset_refusals(api, open_breaker: str):
    alice, admin = api.user("alice@example.com"), api.user("root@example.com", role="admin")
    unknown = admin.post(reset_path("http://nowhere.example/v1"))
    answers = [alice.post(reset_path(open_breaker)), api.anonymous.post(reset_path(open_breaker)), unknown]
    assert [answer.status_code for answer in answers] == [403, 401, 404]
    assert unknown.json()["error"]["code"] == "not_found" and states(alice)[open_breaker] == "open"
    assert api.anonymous.get("/api/health/circuits").status_code == 401


def llm_cache(api: OpsApi) -> LLMCache:
    """Return the app's own LLM response cache."""
    return api.app.state.resources.cache("llm_cache")  # type: ignore[union-attr]


def fill(cache: LLMCache) -> list[str]:
    """Cache an answer to two new prompts; return the prompts."""
    prompts = [f"prompt-{uuid.uuid4().hex}" for _ in range(2)]
    for prompt in prompts:
        cache.update(prompt, MODEL, [Generation(text="an answer")])
    return prompts


# a hit runs langchain's `loads`, which warns (beta; `allowed_objects` unset) until netra/llm/cache.py passes it
@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning",
                            "ignore::langchain_core._api.deprecation.LangChainPendingDeprecationWarning")
def test_llm_cache_counts_hits_and_misses(api):
    admin, cache = api.user("root@example.com", role="admin"), llm_cache(api)
    before = admin.get(LLM_CACHE).json()
    prompts = fill(cache)
    hit, miss = cache.lookup(prompts[0], MODEL), cache.lookup("never asked", MODEL)
    stats = admin.get(LLM_CACHE).json()
    assert (hit[0].text, miss, stats["backend"]) == ("an answer", None, "redis" if api.settings.redis_url else "memory")
    assert stats["entries"] >= 2 and (stats["hits"], stats["misses"]) == (before["hits"] + 1, before["misses"] + 1)


def test_llm_cache_clear(api):
    admin, cache = api.user("root@example.com", role="admin"), llm_cache(api)
    prompts = fill(cache)
    assert admin.delete(LLM_CACHE).json()["cleared"] >= 2
    assert [cache.lookup(prompt, MODEL) for prompt in prompts] == [None, None]
    assert admin.get(LLM_CACHE).json()["entries"] == 0
    assert api.user("alice@example.com").get(LLM_CACHE).status_code == 403


FIGURES = [{"name": "spend", "value": 1234.5, "unit": "usd"}, {"name": "p95", "value": 250, "unit": "ms"}]


@pytest.mark.parametrize("markdown, figures, grounded, numbers, ungrounded", [
    ("Spend was $1,234.50 and p95 latency 250 ms.", FIGURES, True, 2, []),
    ("Spend was $1,234.50.\n\n1. Cut it by 40 percent.", FIGURES, False, 2,
     [{"text": "40", "sentence": "Cut it by 40 percent."}]),
    ("Run `gpt-4.1` on 3 features.\n```\nSELECT 42\n```", [], False, 1,
     [{"text": "3", "sentence": "Run `gpt-4.1` on 3 features."}]),
    ("> Why did spend reach 9000?\n\nNo figures here.", [], True, 0, []),
])
def test_quality_validates_markdown(api, markdown: str, figures: list, grounded: bool, numbers: int,
                                    ungrounded: list):
    body = {"markdown": markdown, "figures": figures}
    answer = api.user("alice@example.com").post("/api/quality/validate", json=body)
    assert answer.json() == {"grounded": grounded, "numbers": numbers, "ungrounded": ungrounded}


@pytest.mark.parametrize("body", [{}, {"report_id": "x", "markdown": "y"}, {"markdown": "y", "extra": 1}])
def test_quality_refuses_a_body_without_exactly_one_source(api, body: dict):
    answer = api.user("alice@example.com").post("/api/quality/validate", json=body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")


def cited(template: str) -> tuple[str, list[dict[str, Any]]]:
    """Return `template` with the `SPEND` figures quoted into it, and their citations."""
    cite = Citations()
    quoted = {name: cite.figure(SPEND, name) for name in SPEND["figures"]}
    return template.format(**quoted), cite.entries


async def store_report(uow: UnitOfWork, user_id: str, markdown: str, citations: list[dict[str, Any]]) -> str:
    """Store a thread, a run and its report of `user_id`; return the report's id."""
    thread = await uow.threads.create(user_id, title="review")
    run = await uow.runs.create(user_id, thread_id=thread.id, question="why?")
    report = await uow.reports.create(user_id, run_id=run.id, markdown=markdown,
                                      structured={"citations": citations}, grounded=False)
    await uow.commit()
    return report.id


async def seed_report(settings: Settings, user_id: str, workspace_id: str, template: str) -> str:
    """Store a report of `user_id` in the workspace quoting and citing the `SPEND` figures; return its id."""
    engine = create_engine_from_settings(settings)
    try:
        async with UnitOfWork(make_session_factory(engine), workspace_id=workspace_id) as uow:
            return await store_report(uow, user_id, *cited(template))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("markdown, grounded, ungrounded", [
    ("Spend was {spend}; p95 latency {p95}.", True, []),
    ("Spend was {spend} over 3 days.", False, ["3"]),
])
def test_quality_validates_a_stored_report(api, markdown: str, grounded: bool, ungrounded: list):
    alice, bob = api.user("alice@example.com"), api.user("bob@example.com")
    report_id = asyncio.run(seed_report(api.settings, user_id(alice), workspace_of(alice), markdown))
    answer = alice.post("/api/quality/validate", json={"report_id": report_id}).json()
    assert (answer["grounded"], [n["text"] for n in answer["ungrounded"]]) == (grounded, ungrounded)
    refused = bob.post("/api/quality/validate", json={"report_id": report_id})
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")

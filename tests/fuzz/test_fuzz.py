"""API fuzzing with schemathesis, through the harness of `make fuzz` (`scripts/fuzz.py`).

`test_every_operation_survives_fuzzing` serves the app with its lifespan over embedded settings
and the session's chDB store, prepares it as `make fuzz` does (an admin signs in, events and a
thread are planted) and fuzzes every operation of `/openapi.json` with a few examples each:
no 5xx, no answer outside its documented schema, no engine error, and every operation but the
documented exclusions exercised. `test_harness_reports_what_it_finds` proves the harness sees
a 500 (with its traceback) and a schema violation, on a small app made to have both.

    .venv/bin/python -m pytest tests/fuzz -q            # `make fuzz` fuzzes longer, every phase
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from netra.persistence.analytics import AnalyticsStore
from netra.server import create_app
from netra.server.errors import install_error_handlers
from netra.workloads.catalog import PriceCatalog
from tests.fuzz import caps
from tests.fuzz import harness as fuzz
from tests.support.servers import serving

QUICK = fuzz.Options(max_examples=5, phases=("examples", "fuzzing", "stateful"), seed=1)
SETTLE_TIMEOUT_S = 120.0
UNFINISHED = frozenset({"queued", "running"})


def settle(app: FastAPI) -> None:
    """Wait until the background jobs the fuzzer started are over (they write to the session's store)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline and any(unfinished(app)):
        time.sleep(0.1)
    assert not any(unfinished(app)), "background jobs still running"


def unfinished(app: FastAPI) -> list[Any]:
    """Return the app's background jobs that are queued or running."""
    jobs = list(app.state.resources.jobs.values())
    return [job for job in jobs if isinstance(job, dict) and job.get("status") in UNFINISHED]


def fuzzed(home: Path, store: AnalyticsStore, catalog: PriceCatalog) -> fuzz.Figures:
    """Serve the app over embedded settings and the session's store, prepare it, fuzz it QUICK."""
    app = create_app(fuzz.embedded_settings(home), store=store, catalog=catalog)
    with serving(lambda url: app, lifespan="on") as url:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            token = fuzz.prepare(client, app.state.resources.settings)
        figures = fuzz.fuzz(url, token, QUICK)
        settle(app)
    return figures


@pytest.mark.slow
def test_every_operation_survives_fuzzing(tmp_path, store, catalog, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # agents run offline, as under `make fuzz`
    figures = fuzzed(tmp_path / "home", store, catalog)
    report = fuzz.summary(figures, QUICK)
    assert figures.server_errors == 0, report
    assert figures.untested == [], report
    assert figures.ok, report


class Out(BaseModel):
    """What `GET /bad` documents."""

    n: int


def share(item_id: int) -> dict[str, int]:
    """A route with a bug: any id but a negative one divides by zero."""
    return {"share": 10 // min(item_id, 0)}


def off_schema() -> JSONResponse:
    """A route that answers outside its documented schema."""
    return JSONResponse({"n": "not a number"})


def flawed_app(url: str) -> FastAPI:
    """Return an app with Netra's error handlers and the two flawed routes."""
    app = FastAPI()
    install_error_handlers(app)
    app.get("/shares/{item_id}")(share)
    app.get("/bad", response_model=Out)(off_schema)
    return app


@pytest.mark.slow
def test_harness_reports_what_it_finds():
    with serving(flawed_app) as url:
        figures = fuzz.fuzz(url, "no-token", fuzz.Options(max_examples=5, phases=("fuzzing",), seed=1))
    assert figures.server_errors > 0 and figures.failures["not_a_server_error"] > 0
    assert figures.failures["response_schema_conformance"] > 0
    assert any("ZeroDivisionError" in cause and "in share" in cause for cause in figures.tracebacks)
    assert figures.untested == [] and not figures.ok


# (request-side schema, what the fuzzer generates from): size bounds above SIZE_CAPS and the
# maximum of VALUE_CAPS properties are lowered; smaller bounds and other keys are kept
CAPS = [
    ({"type": "string", "maxLength": 1_000_000}, {"type": "string", "maxLength": 1_000}),
    ({"type": "string", "maxLength": 64, "minLength": 1}, {"type": "string", "maxLength": 64, "minLength": 1}),
    ({"type": "array", "maxItems": 10_000, "items": {"type": "object", "maxProperties": 99}},
     {"type": "array", "maxItems": 10, "items": {"type": "object", "maxProperties": 10}}),
    ({"properties": {"events": {"type": "integer", "maximum": 2_000_000}, "seed": {"maximum": 2**63 - 1}}},
     {"properties": {"events": {"type": "integer", "maximum": 2_000}, "seed": {"maximum": 2**63 - 1}}}),
]


@pytest.mark.parametrize(("schema", "expected"), CAPS)
def test_caps_lower_request_size_bounds(schema, expected):
    assert caps.capped(schema, {}) == expected


def json_of(name: str) -> dict[str, Any]:
    """Return a JSON content entry whose schema is component `name`."""
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def test_request_side_caps_a_copy_and_keeps_answers():
    big = {"type": "object", "properties": {"text": {"type": "string", "maxLength": 10**6}}}
    openapi = {"paths": {"/big": {"post": {"requestBody": json_of("Big"), "responses": {"200": json_of("Big")}}}},
               "components": {"schemas": {"Big": big}}}
    capped = caps.request_side(openapi)
    assert capped["paths"]["/big"]["post"] == {"requestBody": json_of("Big_Fuzz"), "responses": {"200": json_of("Big")}}
    assert capped["components"]["schemas"]["Big_Fuzz"]["properties"]["text"]["maxLength"] == 1_000
    assert capped["components"]["schemas"]["Big"] == big


def test_operations_leave_out_the_exclusions():
    paths = {"/auth/logout": {"post": {}}, "/api/things/{id}": {"get": {}, "delete": {}, "parameters": []}}
    assert fuzz.operations_of({"paths": paths}) == ["DELETE /api/things/{id}", "GET /api/things/{id}"]

"""The fuzz harness of `make fuzz` (`scripts/fuzz.py`) and `tests/fuzz/test_fuzz.py`.

    token = prepare(client, settings)           # admin sign-in; planted events and a thread (`SEEDS`)
    figures = fuzz(url, token, Options(max_examples=25))
    print(summary(figures, options)); assert figures.ok

`fuzz` reads the server's `/openapi.json`, so every route the app includes is fuzzed without
a list to keep up to date. It runs schemathesis' engine (the phases of `Options.phases`) over
every operation but `EXCLUDED`, with the checks of `CHECKS`, as the bearer of `token`. Requests
are generated from the capped document of `tests/fuzz/caps.py` (answers are still checked
against the documented schemas). The server's own tracebacks of its 500s are collected when
it runs in this process (`Figures.tracebacks`, see `tests/fuzz/tracebacks.py`).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

from netra.config import Settings
from tests.support.roles import grant
from tests.fuzz.caps import HTTP_METHODS, request_side
from tests.fuzz.tracebacks import server_tracebacks

# operation -> why the fuzzer leaves it out (only what would end the fuzz session itself)
EXCLUDED: dict[str, str] = {
    "POST /auth/logout": "revokes the session's bearer token: every later request would answer 401",
}
CHECKS = ("not_a_server_error", "response_schema_conformance")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
ADMIN_EMAIL = "fuzz-admin@example.com"
PLANTED_EVENTS = 200
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")
FEATURES = ("support", "search", "summaries", "agents")
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
# Hypothesis' own files (caches only: its Unicode tables cost ~2 s of CPU to compute), kept between runs
HYPOTHESIS_HOME = Path.home() / ".cache" / "netra" / "fuzz-hypothesis"


def planted_event(i: int) -> dict[str, Any]:
    """Return the `i`-th planted workload event (deterministic, valid)."""
    return {"timestamp": (T0 + timedelta(minutes=7 * i)).isoformat(), "request_id": f"fuzz-{i}",
            "model": MODELS[i % len(MODELS)], "feature": FEATURES[i % len(FEATURES)], "user_id": f"u{i % 9}",
            "input_tokens": 300 + (37 * i) % 2000, "cached_input_tokens": (i % 3) * 100,
            "output_tokens": 20 + (11 * i) % 400, "latency_ms": 250 + (53 * i) % 3000}


# what `prepare` creates before fuzzing, so ids exist: (method, path, JSON body); the events go
# in with an ingest key of the admin's personal workspace (ingest takes keys, not user tokens)
SEEDS: tuple[tuple[str, str, Any], ...] = (
    ("POST", "/api/threads", {"title": "fuzz", "metadata": {"origin": "make fuzz"}}),
)
PLANTED: tuple[str, str, Any] = ("POST", "/api/ingest/events", [planted_event(i) for i in range(PLANTED_EVENTS)])


@dataclass(frozen=True)
class Options:
    """How much to fuzz: examples per operation and phase, the phases, the random seed."""

    max_examples: int = 25
    phases: tuple[str, ...] = PHASES
    seed: int | None = None
    target_success: bool = False  # let schemathesis steer generation towards 2xx answers (see `untargeted`)


@dataclass(frozen=True)
class Finding:
    """One distinct failure: operation, check, what failed, the answer's status, a curl line."""

    operation: str
    check: str
    title: str
    message: str
    status: int | None
    reproduce: str


@dataclass
class Figures:
    """What a fuzz run did and found."""

    operations: list[str]
    tested: set[str] = field(default_factory=set)
    cases: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    engine_errors: list[str] = field(default_factory=list)
    tracebacks: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    @property
    def untested(self) -> list[str]:
        """Operations of the OpenAPI (exclusions left out) that no test case reached."""
        return sorted(set(self.operations) - self.tested)

    @property
    def ok(self) -> bool:
        """Whether the run found nothing: no failure, no 5xx, no engine error, nothing untested."""
        return not (self.failures or self.server_errors or self.engine_errors or self.untested)


def embedded_settings(home: Path, database_url: str = "", redis_url: str = "") -> Settings:
    """Return the fuzzed server's settings: dev auth, no rate limit, no model; SQLite unless given a URL."""
    return Settings(home=home, database_url=database_url or f"sqlite:///{home / 'netra.db'}", redis_url=redis_url,
                    auth_mode="dev", rate_limit_per_minute=0, log_json=False, llm_base_url="", llm_api_key="")


def prepare(client: httpx.Client, settings: Settings) -> str:
    """Sign in as the fuzz admin (the role stored, as `netra users role` does), plant `SEEDS`; return the token."""
    answer = client.post("/auth/dev-login", json={"email": ADMIN_EMAIL})
    answer.raise_for_status()
    grant(settings, ADMIN_EMAIL, "admin")
    token = answer.json()["access_token"]
    seed(client, token)
    return token


def seed(client: httpx.Client, token: str) -> None:
    """Create `SEEDS` as the bearer of `token`, and ingest the planted events with a key of their workspace."""
    for method, path, body in SEEDS:
        client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    plant(client, ingest_key(client, token))


def plant(client: httpx.Client, key: str) -> None:
    """Ingest the planted events with an ingest key."""
    method, path, body = PLANTED
    client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"}).raise_for_status()


def ingest_key(client: httpx.Client, token: str) -> str:
    """Return a new ingest key of the personal workspace of the bearer of `token`."""
    headers = {"Authorization": f"Bearer {token}"}
    workspaces = client.get("/api/workspaces", headers=headers).json()["items"]
    workspace = next(w["id"] for w in workspaces if w["personal"])
    created = client.post(f"/api/workspaces/{workspace}/keys", json={"name": "fuzz"}, headers=headers)
    return created.raise_for_status().json()["key"]


def operations_of(openapi: dict[str, Any]) -> list[str]:
    """Return every operation of an OpenAPI document as 'METHOD /path', `EXCLUDED` left out."""
    labels = (f"{method.upper()} {path}" for path, item in openapi.get("paths", {}).items()
              for method in item if method in HTTP_METHODS)
    return sorted(label for label in labels if label not in EXCLUDED)


def engine_config(url: str, token: str, options: Options) -> Any:
    """Return the schemathesis configuration of a run: base URL, bearer header, checks, phases, examples."""
    import schemathesis

    seed = {} if options.seed is None else {"seed": options.seed}
    return schemathesis.Config.from_dict({
        **seed, "base-url": url, "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": options.max_examples, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {name: {"enabled": name in options.phases} for name in PHASES}})


def fuzz(url: str, token: str, options: Options = Options()) -> Figures:
    """Fuzz every operation of the server at `url` as the bearer of `token`; return the figures."""
    openapi = httpx.get(f"{url}/openapi.json", timeout=60.0).raise_for_status().json()
    figures, started = Figures(operations_of(openapi)), time.perf_counter()
    with (hypothesis_home(), frozen_heap(), server_tracebacks(figures.tracebacks),
          untargeted(not options.target_success)):
        run_engine(engine_schema(openapi, engine_config(url, token, options)), figures)
    figures.wall_s = time.perf_counter() - started
    return figures


def engine_schema(openapi: dict[str, Any], config: Any) -> Any:
    """Return the schemathesis schema of the capped document, `EXCLUDED` left out."""
    import schemathesis
    import schemathesis.specs.openapi.checks  # noqa: F401  (registers the OpenAPI checks of CHECKS)

    return schemathesis.openapi.from_dict(request_side(openapi), config=config).exclude(name=list(EXCLUDED))


def run_engine(schema: Any, figures: Figures) -> None:
    """Run every enabled phase over `schema`, adding each event to `figures`."""
    from schemathesis.engine import from_schema

    for event in from_schema(schema).execute():
        record(figures, event)


@contextlib.contextmanager
def hypothesis_home() -> Iterator[None]:
    """Keep Hypothesis' files in `HYPOTHESIS_HOME` instead of `./.hypothesis` (no example database is kept)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(HYPOTHESIS_HOME)
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Leave the objects alive before the block out of full collections (one per engine thread: `register_random`)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def untargeted(active: bool) -> Iterator[None]:
    """Stop schemathesis from steering generation towards 2xx answers, while the block runs.

    After every test case schemathesis calls `hypothesis.target` with the operation's success
    rate; where no generated input can succeed (every id unknown: 404) Hypothesis' hill
    climbing then spends 50-100 s per operation and draws half the examples.
    """
    from schemathesis.generation import metrics

    steer = metrics.maximize
    metrics.maximize = steer if not active else lambda *args, **kwargs: None
    try:
        yield
    finally:
        metrics.maximize = steer


def record(figures: Figures, event: Any) -> None:
    """Add one engine event to the figures (finished scenarios and errors; the rest is progress)."""
    from schemathesis.engine import events

    handlers: dict[type, Callable[[Figures, Any], None]] = {
        events.ScenarioFinished: record_scenario, events.NonFatalError: record_error,
        events.FatalError: record_error}
    handler = handlers.get(type(event))
    if handler is not None:
        handler(figures, event)


def record_error(figures: Figures, event: Any) -> None:
    """Record an engine error: the fuzzer could not test an operation, or could not run at all."""
    error = getattr(event, "value", None) or getattr(event, "exception", None)
    figures.engine_errors.append(f"{getattr(event, 'label', 'engine')}: {type(error).__name__}: {error}")


def record_scenario(figures: Figures, event: Any) -> None:
    """Record the test cases of one finished scenario: counts, 5xx, check failures."""
    recorder = event.recorder
    figures.cases += len(recorder.cases)
    for case_id, node in recorder.cases.items():
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        record_case(figures, node.value, recorder.checks.get(case_id, []), response)


def record_case(figures: Figures, case: Any, checks: list[Any], response: Any) -> None:
    """Record one test case: whether it exercised its operation, a 5xx, each failed check."""
    if response is not None and response.status_code >= 500:
        figures.server_errors += 1
    if checks and response is not None and case.method.upper() == case.operation.method.upper():
        figures.tested.add(case.operation.label)
    for check in checks:
        if check.failure_info is not None:
            record_failure(figures, case, check, response)


def record_failure(figures: Figures, case: Any, check: Any, response: Any) -> None:
    """Count a failed check and keep the first case of each distinct failure."""
    failure, label = check.failure_info.failure, f"{case.method.upper()} {case.path}"
    figures.failures[check.name] += 1
    status = response.status_code if response is not None else None
    figures.findings.setdefault((label, check.name, failure.title), Finding(
        label, check.name, failure.title, failure.message, status, check.failure_info.code_sample))


def figure_lines(figures: Figures, options: Options) -> list[str]:
    """Return the figures of a run, one per line."""
    failures = ", ".join(f"{check} {figures.failures[check]}" for check in CHECKS)
    cases = f"up to {options.max_examples} per operation and phase; phases {', '.join(options.phases)}"
    return [f"operations     {len(figures.operations)} in /openapi.json, {len(figures.tested)} exercised "
            f"(excluded: {', '.join(EXCLUDED)})", f"test cases     {figures.cases} ({cases}; seed {options.seed})",
            f"failures       {sum(figures.failures.values())} ({failures})", f"5xx answers    {figures.server_errors}",
            f"engine errors  {len(figures.engine_errors)}", f"untested       {', '.join(figures.untested) or 'none'}",
            f"wall time      {figures.wall_s:.1f} s"]


def summary(figures: Figures, options: Options) -> str:
    """Return the figures of a run, then each distinct failure, server traceback and engine error."""
    found = [f"\n[{f.check}] {f.operation} -> {f.status}: {f.title}\n{f.message}\n  {f.reproduce}"
             for f in figures.findings.values()]
    causes = [f"\n[server traceback x{n}] {where}" for where, n in figures.tracebacks.most_common()]
    errors = [f"\n[engine error] {error}" for error in figures.engine_errors]
    return "\n".join(figure_lines(figures, options) + found + causes + errors)

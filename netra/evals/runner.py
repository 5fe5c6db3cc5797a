"""Run an evaluation dataset through the agent graph; write results.json and report.md.

    results = run_eval("evals/datasets/core", "out/run1", get_settings(), progress=print_line)
    results["aggregates"]["finding_recall_micro"]   # 1.0

One analytics store serves the whole run (embedded chDB allows one data path per process):
the `store` given, else an embedded chDB under `NETRA_HOME/eval-analytics` (`eval_store_url`),
so an evaluation never empties the user's own analytics store. Per case the store is
truncated and the case's workload loaded (a scenario, a planted event set or shared traces),
unless the previous case loaded the same one; its events are then read back with one query for
the reference, whose truth of each scope is computed once per workload, and checked against
what the case states before the graph runs (a case that does not fit crashes at once). The graph runs with
the given settings: offline rules, or
the chat model they configure (`mode` records which; LangChain's usage-metadata callback
counts its tokens); checkpoints go to an in-memory SQLite.
A case that raises is recorded as failed with its error and the run goes on.
"""

from __future__ import annotations

import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.language_models import BaseChatModel

from netra.config import Settings
from netra.evals.dataset import Case, CaseScope, load_dataset
from netra.evals.evaluators import agents_run, evaluate, tools_called
from netra.evals.reference import ReferenceCatalog, ScopeTruth
from netra.evals.results import results_document, write_outputs
from netra.evals.truth import CaseTruth, Recommendation, check_case, judge_case, scope_truth
from netra.evals.usage import usage_summary
from netra.evals.workloads import load_workload, read_events, reference_catalog
from netra.graph.deps import Deps
from netra.graph.hooks import Hooks, RetrySettings
from netra.graph.runner import ask
from netra.llm.factory import chat_model
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.cache import open_cache
from netra.workloads.catalog import PriceCatalog, load_catalog

ProgressFn = Callable[[int, int, dict], None]
CHECKPOINTS_URL = "sqlite:///:memory:"  # every ask() opens (and drops) its own
_REQUEST_KEYS = ("intent", "goal", "filters", "window_label", "target_saving_pct", "preserve_quality")


def eval_store_url(settings: Settings) -> str:
    """Return the embedded chDB an evaluation loads its workloads into (never the user's store)."""
    return f"chdb://{(settings.home / 'eval-analytics').resolve()}"


@dataclass
class EvalSession:
    """The store, catalog and settings of one evaluation run, and the workload now loaded."""

    store: AnalyticsStore
    catalog: PriceCatalog
    settings: Settings
    reference: ReferenceCatalog
    llm: BaseChatModel | None = None
    loaded: tuple | None = None
    manifest: dict = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    truths: dict[tuple[str, CaseScope], ScopeTruth | None] = field(default_factory=dict)
    checked_s: float = 0.0  # how long the reference took to check the current case

    @property
    def mode(self) -> str:
        """Return `offline` (rules) or `model` (settings configure a chat model)."""
        return "offline" if self.settings.offline else "model"

    def load(self, case: Case) -> dict[str, Any]:
        """Make the case's workload the store's content; return {load_seconds, workload_reused}."""
        if case.data_key == self.loaded:
            return {"load_seconds": 0.0, "workload_reused": True}
        started = time.perf_counter()
        self._reload(case)
        return {"load_seconds": time.perf_counter() - started, "workload_reused": False}

    def _reload(self, case: Case) -> None:
        self.loaded, self.manifest, self.events, self.truths = None, {}, [], {}  # a failed load leaves nothing
        self.store.truncate()
        self.manifest = load_workload(self.store, self.catalog, case)
        self.events, self.loaded = read_events(self.store), case.data_key

    def check(self, case: Case) -> None:
        """Check that the case's workload holds what the case states (`CaseError` if not), computing its
        scope's truth once per workload."""
        key, started = (case.intent, case.scope), time.perf_counter()
        if key not in self.truths:
            self.truths[key] = scope_truth(case, self.events, self.reference)
        check_case(case, self.truths[key])
        self.checked_s = time.perf_counter() - started

    def truth(self, case: Case, recommendations: list[dict]) -> CaseTruth:
        """Return the reference truth of the checked case's scope judging the run (the check's time included)."""
        started = time.perf_counter()
        truth = judge_case(self.truths[(case.intent, case.scope)], recommendations)
        return replace(truth, seconds=self.checked_s + time.perf_counter() - started)

    def deps(self) -> Deps:
        """Return fresh graph dependencies over the session's store (quiet hooks, own tool cache)."""
        retry = RetrySettings(max(1, self.settings.agent_max_attempts), self.settings.agent_backoff_s)
        return Deps(store=self.store, catalog=self.catalog, settings=self.settings, hooks=Hooks(),
                    retry=retry, cache=open_cache(self.settings.redis_url), llm=self.llm)


def open_session(settings: Settings, store: AnalyticsStore | None = None,
                 catalog: PriceCatalog | None = None) -> EvalSession:
    """Return a session over `store` (default: the evaluation store), checkpoints in memory, and the
    chat model the settings configure (None offline), built as `deps_from_settings` builds it."""
    run_settings, catalog = settings.model_copy(update={"database_url": CHECKPOINTS_URL}), catalog or load_catalog()
    return EvalSession(store or open_store(eval_store_url(settings)), catalog, run_settings,
                       reference_catalog(catalog), llm=chat_model(run_settings))


def ask_case(session: EvalSession, case: Case) -> tuple[dict, dict[str, Any]]:
    """Ask the case's question on a new thread, once the case is checked against its workload (a case that
    does not fit crashes before the graph runs); return the final state and what was measured."""
    session.check(case)
    with get_usage_metadata_callback() as usage:
        started = time.perf_counter()
        state = ask(session.deps(), case.question, f"eval-{case.id}-{uuid.uuid4().hex[:8]}")
        seconds = time.perf_counter() - started
    info = {"seconds": seconds, "mode": session.mode, "usage": usage_summary(usage.usage_metadata, session.catalog)}
    return state, info


def observed(state: dict) -> dict[str, Any]:
    """Return what the run did, compactly: request, recommendations, agents, tools, errors."""
    request = state.get("request") or {}
    recs = [_recommendation(r) for r in state.get("recommendations") or []]
    return {"request": {k: request.get(k) for k in _REQUEST_KEYS}, "recommendations": recs,
            "agents": agents_run(state), "tools": tools_called(state), "errors": list(state.get("errors") or [])}


def _recommendation(rec: dict) -> dict[str, Any]:
    read = Recommendation.of(rec)
    return {"kind": rec.get("kind"), "feature": rec.get("feature"), "model": rec.get("model"),
            "params": dict(read.policy.params), "quality_risk": read.quality_risk,
            "monthly_saving_usd": read.stated_monthly_usd}


def truth_rows(manifest: dict) -> list[dict[str, Any]]:
    """Return a scenario manifest's planted inefficiencies as (kind, feature, monthly saving) rows.

    Kept beside the reference truth for comparison only: the manifest follows the generator's
    simplified rules, and no evaluator reads it.
    """
    keys = ("kind", "feature", "monthly_saving_usd")
    return [{k: i[k] for k in keys} for i in manifest.get("inefficiencies", [])]


def run_case(session: EvalSession, case: Case) -> dict[str, Any]:
    """Load, ask and evaluate one case; a crash becomes a failed case carrying the error."""
    started = time.perf_counter()
    try:
        return _evaluated(session, case)
    except Exception as exc:  # one broken case must not stop the run
        return _crashed(session, case, exc, time.perf_counter() - started)


def _evaluated(session: EvalSession, case: Case) -> dict[str, Any]:
    loaded = session.load(case)
    state, info = ask_case(session, case)
    truth = session.truth(case, list(state.get("recommendations") or []))
    outputs = evaluate(case, state, truth, info)
    return {**case.model_dump(mode="json"), "passed": all(o["passed"] for o in outputs.values()), "error": None,
            "seconds": info["seconds"], **loaded, "mode": info["mode"], "evaluators": outputs,
            "observed": observed(state), "truth": truth.document(), "manifest": truth_rows(session.manifest)}


def _crashed(session: EvalSession, case: Case, exc: Exception, seconds: float) -> dict[str, Any]:
    return {**case.model_dump(mode="json"), "passed": False, "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)[-4:]), "seconds": seconds, "load_seconds": None,
            "workload_reused": None, "mode": session.mode, "evaluators": {}, "observed": {}, "truth": {},
            "manifest": truth_rows(session.manifest)}


def progress_line(index: int, total: int, case: dict[str, Any]) -> str:
    """Return a case's progress line, e.g. `[3/21] mixed-optimize-cost ✓ 1.2 s`."""
    mark = "✓" if case["passed"] else "✗"
    why = f"  {case['error']}" if case.get("error") else ""
    return f"[{index}/{total}] {case['id']} {mark} {case['seconds']:.1f} s{why}"


def run_cases(session: EvalSession, cases: list[Case], progress: ProgressFn | None = None) -> list[dict]:
    """Run every case in order, calling `progress(index, total, case result)` after each."""
    results = []
    for index, case in enumerate(cases, start=1):
        results.append(run_case(session, case))
        if progress is not None:
            progress(index, len(cases), results[-1])
    return results


def run_eval(dataset_dir: str | Path, out_dir: str | Path, settings: Settings, store: AnalyticsStore | None = None,
             catalog: PriceCatalog | None = None, progress: ProgressFn | None = None,
             case_ids: list[str] | None = None) -> dict[str, Any]:
    """Run a dataset (or its `case_ids`); write out_dir/results.json and report.md; return the results."""
    cases, session = load_dataset(dataset_dir, case_ids), open_session(settings, store, catalog)
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    results = run_cases(session, cases, progress)
    doc = results_document(dataset_dir, session, results, started, time.perf_counter() - clock)
    return write_outputs(Path(out_dir), doc)

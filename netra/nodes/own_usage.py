"""Account for the run's model calls at its end: priced events stored apart, the summary on the report.

    report = with_usage(report, account(deps, state["llm_usage"] + reporting's own))

`account` turns the run's usage records into Netra's own workload events (priced, in the
workspace's usage workspace: `netra.llm.accounting`), stores them, and returns the summary
the report, `netra ask`, the records API and the chat page show. Storing is best effort:
a store that refuses the events leaves the summary, and the report, as they are.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from langchain_core.runnables.config import ensure_config

from netra.graph.deps import Deps
from netra.llm.accounting import RunUsage, costs_of, summary, usage_workspace
from netra.report.record import Report
from netra.report.usage import usage_section

LOG = logging.getLogger("netra.llm")


def thread_of_run() -> str:
    """Return the thread id of the running graph ("" outside a run)."""
    return str((ensure_config().get("configurable") or {}).get("thread_id", ""))


def _stored(deps: Deps, table: Any) -> None:
    try:
        deps.store.insert_events(table)
    except Exception as exc:  # the run's answer does not depend on its own accounting
        LOG.warning("storing Netra's own usage events failed: %s", type(exc).__name__)


def account(deps: Deps, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Price and store the run's model calls as Netra's own events; return the run's usage summary."""
    run = RunUsage(deps.settings, deps.workspace_id, thread_of_run(), uuid.uuid4().hex)
    table = run.priced(deps.catalog, records)
    if table is not None:
        _stored(deps, table)
    usage = summary(records, costs_of(records, table), deps.settings.llm_model)
    return {**usage, "workspace": usage_workspace(deps.workspace_id), "run_id": run.run_id}


def with_usage(report: Report, usage: dict[str, Any]) -> Report:
    """Return the report with its usage summary and the usage appendix at the end of its markdown."""
    return replace(report, usage=usage, markdown=report.markdown.rstrip() + "\n\n" + usage_section(usage))

"""Netra's own model usage as workload events: priced like any team's, kept apart from them.

    usage = account(deps, records, thread_id)   # events stored; the run's summary returned
    usage["total"]["cost_usd"], usage["agents"]["data"]["input_tokens"]

Each model call that reached the endpoint (`netra.llm.usage` records that are not cache
hits or skipped) becomes one workload event of Netra itself: feature `netra.<agent>`
(`FEATURES`), provider and model of the endpoint, tokens by class (input includes the
cached part, as in every event), latency, status (`error` for a refusal or a failure,
with `error_type`), the call's purpose, method and retries as attributes, and the run's
thread and run ids. The events are priced with the one pricing function
(`netra.workloads.pricing.price_table`), so a model the catalog does not know is
"not priced", never $0.

Where they are stored: in the analytics store, in the workspace's usage workspace,
`usage_workspace(workspace_id)` = `<workspace_id>/netra`. Every query is scoped to one
workspace (`netra.tools.scope.where`, the single scoping place), so the team's analyses
never see Netra's calls, and nothing else needs a filter; the Apex tools analyse them like
any team's when run in that workspace (`netra ask --netra-usage`, or a `ToolContext` with
that workspace id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlparse

import pyarrow as pa

from netra.config import Settings
from netra.workloads.catalog import PriceCatalog
from netra.workloads.events import events_from_records
from netra.workloads.pricing import price_table

USAGE_SUFFIX = "/netra"
OPENAI_HOST = "api.openai.com"
FEATURES: dict[str, str] = {"triage": "netra.triage", "data": "netra.data",
                            "optimizations_core": "netra.optimizations", "reporting": "netra.reporting",
                            "actions_to_meet_goals": "netra.actions"}
COUNTS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")
# status of a record that reached the endpoint -> the event's status
ENDING = {"ok": "ok", "refused": "error", "failed": "error"}


def usage_workspace(workspace_id: str) -> str:
    """Return the workspace that holds Netra's own model calls made for `workspace_id`."""
    return f"{workspace_id}{USAGE_SUFFIX}"


def provider_of(settings: Settings) -> str:
    """Return the provider of the endpoint: `openai` for OpenAI's API, else the server's host."""
    host = urlparse(settings.llm_base_url).hostname if settings.llm_base_url else OPENAI_HOST
    return "openai" if host == OPENAI_HOST else str(host or "local")


def sent(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the records of calls that reached the endpoint (not cache hits, not skipped, not failed unsent)."""
    return [r for r in records if r.get("status") in ENDING and not r.get("cache_hit") and r.get("attempts", 1) > 0]


@dataclass(frozen=True)
class RunUsage:
    """Who the run's model calls belong to: settings of the endpoint, workspace, thread and run."""

    settings: Settings
    workspace_id: str
    thread_id: str
    run_id: str

    def identity(self) -> dict[str, str]:
        """Return the columns every event of the run shares: endpoint, workspace, thread, run."""
        return {"provider": provider_of(self.settings), "model": self.settings.llm_model, "thread_id": self.thread_id,
                "run_id": self.run_id, "workspace_id": usage_workspace(self.workspace_id)}

    def event(self, record: dict[str, Any]) -> dict[str, Any]:
        """Return the workload event of one model call."""
        status = ENDING[record["status"]]
        return {**{k: int(record.get(k, 0)) for k in COUNTS}, **self.identity(),
                "feature": FEATURES.get(record["agent"], "netra." + record["agent"]),
                "timestamp": datetime.fromisoformat(record["at"]), "request_id": uuid.uuid4().hex, "status": status,
                "error_type": record.get("reason", "") if status != "ok" else "",
                "latency_ms": int(record.get("latency_ms", 0)), "attributes": attributes(record)}

    def priced(self, catalog: PriceCatalog, records: list[dict[str, Any]]) -> pa.Table | None:
        """Return the events of the calls that reached the endpoint, priced (None when none did)."""
        rows = [self.event(r) for r in sent(records)]
        return price_table(catalog, events_from_records(rows))[0] if rows else None


def attributes(record: dict[str, Any]) -> dict[str, str]:
    """Return an event's attributes: the call's purpose, structured-output method and retries."""
    return {"purpose": str(record.get("purpose", "")), "method": str(record.get("method", "")),
            "retries": str(record.get("retries", 0))}


def _count(key: str) -> Callable[[dict[str, Any]], int]:
    return lambda record: int(record.get(key, 0))


# summary field -> what one record adds to it
SUMS: dict[str, Callable[[dict[str, Any]], int]] = {
    **{key: _count(key) for key in COUNTS}, "calls": lambda r: 1,
    "sent": lambda r: int(r.get("status") in ENDING and not r.get("cache_hit")),
    "cache_hits": lambda r: int(bool(r.get("cache_hit"))), "retries": _count("retries"),
    "refusals": lambda r: int(r.get("status") == "refused"), "skipped": lambda r: int(r.get("status") == "skipped"),
}


def _totals(records: list[dict[str, Any]], costs: list[float | None]) -> dict[str, Any]:
    totals: dict[str, Any] = {name: sum(add(r) for r in records) for name, add in SUMS.items()}
    priced = [c for c in costs if c is not None]
    totals["latency_ms"] = round(sum(float(r.get("latency_ms", 0)) for r in records), 1)
    totals["cost_usd"] = round(sum(priced), 8) if len(priced) == len(costs) else None
    return totals


def summary(records: list[dict[str, Any]], costs: list[float | None], model: str) -> dict[str, Any]:
    """Return the run's usage: per agent and in total (cost None when a call was not priced)."""
    agents = list(dict.fromkeys(r["agent"] for r in records))
    per = {a: _totals([r for r in records if r["agent"] == a], [c for r, c in zip(records, costs) if r["agent"] == a])
           for a in agents}
    return {"model": model, "agents": per, "total": _totals(records, costs)}


def _cost(pair: tuple[float, int]) -> float | None:
    cost, priced = pair
    return float(cost) if priced else None


def costs_of(records: list[dict[str, Any]], table: pa.Table | None) -> list[float | None]:
    """Return each record's cost: its event's priced cost, 0 when nothing was sent, None when not priced."""
    pairs = iter(zip(table["cost_usd"].to_pylist(), table["priced"].to_pylist())) if table is not None else iter(())
    sent_ids = {id(r) for r in sent(records)}
    return [_cost(next(pairs)) if id(r) in sent_ids else 0.0 for r in records]

"""The report's appendix of Netra's own model usage: tokens, latency and cost per agent and in total.

    markdown += "\n" + usage_section(report["usage"])

A run in model mode ends its report with `## Appendix: model usage` (offline runs make no
model calls and have none): one row per agent that used the model and a total row, with
input tokens (and the cached part), output tokens, calls (cache hits of the LLM response
cache, retries, refusals and calls not sent because they could not fit the context apart),
latency and cost. A cost the catalog cannot price is "not priced", never $0.
"""

from __future__ import annotations

from typing import Any

NOT_PRICED = "not priced (model not in the catalog)"
HEADER = ["## Appendix: model usage", "",
          "| agent | calls | input tokens | cached input | output tokens | cache hits | retries | refusals | not sent "
          "| latency | cost |", "|---|---|---|---|---|---|---|---|---|---|---|"]


def cost_text(cost: float | None) -> str:
    """Return a cost in dollars with four decimals (model calls cost fractions of a cent), or NOT_PRICED."""
    return NOT_PRICED if cost is None else f"${cost:,.4f}"


def usage_row(name: str, totals: dict[str, Any]) -> str:
    """Return one table row of an agent's (or the run's) usage."""
    cells = [name, totals["calls"], f"{totals['input_tokens']:,}", f"{totals['cached_input_tokens']:,}",
             f"{totals['output_tokens']:,}", totals["cache_hits"], totals["retries"], totals["refusals"],
             totals["skipped"], f"{totals['latency_ms'] / 1000:.1f} s", cost_text(totals["cost_usd"])]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def usage_section(usage: dict[str, Any]) -> str:
    """Return the markdown appendix of the run's model usage."""
    rows = [usage_row(f"`{agent}`", totals) for agent, totals in usage["agents"].items()]
    note = f"Model `{usage['model']}`; Netra's own calls are workload events of workspace `{usage['workspace']}`."
    return "\n".join([*HEADER, *rows, usage_row("**total**", usage["total"]), "", note, ""])


def usage_line(usage: dict[str, Any]) -> str:
    """Return the run's model usage in one line (for `netra ask`)."""
    total = usage["total"]
    return (f"model usage ({usage['model']}): {total['calls']} calls, {total['cache_hits']} from the LLM cache, "
            f"{total['input_tokens']:,} input tokens ({total['cached_input_tokens']:,} cached), "
            f"{total['output_tokens']:,} output tokens, cost {cost_text(total['cost_usd'])}")

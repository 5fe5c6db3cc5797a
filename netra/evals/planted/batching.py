"""Planted workloads where unstreamed, sessionless traffic is not evidence that it can wait.

Prompts are 800-3,000 tokens without prefix hashes (nothing to cache), outputs 50-300 tokens end
in `stop` under a `max_tokens` of 1,024. A request nobody streams logs no first-token time.

| workload | feature | model | traffic | users, sessions, attributes | the reference says |
|---|---|---|---|---|---|
| `unlogged_interactive` | `email_drafts` | gpt-4.1 | 150 a day, 08:00-19:00, 14 days | users, no session, not streamed | no batch evidence: absence of a session or a first-token time is not a signal |
| | `nightly_export` | gpt-4.1 | 60 a night, 02:00-04:59, 14 days | no user | the schedule signal: batch saves |
| | `bulk_tagging` | gpt-4.1 | 70 a day at any hour, 14 days | users, `batch_eligible=true` | the declared signal: batch saves |
| `one_hour` | `checkout_assistant` | gpt-4.1 | 400 requests in one hour; 30% fail 2-3 times (`timeout` after 20-200 output tokens, billed), retried 1-5 s later | users, sessions, streamed | retry budget saves; a month is 720 of these hours |
| | `report_export` | gpt-4.1 | 120 requests in the same hour | no user, not streamed | no batch evidence: one hour cannot show a schedule |
| | `chat` | gpt-4o-mini | 600 requests in the same hour | users, sessions, streamed | nothing |
"""

from __future__ import annotations

from typing import Any

from netra.evals.planted._planter import HOUR_MS, Planter
from netra.evals.planted._shapes import Storm

DAYS = 14
ONE_HOUR_DAY, ONE_HOUR_AT = 3, 10  # the one-hour window: 10:00-11:00 UTC of the fourth day


def request(planter: Planter) -> dict[str, Any]:
    """Return the token columns of one unhashed request."""
    return {"input_tokens": planter.rng.randint(800, 3_000), "output_tokens": planter.rng.randint(50, 300),
            "max_tokens": 1024}


def unattended(planter: Planter, times: list[int], feature: str, **columns: Any) -> None:
    """Add unstreamed gpt-4.1 requests with no session, 1.5-9 s each (and the given columns)."""
    for ms in times:
        planter.add(ms, feature, "gpt-4.1", [], latency_ms=planter.rng.randint(1_500, 9_000), **request(planter),
                    **columns)


def unlogged_interactive(planter: Planter) -> None:
    """Interactive traffic that logs no first token or session, a nightly job, and declared bulk work."""
    for ms in planter.daily(DAYS, 8, 19, 150):
        unattended(planter, [ms], "email_drafts", user_id=planter.person(ms)["user_id"])
    unattended(planter, planter.daily(DAYS, 2, 5, 60), "nightly_export")
    for ms in planter.daily(DAYS, 0, 24, 70):
        unattended(planter, [ms], "bulk_tagging", user_id=planter.person(ms)["user_id"],
                   attributes={"batch_eligible": "true"})


CHECKOUT = Storm("checkout_assistant", "gpt-4.1", 0.3, (2, 3), "timeout", True, (800, 3_000), (50, 300), 1024)


def one_hour(planter: Planter) -> None:
    """One hour of traffic: a retry storm, an unattended export and healthy chat."""
    start = planter.at(ONE_HOUR_DAY, ONE_HOUR_AT)
    CHECKOUT.add(planter, planter.spread(400, start, start + HOUR_MS - 30_000))
    unattended(planter, planter.spread(120, start, start + HOUR_MS), "report_export")
    for ms in planter.spread(600, start, start + HOUR_MS):
        planter.add(ms, "chat", "gpt-4o-mini", [], **request(planter), **planter.person(ms))

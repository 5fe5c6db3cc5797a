"""The events query of the cache replay: every scoped event with prefix hashes, its shared run and
the hash its run stops at (docs/caching.md, "How the engine computes it", step 1).

    query = EventsQuery.of(scope, PRICING_EXTRA)          # inside `scope.in_workspace`
    table = store.arrow(query.sql(COUNTED_TWICE_SQL), query.params)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netra.tools._event_frame import ARROW_SETTINGS
from netra.tools.scope import Scope, where
from netra.workloads.pricing import BILLED_SQL, PRICING_COLUMNS

# the pricing columns a caller may add to the replay's query (a fixed whitelist)
PRICING_EXTRA: tuple[str, ...] = tuple(c for c in PRICING_COLUMNS if c != "model")
_SELECTED = ("input_tokens",)  # pricing columns the query selects anyway

# `{candidates}`: hashes some other stored event of the workspace may also hold, from
# `kv_prefix_seen` (`_sql.COUNTED_TWICE_SQL`, else `_sql.prefix_candidates`)
# An event's run: its leading hashes among the candidates (the first one not among them is at
# `first_unshared`, 1-based; 0 when there is none). Every hash is tested: cheaper than
# short-circuiting the events whose first hash is not a candidate (a filtered copy of theirs).
_RUN_LENGTH = ("toUInt32(if((arrayFirstIndex(x -> x NOT IN ({candidates}), prefix_hashes) AS first_unshared) = 0, "
               "length(prefix_hashes), first_unshared - 1))")

# One row per scoped event with prefix hashes, in storage order (numpy sorts: faster than an
# ORDER BY), with its shared run (empty when refused) and the hash the run stops at (NULL when
# refused or when the run holds every hash): `_cache_replay._load` checks no two stop at one.
# `input_tokens` caps the tokens of an event's blocks (its last block may be partial).
EVENTS_SQL = f"""WITH {BILLED_SQL} * {_RUN_LENGTH} AS run_length
SELECT request_id, feature, provider, model, toUnixTimestamp64Milli(timestamp) AS ts_ms,
       block_size AS bs, input_tokens, {BILLED_SQL} AS is_billed, arraySlice(prefix_hashes, 1, run_length) AS run,
       if(is_billed AND run_length < length(prefix_hashes), prefix_hashes[run_length + 1], NULL) AS stop{{columns}}
FROM workload_events {{where}}
{ARROW_SETTINGS}"""


@dataclass(frozen=True)
class EventsQuery:
    """The events query of one scope: its SQL with `{candidates}` open, and its bound parameters."""

    template: str
    params: dict[str, Any]

    @classmethod
    def of(cls, scope: Scope, columns: tuple[str, ...] = ()) -> EventsQuery:
        """Build the query of the scope's events with prefix hashes, plus pricing `columns` (`PRICING_EXTRA`)."""
        clause, params = where(scope, "notEmpty(prefix_hashes)")
        return cls(EVENTS_SQL.replace("{where}", clause).replace("{columns}", extra_columns(columns)), params)

    def sql(self, candidates: str) -> str:
        """Return the query with the hashes its runs are tested against."""
        return self.template.replace("{candidates}", candidates)


def extra_columns(columns: tuple[str, ...]) -> str:
    """Return `, a, b` for the requested pricing columns the query lacks; raise on any other name."""
    unknown = sorted(set(columns) - set(PRICING_EXTRA))
    if unknown:
        raise ValueError(f"columns {unknown} are not pricing columns {PRICING_EXTRA}")
    return "".join(f", {name}" for name in columns if name not in _SELECTED)

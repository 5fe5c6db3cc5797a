"""The scoped attempts the latency gains simulator replays, read once per scope and data version.

    found = scoped_attempts(ctx, q, scope, ["chat", "summarizer"])   # numpy columns, as `attempts`

The chains and retries of `error_rates.ATTEMPTS_SQL` are windows partitioned by (feature,
model, prompt_hash): a feature's attempts do not depend on which other features are read. So
every scoped feature's attempts are read with one bound query (kept per store and data
version in `_cache_replay.memo`, shared by every round of every `policy_simulator` call of an
analysis) and each call keeps the rows of its features. The query is recorded as evidence on
every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._sql import Queries
from netra.tools.base import Evidence, ToolContext
from netra.tools.error_rates import ATTEMPTS_SQL
from netra.tools.scope import Scope, where


def attempts_query(scope: Scope, window_s: int) -> tuple[str, dict[str, Any]]:
    """Return the SQL and bound parameters of every scoped feature's attempts."""
    clause, params = where(scope)
    return ATTEMPTS_SQL.replace("{where}", clause), {**params, "gap_ms": window_s * 1000}


def scoped_attempts(ctx: ToolContext, q: Queries, scope: Scope, features: list[str],
                    window_s: int = 60) -> dict[str, np.ndarray]:
    """Return the scoped attempts of `features` as numpy columns (`error_rates.attempts`' columns)."""
    sql, params = attempts_query(scope, window_s)
    q.evidence.append(Evidence(sql=sql, params=params))
    table = memo_of(ctx.store, "attempts").get(Loaded(sql, params), lambda: ctx.store.arrow(sql, params))
    kept = table.filter(pc.is_in(table["f"], value_set=pa.array(features, pa.string())))
    return {name: kept.column(name).to_numpy() for name in kept.column_names}

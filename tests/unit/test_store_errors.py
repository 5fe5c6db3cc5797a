"""ClickHouse's errors translated: a value the store refuses is the caller's (400), the rest a 503; no text leaks."""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

from netra.errors import ServiceError
from netra.persistence._store_errors import AnalyticsValueError, store_error

LEAKS = ("DB::Exception", "SELECT", "workload_events", "/var/lib", "ch.internal", "analytics_prod", "secret")
TEXT = ("Code: {code}. DB::Exception: Value 99999999999999999999 cannot be parsed as UInt64 for query parameter "
        "'top_n': SELECT feature FROM analytics_prod.workload_events LIMIT {{top_n:UInt64}}, at /var/lib/clickhouse "
        "on ch.internal:8123 (user default:secret)")

# the exception raised -> what it becomes, and the parameter its message names
CASES = [
    (DatabaseError(TEXT.format(code=457), code=457), AnalyticsValueError, "`top_n`"),
    (DatabaseError(TEXT.format(code=72), code=None), AnalyticsValueError, "`top_n`"),  # the code read from the text
    (DatabaseError(TEXT.format(code=321), code=321), AnalyticsValueError, "`top_n`"),
    (DataError("numeric value out of range"), AnalyticsValueError, "a value sent"),
    (DatabaseError(TEXT.format(code=60), code=60), ServiceError, "ClickHouse error 60"),
    (OperationalError("HTTPDriver for http://ch.internal:8123 received ConnectionRefused"), ServiceError,
     "OperationalError"),
    (RuntimeError("chDB: /var/lib/netra/analytics is busy"), ServiceError, "RuntimeError"),
]


@pytest.mark.parametrize(("raised", "kind", "named"), CASES,
                         ids=["bad-parameter", "code-in-text", "out-of-range", "data-error", "unknown-table",
                              "unreachable", "busy-path"])
def test_store_errors_are_translated_without_backend_text(raised: Exception, kind: type, named: str):
    error = store_error(raised, "query")
    assert type(error) is kind and named in str(error)
    assert [leak for leak in LEAKS if leak in str(error)] == []

"""What a failure of the analytics store means for its caller: ClickHouse's errors translated.

    except Exception as exc:  # clickhouse-connect raises many types
        raise store_error(exc, "query") from exc

A bound parameter ClickHouse cannot read or hold (a scope date before 1900 for a
`DateTime64`, a number out of its type's range) is the caller's mistake: `AnalyticsValueError`,
a `UserInputError` (the API answers 400), naming the parameter when ClickHouse says which.
Every other failure is a `ServiceError` (503) naming only ClickHouse's error code. Neither
message carries ClickHouse's own text, which quotes the SQL, hosts, database names and file
paths: that text goes to the `netra.analytics` log instead.
"""

from __future__ import annotations

import logging
import re

from clickhouse_connect.driver.exceptions import DataError

from netra.errors import NetraError, ServiceError, UserInputError

LOG = logging.getLogger("netra.analytics")
CODE = re.compile(r"\bCode:\s*(\d+)")
CREDENTIALS = re.compile(r"//[^/@\s]+@")  # user:password@ of a URL, masked in the log
PARAMETER = re.compile(r"query parameter '(\w+)'")

# what the store was doing -> how its failure begins
DOING: dict[str, str] = {"query": "analytics query failed", "connect": "cannot open the analytics store"}

# ClickHouse error code -> its name, for the codes a value sent as a bound parameter causes
VALUE_CODES: dict[int, str] = {
    6: "CANNOT_PARSE_TEXT",
    27: "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
    38: "CANNOT_PARSE_DATE",
    41: "CANNOT_PARSE_DATETIME",
    69: "ARGUMENT_OUT_OF_BOUND",
    70: "CANNOT_CONVERT_TYPE",
    72: "CANNOT_PARSE_NUMBER",
    321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    407: "DECIMAL_OVERFLOW",
    457: "BAD_QUERY_PARAMETER",
}


class AnalyticsValueError(UserInputError):
    """A value sent to the analytics store is one it cannot read or hold (a date before 1900, an overflow)."""


def clickhouse_code(exc: Exception) -> int | None:
    """Return ClickHouse's error code of `exc` (its `code`, else the `Code: N` of its text), or None."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    found = CODE.search(str(exc))
    return int(found.group(1)) if found else None


def value_error(exc: Exception) -> AnalyticsValueError:
    """Return the error of a value the store refused, naming the parameter when ClickHouse does."""
    found = PARAMETER.search(str(exc))
    which = f"the value of `{found.group(1)}`" if found else "a value sent"
    return AnalyticsValueError(f"{which} cannot be used by the analytics store: out of range for its type "
                               "(dates run from 1900 to 2299) or unreadable")


def store_error(exc: Exception, doing: str) -> NetraError:
    """Return the Netra error a failure of the store while `doing` (a key of DOING) means; log its text."""
    code = clickhouse_code(exc)
    LOG.warning("analytics %s failed (%s, code %s): %s", doing, type(exc).__name__, code,
                CREDENTIALS.sub("//***@", str(exc)))
    if code in VALUE_CODES or isinstance(exc, DataError):
        return value_error(exc)
    reason = f"ClickHouse error {code}" if code is not None else type(exc).__name__
    return ServiceError(f"{DOING[doing]} ({reason}); the server log has the details")

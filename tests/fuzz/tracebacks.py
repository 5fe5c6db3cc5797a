"""The tracebacks of a server's 500s, when it runs in the fuzzer's process.

    counts = Counter()
    with server_tracebacks(counts):
        ...                        # requests; each 500 adds "unhandled X on GET /path: X: msg at file:line in f"

`netra.server.errors.internal_error` logs "unhandled <type> on <method> <path>" on `netra.server`,
then Starlette re-raises and uvicorn logs the traceback on `uvicorn.error`: the collector pairs
the two (requests are answered one at a time while fuzzing).
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections import Counter
from pathlib import Path
from typing import Iterator

import netra

TRACEBACK_LOGGERS = ("netra.server", "uvicorn.error")
NETRA_DIR = str(Path(netra.__file__).resolve().parent)


class TracebackCollector(logging.Handler):
    """Counts the server's unhandled exceptions by request and innermost Netra frame."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__(logging.ERROR)
        self.counts, self.route = counts, ""

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the request of an 'unhandled' line; count a traceback under the last request."""
        if record.exc_info and record.exc_info[1] is not None:
            self.counts[f"{self.route or 'outside a request'}: {cause(record.exc_info[1])}"] += 1
        elif record.getMessage().startswith("unhandled"):
            self.route = record.getMessage().split(" (request_id=")[0]


def cause(exc: BaseException) -> str:
    """Return 'Type: message at file:line in function' of the innermost Netra frame of `exc`."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if frame.filename.startswith(NETRA_DIR)] or frames[-1:]
    where = f" at {ours[-1].filename}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    return f"{type(exc).__name__}: {str(exc)[:300]}{where}"


@contextlib.contextmanager
def server_tracebacks(counts: Counter[str]) -> Iterator[None]:
    """Collect, while fuzzing, the tracebacks an in-process server logs for its 500s."""
    collector = TracebackCollector(counts)
    _each_logger("addHandler", collector)
    try:
        yield
    finally:
        _each_logger("removeHandler", collector)


def _each_logger(method: str, handler: logging.Handler) -> None:
    for name in TRACEBACK_LOGGERS:
        getattr(logging.getLogger(name), method)(handler)

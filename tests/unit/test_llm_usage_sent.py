"""Which of Netra's own model calls count as sent (and so become priced usage events)."""

from __future__ import annotations

import time

from langchain_core.messages import AIMessage

from netra.llm.accounting import sent
from netra.llm.guard import FeatureRefused, ModelUnavailable
from netra.llm.usage import CallRecord


def finished(attempts: int, exc: Exception | None, tokens: int = 0) -> dict:
    """Return the plain record of a call that made `attempts` HTTP requests and ended with `exc`."""
    record = CallRecord("data", "tool_step")
    record.measure(AIMessage("ok", usage_metadata={"input_tokens": tokens, "output_tokens": 1,
                                                   "total_tokens": tokens + 1}) if tokens else None)
    record.finish(time.perf_counter(), attempts, exc)
    return record.to_dict()


def test_only_calls_that_reached_the_endpoint_are_sent():
    """An answered call and a refused request are sent; a cache hit and a failure before any request are not."""
    answered, refused = finished(1, None, tokens=900), finished(2, FeatureRefused("json_schema", "no"))
    cached, unsent = finished(0, None), finished(0, ModelUnavailable("circuit open"))
    assert sent([answered, refused, cached, unsent]) == [answered, refused]
    assert (answered["attempts"], refused["retries"], unsent["status"]) == (1, 1, "failed")

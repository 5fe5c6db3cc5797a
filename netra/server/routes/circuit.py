"""Circuit breakers of the model endpoints: their state, and an admin reset.

    GET  /api/health/circuits                      (signed in)
    {"breakers": [{"endpoint": "http://127.0.0.1:8000/v1", "state": "open", "failures": 5,
                   "calls": 12, "refused": 3, "retry_in_s": 12.3}], "offline": false}
    POST /api/admin/circuits/{endpoint}/reset      (role admin) -> the breaker, closed

The endpoint is the breaker's URL, percent-encoded into the path
(`/api/admin/circuits/http%3A%2F%2F127.0.0.1%3A8000%2Fv1/reset`); an endpoint without a
breaker answers 404. `offline` is true when no model is configured (agents run without one).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from netra.config import Settings
from netra.llm import breaker
from netra.persistence.repositories.base import NotFoundError
from netra.server.deps import get_settings, require_role, signed_in

router = APIRouter(tags=["circuits"])


@router.get("/api/health/circuits", dependencies=[Depends(signed_in)])
def circuits(settings: Settings = Depends(get_settings)) -> dict[str, Any]:
    """Answer every breaker's state and whether agents run offline."""
    return {"breakers": breaker.snapshots(), "offline": settings.offline}


@router.post("/api/admin/circuits/{endpoint:path}/reset",
             dependencies=[Depends(signed_in), Depends(require_role("admin"))])
def reset(endpoint: str) -> dict[str, Any]:
    """Close the breaker of `endpoint` (404 when it has none); answer its state."""
    found = breaker.BREAKERS.get(endpoint)
    if found is None:
        raise NotFoundError(f"no circuit breaker for endpoint {endpoint!r}")
    found.record_success()
    return found.snapshot()

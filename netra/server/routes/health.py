"""Health: `GET /healthz` answers while the process serves requests (it does not touch the store)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Answer that the server is up."""
    return {"status": "ok"}

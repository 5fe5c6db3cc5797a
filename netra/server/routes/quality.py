"""Quality: check that every number in a report is one a tool computed.

    POST /api/quality/validate     (signed in)
    {"report_id": "9f2c..."}                                    # one of the user's stored reports
    {"markdown": "Spend was $1,234.50 ...", "figures": [{"name": "spend", "value": 1234.5, "unit": "usd"}]}
    -> {"grounded": false, "numbers": 2, "ungrounded": [{"text": "3", "sentence": "... over 3 days."}]}

A stored report is checked against the figures it cites (`structured.citations`); another
user's report answers 404 like a missing one. The body must name either `report_id` or
`markdown` (422 otherwise; unknown fields too). Numbers in code spans, fenced blocks, quoted lines and
ordered-list markers are not checked (`netra.report.cite.ungrounded`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field, model_validator

from netra.persistence.uow import UnitOfWork
from netra.report.validate import Figure, check, figures_of
from netra.server.owned import Body, SignedIn, Uow, owned

router = APIRouter(tags=["quality"])
MAX_MARKDOWN_CHARS = 1_000_000


class FigureIn(Body):
    """A number a tool computed."""

    name: str = Field(max_length=200)
    value: float
    unit: str | None = Field(None, max_length=32)


class ValidateIn(Body):
    """What to check: a stored report, or markdown with the figures it may quote."""

    report_id: str | None = Field(None, min_length=1, max_length=200)
    markdown: str | None = Field(None, max_length=MAX_MARKDOWN_CHARS)
    figures: list[FigureIn] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def one_source(self) -> ValidateIn:
        """Require exactly one of `report_id` and `markdown`."""
        if (self.report_id is None) == (self.markdown is None):
            raise ValueError("send either report_id or markdown (with figures), not both")
        return self


async def report_check(uow: UnitOfWork, user_id: str, report_id: str) -> dict[str, Any]:
    """Check the user's stored report against the figures it cites (404 when missing or another's)."""
    report = await owned(uow.reports, user_id, report_id, "report")
    return check(report.markdown, figures_of(report.structured or {}))


@router.post("/api/quality/validate")
async def validate(body: ValidateIn, user: SignedIn, uow: Uow) -> dict[str, Any]:
    """Answer whether every number of the report is grounded, how many were checked, and the others."""
    if body.report_id is not None:
        return await report_check(uow, user.user_id, body.report_id)
    figures = [Figure(figure.name, figure.value, figure.unit) for figure in body.figures]
    return check(body.markdown or "", figures)

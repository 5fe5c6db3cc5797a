"""Reports of the signed-in user, as JSON, markdown or a standalone HTML page.

    GET /api/reports?limit=&offset=              -> page of my reports, newest first
    GET /api/reports/{report_id}                 -> the report as JSON
    GET /api/reports/{report_id}/markdown        -> text/markdown attachment `netra-report-<id>.md`
    GET /api/reports/{report_id}/html            -> text/html page (rendered server-side)
    GET /api/reports/{report_id}/html?download=1 -> the same, as attachment `netra-report-<id>.html`

The HTML page is `netra.report.html.render_html(markdown, title)`: raw HTML in the markdown
is escaped, the page has no scripts, and it is served with a Content-Security-Policy that
allows only its own inline stylesheet. Its title is the run's question. Every route needs a
bearer token (401); a report that is missing or another user's answers 404 `not_found`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from netra.persistence.models import AgentReport
from netra.persistence.uow import UnitOfWork
from netra.report.html import CONTENT_SECURITY_POLICY, render_html
from netra.server.owned import PageQuery, SignedIn, Uow, owned
from netra.server.pagination import Page, page_of
from netra.server.views import ReportOut

router = APIRouter(prefix="/api/reports", tags=["reports"])
MAX_TITLE = 200
MARKDOWN_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "The report's markdown, as a download.",
          "content": {"text/markdown": {"schema": {"type": "string"}}}}}


def attachment(report_id: str, suffix: str) -> dict[str, str]:
    """Return the header that makes a browser save the answer as `netra-report-<id>.<suffix>`."""
    return {"Content-Disposition": f'attachment; filename="netra-report-{report_id}.{suffix}"'}


async def page_title(uow: UnitOfWork, owner_id: str, report: AgentReport) -> str:
    """Return the HTML page's title: the run's question, else 'Netra report <id>'."""
    run = await uow.runs.get(owner_id, report.run_id)
    question = " ".join((run.question if run else "").split())[:MAX_TITLE]
    return question or f"Netra report {report.id}"


@router.get("", response_model=Page[ReportOut])
async def list_reports(page: PageQuery, user: SignedIn, uow: Uow) -> Page[ReportOut]:
    """List the signed-in user's reports, newest first."""
    rows = await uow.reports.list(user.user_id, limit=page.limit, offset=page.offset)
    return page_of([ReportOut.of(row) for row in rows], page)


@router.get("/{report_id}", response_model=ReportOut)
async def get_report(report_id: str, user: SignedIn, uow: Uow) -> ReportOut:
    """Return one of the user's reports as JSON (404 when missing or another user's)."""
    return ReportOut.of(await owned(uow.reports, user.user_id, report_id, "report"))


@router.get("/{report_id}/markdown", response_class=Response, responses=MARKDOWN_ANSWER)
async def report_markdown(report_id: str, user: SignedIn, uow: Uow) -> Response:
    """Return the report's markdown as a `.md` download."""
    report = await owned(uow.reports, user.user_id, report_id, "report")
    return Response(report.markdown, media_type="text/markdown", headers=attachment(report.id, "md"))


@router.get("/{report_id}/html", response_class=HTMLResponse)
async def report_html(report_id: str, user: SignedIn, uow: Uow, download: bool = False) -> HTMLResponse:
    """Return the report as a standalone HTML page (a `.html` download with `?download=1`)."""
    report = await owned(uow.reports, user.user_id, report_id, "report")
    page = render_html(report.markdown, await page_title(uow, user.user_id, report))
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return HTMLResponse(page, headers=headers | (attachment(report.id, "html") if download else {}))

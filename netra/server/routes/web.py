"""The chat page: static files served by the app, no build step.

    GET /                  netra/web/index.html (text/html), with the page's own Content-Security-Policy
    GET /static/{path}     netra/web/static/... (CSS, ES modules, icon) through Starlette's StaticFiles

The page signs in, lists the user's threads, streams runs over `/ws` and shows reports
(docs/web.md). Its answer carries `PAGE_CSP`, stricter than the app-wide `default-src 'self'`
of `netra.server.middleware` (which it replaces only on this one answer, since the middleware
keeps a header the app set): scripts, styles, images and connections from this origin only
(`connect-src 'self'` covers the same-origin `ws:`/`wss:` socket), no plugins, no `<base>`,
no form posts, no framing. Static files keep the app-wide headers. The page needs no inline
script or style: charts are inlined SVG with presentation attributes only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"}

router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """Answer the chat page (its scripts and styles load from `/static`)."""
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


router.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

"""A report's markdown as one standalone HTML document (for download, print or the web page).

    page = render_html(report.markdown, title="Spend review")   # '<!DOCTYPE html>...'

Markdown is rendered with markdown-it-py's CommonMark preset plus GFM tables, with raw HTML
turned off: a `<script>` (or any tag) in the markdown comes out as escaped text, and
`javascript:` links are not linked. The title is escaped too. The page carries a small
inline stylesheet and no scripts; `CONTENT_SECURITY_POLICY` allows exactly that stylesheet
(by its hash), so a server sending it lets nothing else load or run.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from markdown_it import MarkdownIt

__all__ = ["CONTENT_SECURITY_POLICY", "STYLE", "render_html"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1, h2, h3 { line-height: 1.25; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fafbfc; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.75rem; overflow-x: auto; }
blockquote { margin: 0; padding-left: 1rem; border-left: 0.25rem solid #d0d7de; color: #57606a; }
@media print { body { margin: 0; max-width: none; } }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(markdown: str) -> str:
    """Return the HTML fragment of `markdown` (raw HTML escaped, tables rendered)."""
    return _MARKDOWN.render(markdown)


def render_html(markdown: str, title: str) -> str:
    """Return a complete HTML document: `title` (escaped) and the rendered `markdown`."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n{render_markdown(markdown)}</main>\n</body>\n</html>\n")

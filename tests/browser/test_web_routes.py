"""The page's routes and the spend chart over HTTP, on both backends (the API suite's `api` fixture).

No browser here: `/` and `/static/...` answer the page's files with the right types and
headers, and `/api/charts/spend.svg` draws exactly what `cost_analyzer` answers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from netra.server.routes.charts import money, window_args
from netra.server.routes.web import PAGE_CSP, WEB_DIR
from netra.workloads.synthetic import generate_and_load
from tests.support.tenants import IN_LOCAL, add_to_workspace

SVG = "{http://www.w3.org/2000/svg}"
STATIC = sorted(path.relative_to(WEB_DIR / "static").as_posix() for path in (WEB_DIR / "static").rglob("*.*"))
MEDIA = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
NOT_FILES = ["/static/nope.js", "/static/%2e%2e/index.html", "/static/..%2f..%2fserver%2fapp.py", "/static/js"]
BAD_DAYS = ["0", "367", "-1", "fourteen"]


def test_the_page_is_served_with_its_own_content_security_policy(api):
    answer = api.anonymous.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == PAGE_CSP
    assert '<script type="module" src="/static/js/main.js"></script>' in answer.text
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"


def test_every_static_file_is_served_with_its_type_and_nothing_else_is(api):
    for name in STATIC:  # one server for the whole table: the files do not depend on the backend
        answer = api.anonymous.get(f"/static/{name}")
        assert answer.status_code == 200 and answer.content == (WEB_DIR / "static" / name).read_bytes()
        assert answer.headers["content-type"].startswith(MEDIA[name.rsplit(".", 1)[1]])
        assert answer.headers["content-security-policy"] == "default-src 'self'"
    assert [api.anonymous.get(path).status_code for path in NOT_FILES] == [404] * len(NOT_FILES)


def test_the_chart_needs_a_token(api):
    answer = api.anonymous.get("/api/charts/spend.svg")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "missing_token"


def test_days_out_of_range_answer_422(api):
    client = api.login("ada@example.com")
    for days in BAD_DAYS:
        answer = client.get(f"/api/charts/spend.svg?days={days}")
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_failed", days


def chart(client: Any, days: int) -> ET.Element:
    """GET the spend chart; return its parsed SVG root (checked to be an SVG answer)."""
    answer = client.get(f"/api/charts/spend.svg?days={days}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    return ET.fromstring(answer.text)


def test_an_empty_store_draws_no_spend(api, store):
    root = chart(api.login("ada@example.com"), 14)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Spend per day by model, last 14 days"
    assert root.find(f"{SVG}desc").text.startswith("No spend recorded") and root.find(f".//{SVG}g") is None


def tool(client: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Run `cost_analyzer` through the API."""
    answer = client.post("/api/tools/cost_analyzer", json=args)
    assert answer.status_code == 200, answer.text
    return answer.json()


def expected_days(client: Any, days: int) -> dict[str, str]:
    """The window's days and each one's cost, drawn from the tool's own per-(day, model) rows."""
    window = [row["day"] for row in tool(client, {})["rows"] if "table" not in row][-days:]
    rows = [row for row in tool(client, window_args(window))["rows"] if row.get("table") == "breakdown"]
    return {day: money(sum(row["cost_usd"] for row in rows if row["day"] == day)) for day in window}


def in_local(api: Any, email: str) -> Any:
    """Return a client of `email`, a member of the `local` workspace, acting there."""
    token = api.token(email)
    add_to_workspace(api.settings, email)
    return api.client({"Authorization": f"Bearer {token}", **IN_LOCAL})


def days_drawn(root: ET.Element) -> dict[str, str]:
    """The chart's bars: day -> the title of its bar."""
    return {group.get("data-day"): group.find(f"{SVG}title").text for group in root.iter(f"{SVG}g")}


def test_the_chart_draws_the_numbers_of_cost_analyzer(api, store, catalog):
    generate_and_load(store, catalog, "mixed", 20_000, 7, 14.0)  # into `local`, as the CLI loads
    client = in_local(api, "ada@example.com")
    root, expected = chart(client, 3), expected_days(client, 3)
    assert days_drawn(root) == {day: f"{day}: {cost}" for day, cost in expected.items()}
    window = tool(client, window_args(list(expected)))
    assert root.get("data-call-id") == window["call_id"]
    assert money(window["figures"]["total_cost_usd"]["value"]) in root.find(f"{SVG}desc").text

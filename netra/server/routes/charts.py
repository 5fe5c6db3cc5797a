"""Charts of the workload, rendered on the server as SVG (for the chat page and any client).

    GET /api/charts/spend.svg?days=14   -> image/svg+xml: spend per day, stacked by model

Every number is an Apex tool's: `cost_analyzer` run through `ToolDispatcher` over the app's
store (results cached in the tool cache). A first call (`{}`) gives the days that have events;
the chart covers the `days` days (1-366) up to the newest of them, and a second call
(`{"start", "end", "by": ["day", "model"]}`) gives each day's cost per model and the window's
`total_cost_usd`. The five models that cost most in the window get a colour each, the rest
are summed as `other`; days without events are drawn as $0. With no events the chart says so.

The SVG is accessible: `role="img"`, an `aria-label`, a `<title>` and a `<desc>` that names
the total, each model's cost and the tool call (`data-call-id`), and a `<title>` on every bar
segment (day, model, cost, requests). It uses presentation attributes only, no `style`, so a
page with a strict Content-Security-Policy can inline it. A signed-in user only (401).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from netra.server.owned import SignedIn
from netra.server.routes.tools import get_tool_context
from netra.tools import ToolContext, ToolDispatcher
from netra.tools.cost import COST_ANALYZER

router = APIRouter(prefix="/api/charts", tags=["charts"])
TOP_MODELS = 5
OTHER = "other"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")  # Okabe-Ito: safe for colour-blind readers
OTHER_COLOUR = "#8C959F"
MUTED = "#57606a"
WIDTH, PLOT_TOP, PLOT_BOTTOM, LEFT, RIGHT = 720, 56, 256, 72, 16
LEGEND_TOP, LEGEND_ROW, LEGEND_COLUMN = 300, 22, 236
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
SVG_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "The chart as an SVG document.", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}}


@dataclass
class Spend:
    """A window's spend: its days, the models in legend order, cost and requests per (day, model)."""

    days: list[str]
    models: list[str] = field(default_factory=list)
    cost: dict[tuple[str, str], float] = field(default_factory=dict)
    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    total: float = 0.0
    call_id: str = ""

    def day_total(self, day: str) -> float:
        """Return the cost of one day over every model."""
        return sum(self.cost.get((day, model), 0.0) for model in self.models)


def spend(dispatcher: ToolDispatcher, days: int) -> Spend:
    """Return the spend of the `days` days up to the newest day with events (no days: empty)."""
    daily = [row["day"] for row in dispatcher.run(COST_ANALYZER, {}).rows if "table" not in row]
    if not daily:
        return Spend(days=[])
    window = [str(date.fromisoformat(max(daily)) - timedelta(days=back)) for back in range(days - 1, -1, -1)]
    return spend_of(dispatcher.run(COST_ANALYZER, window_args(window)), window)


def window_args(window: list[str]) -> dict[str, Any]:
    """Return the `cost_analyzer` arguments of a window of days: start, end (exclusive), by day and model."""
    end = date.fromisoformat(window[-1]) + timedelta(days=1)
    return {"start": f"{window[0]}T00:00:00Z", "end": f"{end}T00:00:00Z", "by": ["day", "model"]}


def spend_of(result: Any, window: list[str]) -> Spend:
    """Fold the tool's breakdown rows into a `Spend`: top models kept, the rest as `other`."""
    rows = [row for row in result.rows if row.get("table") == "breakdown"]
    top = top_models(rows)
    found = Spend(days=window, models=top + ([OTHER] if len(top) < len({r["model"] for r in rows}) else []),
                  total=result.value("total_cost_usd"), call_id=result.call_id)
    for row in rows:
        add(found, row, row["model"] if row["model"] in top else OTHER)
    return found


def top_models(rows: list[dict[str, Any]]) -> list[str]:
    """Return the `TOP_MODELS` models that cost most over the rows (ties by name)."""
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["model"]] = totals.get(row["model"], 0.0) + float(row["cost_usd"])
    return sorted(totals, key=lambda model: (-totals[model], model))[:TOP_MODELS]


def add(found: Spend, row: dict[str, Any], model: str) -> None:
    """Add one (day, model) row of the tool to its day and legend model."""
    key = (row["day"], model)
    found.cost[key] = found.cost.get(key, 0.0) + float(row["cost_usd"])
    found.requests[key] = found.requests.get(key, 0) + int(row["requests"])


def money(value: float) -> str:
    """Format dollars for the chart: cents, or four decimals below $1."""
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:,.4f}"


def nice_top(maximum: float) -> float:
    """Return a round axis top at or above `maximum`: 4 steps of 1, 2, 2.5 or 5 times a power of ten."""
    tops = (base * 10 ** power * 4 for power in range(-6, 12) for base in (1, 2, 2.5, 5))
    return next((top for top in tops if top >= maximum), maximum)


def colour(found: Spend, model: str) -> str:
    """Return the colour of a legend model."""
    return OTHER_COLOUR if model == OTHER else PALETTE[found.models.index(model) % len(PALETTE)]


def describe(found: Spend) -> str:
    """Return the chart's long description: window, total, each model's cost, the tool call."""
    if not found.days:
        return "No spend recorded: the workload store holds no events."
    per_model = "; ".join(f"{model} {money(sum(found.cost.get((d, model), 0.0) for d in found.days))}"
                          for model in found.models)
    return (f"Total {money(found.total)} from {found.days[0]} to {found.days[-1]}: {per_model}. "
            f"Figures from the {COST_ANALYZER} tool, call {found.call_id}.")


def render(found: Spend, days: int) -> str:
    """Return the SVG document of the chart."""
    title = f"Spend per day by model, last {days} day{'s' if days != 1 else ''}"
    height = LEGEND_TOP + LEGEND_ROW * (len(found.models) // 3 + 1)
    body = plot(found) if found.days else [text(WIDTH / 2, 150, "No spend recorded yet", 'text-anchor="middle"')]
    return "\n".join([*frame(found, title, height), *body, "</svg>\n"])


def frame(found: Spend, title: str, height: int) -> list[str]:
    """Return the chart's opening tag, title, description, background and visible heading."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(title)}" data-call-id="{escape(found.call_id)}" data-chart="spend" {FONT}>')
    return [head, f"<title>{escape(title)}</title>", f"<desc>{escape(describe(found))}</desc>",
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            text(LEFT, 28, title, 'font-weight="600"', size=16)]


def text(x: float, y: float, value: str, extra: str = "", fill: str = "#1f2328", size: int = 12) -> str:
    """Return one escaped `<text>` element (`extra`: more attributes, never `fill` or `font-size`)."""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" {extra}>{escape(value)}</text>'


def plot(found: Spend) -> list[str]:
    """Return the axes, the stacked bars and the legend."""
    top = nice_top(max(found.day_total(day) for day in found.days) or 1.0)
    return [*axis(top), *(bar(found, index, top) for index in range(len(found.days))),
            *x_labels(found), *legend(found)]


def y_of(value: float, top: float) -> float:
    """Return the y coordinate of a dollar value on an axis that ends at `top`."""
    return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * value / top


def axis(top: float) -> list[str]:
    """Return the horizontal grid lines with their dollar labels (0 to `top`, in quarters)."""
    lines = []
    for quarter in range(5):
        y = y_of(top * quarter / 4, top)
        lines.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        lines.append(text(LEFT - 8, y + 4, money(top * quarter / 4), 'text-anchor="end"', MUTED))
    return lines


def slot(found: Spend) -> float:
    """Return the width of one day on the x axis."""
    return (WIDTH - LEFT - RIGHT) / len(found.days)


def bar(found: Spend, index: int, top: float) -> str:
    """Return one day's stacked bar: a group titled with the day's total, a segment per model."""
    day, base, parts = found.days[index], 0.0, []
    x, width = LEFT + slot(found) * (index + 0.15), slot(found) * 0.7
    for model in found.models:
        cost = found.cost.get((day, model), 0.0)
        parts.append(segment(found, day, model, (x, width, y_of(base + cost, top), y_of(base, top))))
        base += cost
    return f'<g data-day="{day}"><title>{day}: {money(base)}</title>{"".join(parts)}</g>'


def segment(found: Spend, day: str, model: str, box: tuple[float, float, float, float]) -> str:
    """Return one model's part of a day's bar, titled with its cost and requests (none when $0)."""
    x, width, y_top, y_bottom = box
    if y_bottom - y_top <= 0:
        return ""
    label = f"{day}, {model}: {money(found.cost[(day, model)])}, {found.requests[(day, model)]:,} requests"
    return (f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" height="{y_bottom - y_top:.1f}" '
            f'fill="{colour(found, model)}" data-model="{escape(model)}"><title>{escape(label)}</title></rect>')


def x_labels(found: Spend) -> list[str]:
    """Return the day labels (MM-DD) under the bars, thinned to at most 14."""
    every = max(1, -(-len(found.days) // 14))
    return [text(LEFT + slot(found) * (i + 0.5), PLOT_BOTTOM + 18, day[5:], 'text-anchor="middle"', MUTED)
            for i, day in enumerate(found.days) if i % every == 0]


def legend(found: Spend) -> list[str]:
    """Return the legend: a swatch and the name of each model, three to a row."""
    items = []
    for i, model in enumerate(found.models):
        x, y = LEFT + LEGEND_COLUMN * (i % 3), LEGEND_TOP + LEGEND_ROW * (i // 3)
        items.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour(found, model)}"/>')
        items.append(text(x + 18, y, model))
    return items


@router.get("/spend.svg", response_class=Response, responses=SVG_ANSWER)
def spend_chart(user: SignedIn, ctx: ToolContext = Depends(get_tool_context),
                days: int = Query(14, ge=1, le=366, description="days up to the newest day with events")) -> Response:
    """Answer the spend chart of the `days` days up to the newest event, as SVG."""
    found = spend(ToolDispatcher(ctx), days)
    return Response(render(found, days), media_type="image/svg+xml", headers={"Cache-Control": "private, no-store"})

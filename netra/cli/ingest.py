"""`netra ingest`: import one telemetry file with a progress bar, then print what happened.

    netra ingest calls.csv --map "input_tokens=prompt_tokens,output_tokens=completion_tokens"
    netra ingest spend_logs.csv --format litellm         # also: --format langfuse (docs/ingest.md)

The summary shows rows accepted, duplicates skipped, rejected rows by reason (and the
first few, with their row numbers), time and rows per second, and models the price
catalog does not know. The options and the file's presence are checked before the importers
(pandas, pyarrow) and the store are loaded, so those mistakes are refused at once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from netra.errors import UserInputError

if TYPE_CHECKING:
    from netra.workloads.importers import ImportOptions, IngestSummary

MAP_EXAMPLE = 'e.g. --map "input_tokens=prompt_tokens,output_tokens=completion_tokens"'
SHOWN_REJECTIONS = 10


def parse_mapping(text: str) -> dict[str, str]:
    """Parse `field=column,...` into {event field: source column}; raise `UserInputError` on bad syntax."""
    pairs = _pairs(text)
    fields = [field for field, _ in pairs]
    twice = sorted({field for field in fields if fields.count(field) > 1})
    if twice:
        raise UserInputError(f"--map: {', '.join(twice)} mapped more than once; {MAP_EXAMPLE}")
    return _checked(dict(pairs)) if pairs else {}


def _checked(mapping: dict[str, str]) -> dict[str, str]:
    """Return `mapping` once every field is an event column (`check_mapping`)."""
    from netra.workloads.importers.generic import check_mapping

    return check_mapping(mapping)


def _pairs(text: str) -> list[tuple[str, str]]:
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    bad = [p for p in parts if p.count("=") != 1 or not all(side.strip() for side in p.split("="))]
    if bad:
        raise UserInputError(f"--map: {bad[0]!r} is not field=column; {MAP_EXAMPLE}")
    return [(p.split("=")[0].strip(), p.split("=")[1].strip()) for p in parts]


def parse_start(text: str | None) -> datetime | None:
    """Parse an ISO 8601 time (no zone = UTC); raise `UserInputError` if it is not one."""
    if not text:
        return None
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserInputError(f"--start: {text!r} is not an ISO time, e.g. 2026-03-02T00:00:00Z") from exc
    return start if start.tzinfo else start.replace(tzinfo=timezone.utc)


def run_ingest(console: Console, path: Path, fmt: str, mapping: str, user: str | None, feature: str | None,
               model: str | None, start: str | None) -> IngestSummary:
    """Import `path` into the store from settings; print progress and the summary; return it."""
    options = import_options(path, parse_mapping(mapping), parse_start(start), user=user, feature=feature, model=model)
    store, catalog = _store_and_catalog()
    from netra.workloads.importers import ingest_file

    summary = _with_progress(console, lambda progress: ingest_file(store, catalog, path, fmt, options, progress))
    print_summary(console, summary)
    return summary


def import_options(path: Path, mapping: dict[str, str], start: datetime | None, **fill: str | None) -> ImportOptions:
    """Check that `path` is a file (else `UserInputError`: exit 2); return the import's options."""
    if not Path(path).is_file():
        raise UserInputError(f"{path}: no such file")
    from netra.workloads.importers import ImportOptions

    return ImportOptions(mapping=mapping, start=start, **fill)


def _store_and_catalog():
    """Open the store the settings name, and the price catalog."""
    from netra.config import get_settings
    from netra.persistence.analytics import open_store
    from netra.workloads.catalog import load_catalog

    return open_store(get_settings().resolved_clickhouse_url()), load_catalog()


def _with_progress(console: Console, run) -> IngestSummary:
    """Run the import with a live count of rows read."""
    columns = (SpinnerColumn(), TextColumn("[bold]importing[/]"), TextColumn("{task.completed:,.0f} rows read"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("import", total=None)
        return run(lambda read, _total: bar.update(task, completed=read))


def print_summary(console: Console, summary: IngestSummary) -> None:
    """Print the counts table, the first rejections and the unknown models."""
    console.print(_counts(summary))
    if summary.rejections:
        console.print(_first_rejections(summary))
    for line in _unknown_models(summary):
        console.print(line)


def _counts(summary: IngestSummary) -> Table:
    table = Table(title=f"Imported {summary.source}", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for row in _count_rows(summary):
        table.add_row(*row)
    return table


def _count_rows(summary: IngestSummary) -> list[tuple[str, str]]:
    rows = [("rows read", f"{summary.read:,}"), ("accepted", f"{summary.accepted:,}"),
            ("duplicates skipped", f"{summary.duplicates:,}"), ("rejected", f"{sum(summary.rejected.values()):,}")]
    rows += [(f"  {reason}", f"{n:,}") for reason, n in sorted(summary.rejected.items())]
    return rows + [("time", f"{summary.seconds:.2f} s"), ("rows/s", f"{summary.rows_per_s:,.0f}")]


def _first_rejections(summary: IngestSummary) -> Table:
    table = Table(title="First rejected rows", title_justify="left")
    for name, justify in (("row", "right"), ("reason", "left"), ("detail", "left")):
        table.add_column(name, justify=justify)
    for rejection in sorted(summary.rejections, key=lambda r: r.row)[:SHOWN_REJECTIONS]:
        table.add_row(f"{rejection.row:,}", rejection.reason, rejection.detail)
    return table


def _unknown_models(summary: IngestSummary) -> list[str]:
    """Lines naming models the catalog does not know (their cost counts as 0), with what to do."""
    unnamed = summary.unknown_models.get("", 0)
    lines = [f"[yellow]rows with no model: {unnamed:,}[/] (cost 0); pass --model NAME to set "
             "the model of rows that have none"] if unnamed else []
    return lines + _unknown_named(summary)


def _unknown_named(summary: IngestSummary) -> list[str]:
    named = sorted(((m, n) for m, n in summary.unknown_models.items() if m), key=lambda kv: -kv[1])
    listed = ", ".join(f"{m} ({n:,})" for m, n in named)
    return [f"[yellow]models not in the price catalog[/] (cost 0): {listed}; fix the name, pass --model "
            "for rows without one, or add prices with `netra catalog update`"] if named else []

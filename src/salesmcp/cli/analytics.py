"""``salesmcp query``: the metrics layer from a terminal, the same question and answer as POST /analytics/query."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from salesmcp.cli._common import main_database_option, open_database
from salesmcp.keyvalue import split_pair

FORMATS = ("table", "json", "csv")


def _filters(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pair in pairs:
        try:
            key, value = split_pair(pair, "dimension=value")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--filter") from None
        found.setdefault(key, []).append(value)
    return found


@click.command("query")
@click.option("--metric", "metrics", multiple=True, required=True, help="A metric (repeatable), e.g. revenue.")
@click.option("--by", "group_by", multiple=True, help="A dimension to group by (repeatable), e.g. month.")
@click.option("--from", "start_date", help="First order date, inclusive (YYYY-MM-DD or yyyymmdd).")
@click.option("--to", "end_date", help="Last order date, inclusive.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="DIMENSION=VALUE",
    help="Keep only these values, ignoring case (repeatable; one dimension twice means either).",
)
@click.option("--order-by", help="A metric or dimension; '-' in front for descending, e.g. -revenue.")
@click.option("--limit", type=int, help="Groups to show (default 100).")
@click.option("--compare", type=click.Choice(["previous_period", "previous_year"]), help="Compare with this window.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--show-sql", is_flag=True, help="Also print the SQL that ran.")
@click.option(
    "--chart",
    "chart_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the answer as a PNG chart into this file (a line over time, else bars).",
)
@main_database_option
def query(
    metrics: tuple[str, ...],
    group_by: tuple[str, ...],
    start_date: str | None,
    end_date: str | None,
    filters: tuple[str, ...],
    order_by: str | None,
    limit: int | None,
    compare: str | None,
    fmt: str,
    show_sql: bool,
    chart_file: Path | None,
    database_url: str | None,
) -> None:
    """Ask the data with governed metrics (see `list_metrics`, docs/analytics.md): --format json prints
    exactly what POST /analytics/query answers."""
    _, store = open_database(database_url)
    if store.replica is not None:
        store.replica.background = False  # a command waits for the copy (kept for the next one), whatever the size
    try:
        _ask(store, metrics, group_by, filters, start_date, end_date, order_by, limit, compare, fmt, chart_file,
             show_sql)  # fmt: skip
    finally:
        store.close()


def _ask(store: Any, metrics: tuple[str, ...], group_by: tuple[str, ...], filters: tuple[str, ...],
         start_date: str | None, end_date: str | None, order_by: str | None, limit: int | None, compare: str | None,
         fmt: str, chart_file: Path | None, show_sql: bool) -> None:  # fmt: skip
    from salesmcp.services import analytics

    answer = analytics.query_metrics(
        store, metrics=list(metrics), group_by=list(group_by), filters=_filters(filters) or None,
        start_date=start_date, end_date=end_date, order_by=order_by, limit=limit, compare=compare, show_sql=show_sql,
    )  # fmt: skip
    if chart_file is not None:
        from salesmcp.services.analytics.charting import chart_metrics

        arguments = {"metrics": list(metrics), "group_by": list(group_by), "filters": _filters(filters) or None,
                     "start_date": start_date, "end_date": end_date, "order_by": order_by, "limit": limit}  # fmt: skip
        drawn, _ = chart_metrics(store, None, None, **arguments)
        chart_file.write_bytes(drawn.png)
        click.echo(f"chart written to {chart_file}", err=True)
    if fmt == "json":
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    columns = list(answer["rows"][0]) if answer["rows"] else [*answer["group_by"], *answer["metrics"]]
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(answer["rows"])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=", ".join(answer["metrics"]), caption=_caption(answer))
    for row in answer["rows"]:
        table.add_row(*("" if row[name] is None else f"{row[name]:,}" if isinstance(row[name], float | int) else
                        str(row[name]) for name in columns))  # fmt: skip
    console = Console()
    console.print(table)
    if show_sql:
        console.print(answer["sql"], markup=False)


def _caption(answer: dict[str, object]) -> str:
    shown = len(answer["rows"])  # type: ignore[arg-type]
    totals = ", ".join(f"{name} {value:,}" for name, value in answer["totals"].items() if value is not None)  # type: ignore[attr-defined]
    more = f"; {shown} of {answer['total_rows']} groups shown (--limit for more)" if answer["truncated"] else ""
    return f"totals: {totals}{more}"

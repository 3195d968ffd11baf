"""``salesmcp`` commands that fill, empty, describe and export the database (seed 002).

Thin wrappers, like the rest of the CLI: they parse flags, call a service and print.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from salesmcp.cli._common import main_database_option, open_database

if TYPE_CHECKING:
    from rich.progress import TaskID

    from salesmcp.services.generator import GenerationRequest, RunOut
    from salesmcp.services.generator.files import FileStore
    from salesmcp.store.sql_store import SqlStore

# -- export ------------------------------------------------------------------------------------------
# The service module (SQLAlchemy, pyarrow) is imported only when the command runs, so that every other
# command starts fast; these names are checked against the service's by the tests.
EXPORT_FORMATS = ("seed000", "csv", "parquet")
FILE_FORMATS = ("parquet", "csv")  # generate --out
EXPORT_TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments", "returns")


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="seed000",
    show_default=True,
    help="seed000: customers.csv and sales.csv for cust_server.py / sales_server.py; "
    'csv or parquet: the seven tables (parquet needs: pip install "salesmcp[parquet]").',
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write into (created when missing). Files are written whole or not at all.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="NAME",
    help=f"With csv or parquet, only this table (repeatable or comma-separated): {', '.join(EXPORT_TABLES)}. "
    "Default: all seven.",
)
@click.option("--batch-size", type=int, default=10_000, show_default=True, help="Rows read and written at a time.")
@main_database_option
def export(fmt: str, out: Path, tables: tuple[str, ...], batch_size: int, database_url: str | None) -> None:
    """Export the database: seed 000's customers.csv and sales.csv, or the seven tables as CSV or Parquet.

    Streamed from the database in batches (memory stays flat at any size), from one snapshot.
    Progress goes to stderr; each file written, with its row count, to stdout.
    """
    from salesmcp.errors import InvalidInput
    from salesmcp.services.exports import export_database

    _, store = open_database(database_url)
    names = [name.strip() for value in tables for name in value.split(",") if name.strip()]
    try:
        with _progress_bar() as progress:
            files = export_database(store, fmt, out, names, batch_size=batch_size, progress=progress)
    except InvalidInput as exc:
        raise click.BadParameter(exc.rule, param_hint=f"'--{(exc.field or 'out').replace('_', '-')}'") from None
    for exported in files:
        click.echo(f"{exported.path}\t{exported.rows} rows")


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, one line per file; yields the service's progress callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(filename: str, rows: int, total: int) -> None:
            if filename not in tasks:
                tasks[filename] = bar.add_task(filename, total=total)
            bar.update(tasks[filename], completed=rows)

        yield update


# -- generate, reset, summary ------------------------------------------------------------------------


def _set_values(pairs: tuple[str, ...]) -> dict[str, str]:
    from salesmcp.keyvalue import split_pair

    values = {}
    for pair in pairs:
        try:
            key, value = split_pair(pair, "name=value")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--set'") from None
        values[key.replace("-", "_")] = value.strip()
    return values


@click.command("generate")
@click.option("--rows", type=int, help="Orders to make (default 1000); customers and products scale with it.")
@click.option("--seed", type=int, help="Random seed (env DATA_SEED, default 42): the same seed, the same data.")
@click.option("--start-date", help="First order date, YYYY-MM-DD or yyyymmdd (default 2025-01-01).")
@click.option("--end-date", help="Last order date, YYYY-MM-DD or yyyymmdd (default 2026-12-31).")
@click.option("--locale", help="Faker locales with weights, e.g. nl_NL:3,de_DE:1 (the default).")
@click.option(
    "--mode",
    type=click.Choice(["once", "append", "replace"]),
    help="once (default): an identical "
    "request already made is reported, not repeated; append: add another run; replace: reset first.",
)
@click.option(
    "--set",
    "settings_",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any other generation parameter (repeatable), e.g. --set cancel_rate=0.1 (see docs/generator.md).",
)
@click.option("--batch-size", type=int, help="Orders per transaction (env DEFAULT_BATCH_SIZE, default 10000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Processes writing partitions in parallel.")
@click.option(
    "--partition",
    help="Make only partition k of n (k/n), e.g. 1/4; the union of all n is one run. Default: from the task array "
    "(CLOUD_RUN_TASK_INDEX/COUNT, JOB_COMPLETION_INDEX with JOB_COMPLETIONS, AWS_BATCH_JOB_ARRAY_INDEX/SIZE).",
)
@click.option("--run-id", type=int, help="Do (or resume) this existing run, as the job workers do.")
@click.option(
    "--out",
    metavar="DIR_OR_URL",
    help="Write the tables as files here instead of into a database: a folder or an fsspec URL (s3://bucket/prefix, "
    "gs://…, az://…), a folder per table, a file per block.",
)
@click.option(
    "--format", "file_format", type=click.Choice(FILE_FORMATS), help="With --out: the files' format (default parquet)."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@main_database_option
def generate(
    rows: int | None, seed: int | None, start_date: str | None, end_date: str | None, locale: str | None,
    mode: str | None, settings_: tuple[str, ...], batch_size: int | None, workers: int, partition: str | None,
    run_id: int | None, out: str | None, file_format: str | None, quiet: bool, database_url: str | None,
) -> None:  # fmt: skip
    """Fill the database with synthetic e-commerce data: products, customers, orders, lines, payments, shipments
    and returns (or, with --out, write them as Parquet or CSV files)."""
    from salesmcp.services import generator

    if out is not None:
        given = {"--mode": mode, "--batch-size": batch_size, "--run-id": run_id, "--database-url": database_url}
        for option, value in given.items():
            if value is not None:
                raise click.BadParameter("is for a database run; --out writes files", param_hint=f"'{option}'")
        values = {"rows": rows, "seed": seed, "start_date": start_date, "end_date": end_date, "locale": locale,
                  **_set_values(settings_)}  # fmt: skip
        _generate_files(values, out, file_format or "parquet", partition, quiet, workers)
        return
    if file_format is not None:
        raise click.BadParameter("is for files: give --out too", param_hint="'--format'")
    settings, store = open_database(database_url, batch=True)
    batch = batch_size or settings.default_batch_size
    if batch < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--batch-size'")
    if workers < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--workers'")
    # --partition, else the task index and count of a Cloud Run, Kubernetes or AWS Batch task array.
    from_engine = None if partition else generator.partition_from_environment(os.environ)
    part = generator.parse_partition(partition) if partition else from_engine or (1, 1)
    if from_engine is not None and from_engine[1] > 1:  # (a task array of one task makes the whole run)
        partition = f"{from_engine[0]}/{from_engine[1]}"
        if workers > 1:
            raise click.BadParameter(
                "a task of a task array makes one partition: drop --workers", param_hint="'--workers'"
            )
    if run_id is None:
        values = {"rows": rows, "seed": seed, "start_date": start_date, "end_date": end_date, "locale": locale,
                  "mode": mode, "batch_size": batch_size, **_set_values(settings_)}  # fmt: skip
        request = generator.build_request(values, settings.data_seed, settings.generate_max_rows)
        if partition and request.mode == "replace":
            raise click.BadParameter(
                "a partition cannot replace: reset once, then run the partitions", param_hint="'--mode'"
            )
        run, todo = generator.prepare_run(store, request, join=partition is not None)
        if not todo:
            click.echo(f"run {run.id} made exactly this data already (mode once); nothing to do. "
                       "Use --mode append or --mode replace to make it again.", err=True)  # fmt: skip
            click.echo(run.model_dump_json())
            return
        run_id = run.id
    total = generator.get_run(store, run_id).rows
    with _generation_bar(total, quiet) as advance:
        if workers > 1 and partition is None:
            result = _run_workers(store, run_id, workers, advance)
        else:
            result = generator.run_generation(store, run_id, batch, part, lambda orders, _rows: advance(orders))
    click.echo(result.model_dump_json())
    if result.state == "failed":
        raise click.ClickException(f"generation run {run_id} failed: {result.error}")


def _generate_files(
    values: dict[str, Any], out: str, fmt: str, partition: str | None, quiet: bool, workers: int
) -> None:
    """``generate --out``: this partition's blocks (the task array's, or the whole run) as files; with
    ``--workers N``, the whole run as N processes, one partition each."""
    import json

    from salesmcp.cli._common import settings_from, start_logging
    from salesmcp.services import generator
    from salesmcp.services.generator.files import open_files, write_files

    settings = settings_from()
    start_logging(settings, batch=True)
    if workers < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--workers'")
    from_engine = None if partition else generator.partition_from_environment(os.environ)
    part = generator.parse_partition(partition) if partition else from_engine or (1, 1)
    if workers > 1 and part[1] > 1:
        raise click.BadParameter("a partition is written by one process: drop --workers", param_hint="'--workers'")
    request = generator.build_request(values, settings.data_seed, settings.generate_max_rows)
    if workers > 1:
        store = open_files(request, out, fmt)  # a wrong format, folder or URL: refused here, not in each process
        with _generation_bar(request.rows, quiet) as advance:
            summary = _run_file_workers(request, store, fmt, workers, advance)
        click.echo(json.dumps(summary))
        return
    k, n = part
    share = len(range(k - 1, -(-request.rows // generator.ORDER_BLOCK), n))  # this partition's blocks
    orders = min(request.rows, share * generator.ORDER_BLOCK)
    with _generation_bar(orders, quiet) as advance:
        made = write_files(request, out, fmt, part, advance)
    click.echo(json.dumps(made.as_dict()))


def _run_workers(store: SqlStore, run_id: int, workers: int, advance: Callable[[int], None]) -> RunOut:
    """Run the partitions 1/N..N/N of ``run_id`` as N processes; the bar follows the run's progress."""
    import os
    import subprocess
    import sys

    from salesmcp.services import generator

    url = store.engine.url.render_as_string(hide_password=False)
    generator.claim_run(store, run_id)  # this process speaks for the run while its partitions work
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salesmcp",
                "generate",
                "--run-id",
                str(run_id),
                "--partition",
                f"{k}/{workers}",
                "--quiet",
            ],
            env={**os.environ, "DATABASE_URL": url},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for k in range(1, workers + 1)
    ]
    failed = _follow(children, lambda: generator.get_run(store, run_id).progress, advance)
    run = generator.get_run(store, run_id)
    if failed and run.state != "failed":
        raise click.ClickException(f"partition(s) {failed} of run {run_id} failed; run the same command to resume")
    return run


def _run_file_workers(
    request: GenerationRequest, store: FileStore, fmt: str, workers: int, advance: Callable[[int], None]
) -> dict[str, Any]:
    """Partitions 1/N..N/N of a files run as N processes of ``generate --out`` (the same request, every parameter
    given); the bar follows the blocks of orders written. What they wrote, added up."""
    import json
    import subprocess
    import sys

    from salesmcp.services.generator import ORDER_BLOCK
    from salesmcp.services.generator.files import RUN_FILE, blocks_written

    parameters = request.model_dump(mode="json", exclude={"mode", "batch_size"})
    given = [f"{name}={json.dumps(value) if isinstance(value, bool) else value}"
             for name, value in parameters.items() if value is not None]  # fmt: skip
    command = [sys.executable, "-m", "salesmcp", "generate", "--out", store.url, "--format", fmt, "--quiet",
               *(part for value in given for part in ("--set", value))]  # fmt: skip
    children = [
        subprocess.Popen([*command, "--partition", f"{k}/{workers}"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        for k in range(1, workers + 1)
    ]
    failed = _follow(children, lambda: min(request.rows, blocks_written(store, fmt) * ORDER_BLOCK), advance, 0)
    outputs = [child.communicate()[0] for child in children]
    if failed:
        raise click.ClickException(f"partition(s) {failed} of {workers} failed; run the same command again")
    run = store.get_json(RUN_FILE)
    if run is None or run.get("fingerprint") != request.fingerprint():
        raise click.ClickException(f"the {workers} processes did not finish this request's files in {store.url}")
    made = [json.loads(output.decode().strip().splitlines()[-1]) for output in outputs]
    counts: dict[str, int] = {}
    for partition in made:
        for table, rows in partition["counts"].items():
            counts[table] = counts.get(table, 0) + rows
    return {"out": store.url, "format": fmt, "partition": "1/1", "workers": workers, "counts": counts,
            "finished": any(partition["finished"] for partition in made)}  # fmt: skip


def _follow(
    children: list[Any], progress: Callable[[], int], advance: Callable[[int], None], shown: int | None = None
) -> list[int]:
    """Wait for the partition processes while the bar follows ``progress()`` (from ``shown``, else where it is
    now), every quarter second; Ctrl-C stops them. The partitions (numbered from 1) that failed."""
    import time

    shown = progress() if shown is None else shown
    try:
        while any(child.poll() is None for child in children):
            time.sleep(0.25)
            now = progress()
            advance(now - shown)
            shown = now
    except KeyboardInterrupt:
        for child in children:
            child.terminate()
        raise
    advance(progress() - shown)
    return [k + 1 for k, child in enumerate(children) if child.returncode != 0]


@contextmanager
def _generation_bar(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar of orders written (rich, on stderr); ``advance(n)`` moves it."""
    if quiet:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=Console(stderr=True),
    ) as bar:  # fmt: skip
        task = bar.add_task("generate", total=total)
        yield lambda n: bar.update(task, advance=n)


@click.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@main_database_option
def reset(yes: bool, database_url: str | None) -> None:
    """Empty every table (foreign-key-safe order, id sequences restarted; the schema stays)."""
    from salesmcp.services import generator

    _, store = open_database(database_url)
    where = store.engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Delete every row of every table in {where}?", abort=True, err=True)
    counts = generator.reset(store)
    click.echo(f"{generator.RESET_COMPLETE}: {', '.join(f'{name} {count}' for name, count in counts.items())}")


@click.command("summary")
@main_database_option
def summary(database_url: str | None) -> None:
    """Rows per table, the last generated window and the last run's state, as JSON."""
    from salesmcp.services import generator

    _, store = open_database(database_url)
    click.echo(generator.summary(store).model_dump_json(indent=2))

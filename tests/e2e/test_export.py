"""`salesmcp export` as a user runs it, and seed 000's real servers serving what it wrote."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import httpx
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from salesmcp.cli import main
from salesmcp.cli.data import EXPORT_FORMATS, EXPORT_TABLES
from salesmcp.services.exports import FORMATS, TABLES
from salesmcp.services.revenue import city_revenue
from salesmcp.store.api_source import ApiSource
from salesmcp.store.database import open_engine
from salesmcp.store.schema import customers, orders
from salesmcp.store.sql_store import SqlStore
from tests.conftest import ROOT, start_server
from tests.integration.services.export_data import add_orders

CLI_TIMEOUT = 60


def _export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salesmcp", "export", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )  # fmt: skip


def parse_date(yyyymmdd: str) -> dt.date:
    return dt.datetime.strptime(yyyymmdd, "%Y%m%d").date()


def _sql_city_revenue(store, city: str, start: dt.date, end: dt.date) -> tuple:
    """The revenue of a city straight from the tables: non-cancelled orders of its customers."""
    query = (
        select(func.coalesce(func.sum(orders.c.total), 0), func.count(orders.c.id))
        .join(customers, customers.c.id == orders.c.customer_id)
        .where(customers.c.city == city, orders.c.status != "CANCELLED", orders.c.order_date.between(start, end))
    )
    with store.reading() as connection:
        return tuple(connection.execute(query).one())


def test_the_cli_knows_the_services_formats_and_tables():
    assert EXPORT_FORMATS == FORMATS
    assert tuple(TABLES) == EXPORT_TABLES


def test_seed_000_servers_serving_an_export_agree_with_the_database(sql_store, database_url, tmp_path):
    add_orders(sql_store)
    result = _export("--database-url", database_url, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"{tmp_path / 'sales.csv'}\t" in result.stdout

    customer_api = start_server("serve-customers", "--customers-csv", str(tmp_path / "customers.csv"))
    try:
        sales_api = start_server("serve-sales", "--sales-csv", str(tmp_path / "sales.csv"))
        try:
            with sql_store.reading() as connection:
                sales_count = connection.execute(
                    select(func.count()).select_from(orders).where(orders.c.status != "CANCELLED")
                ).scalar_one()
            assert httpx.get(f"{sales_api.url}/health", timeout=10).json()["rows"] == sales_count
            assert httpx.get(f"{customer_api.url}/health", timeout=10).json()["rows"] == 40

            source = ApiSource(customer_api.url, sales_api.url, timeout=10)
            try:
                for city, start, end in [("Tilburg", "20250101", "20251231"), ("Zürich", "20250301", "20260331")]:
                    answer = city_revenue(source, city, start, end)
                    total, count = _sql_city_revenue(sql_store, city, parse_date(start), parse_date(end))
                    assert answer["total_revenue"] == total > 0
                    assert sum(c["sales_count"] for c in answer["customers"]) == count
                    assert answer == city_revenue(sql_store, city, start, end)  # the same as over the database
            finally:
                source.close()
        finally:
            sales_api.stop()
    finally:
        customer_api.stop()


def test_seed_000_servers_serving_an_export_of_generated_data_agree_with_the_database(tmp_path):
    database_url = f"sqlite:///{(tmp_path / 'generated.db').as_posix()}"
    generated = subprocess.run(
        [sys.executable, "-m", "salesmcp", "generate", "--database-url", database_url, "--rows", "1500", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    result = _export("--database-url", database_url, "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr

    store = SqlStore(open_engine(database_url))
    try:
        with store.reading() as connection:
            busiest_city = connection.execute(
                select(customers.c.city).join(orders).group_by(customers.c.city).order_by(func.count().desc()).limit(1)
            ).scalar_one()
        customer_api = start_server("serve-customers", "--customers-csv", str(tmp_path / "out" / "customers.csv"))
        try:
            sales_api = start_server("serve-sales", "--sales-csv", str(tmp_path / "out" / "sales.csv"))
            source = ApiSource(customer_api.url, sales_api.url, timeout=10)
            try:
                answer = city_revenue(source, busiest_city, "20250101", "20261231")
                total, count = _sql_city_revenue(store, busiest_city, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
                assert answer["total_revenue"] == total > 0
                assert sum(c["sales_count"] for c in answer["customers"]) == count
            finally:
                source.close()
                sales_api.stop()
        finally:
            customer_api.stop()
    finally:
        store.engine.dispose()


def test_parquet_export_of_chosen_tables_with_progress_on_stderr(tmp_path):
    database_url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    result = _export("--database-url", database_url, "--format", "parquet", "--out", str(tmp_path / "out"),
                     "--table", "orders,customers", "--table", "payments")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'out' / name}.parquet\t{rows} rows"
        for name, rows in (("customers", 10), ("orders", 12), ("payments", 0))
    ]
    assert "orders.parquet" in result.stderr  # the progress bar
    assert pq.read_table(tmp_path / "out" / "orders.parquet").num_rows == 12


@pytest.mark.parametrize(
    ("args", "option", "words"),
    [
        (["--format", "xml"], "'--format'", "'xml' is not one of"),
        (["--format", "csv", "--table", "invoices"], "'--table'", "unknown table 'invoices'"),
        (["--table", "orders"], "'--table'", "csv and parquet"),
        (["--format", "csv", "--batch-size", "0"], "'--batch-size'", "at least 1"),
    ],
)
def test_bad_options_are_named_and_nothing_is_written(tmp_path, args, option, words):
    out = tmp_path / "out"
    database_url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    result = CliRunner().invoke(main, ["export", "--database-url", database_url, "--out", str(out), *args])
    assert result.exit_code == 2
    assert option in result.output and words in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_an_unwritable_out_is_a_clear_error_and_no_file_is_left(tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    database_url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    result = CliRunner().invoke(
        main, ["export", "--database-url", database_url, "--out", str(tmp_path / "a-file" / "x")]
    )
    assert result.exit_code == 2
    assert "'--out'" in result.output and "cannot create the folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("cli.db")) == ["a-file"]


def test_out_is_required():
    result = CliRunner().invoke(main, ["export"])
    assert result.exit_code == 2 and "--out" in result.output

"""Exports of the database, read back by their real consumers, on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, func, insert, select

from salesmcp.errors import InvalidInput
from salesmcp.services.exports import TABLES, export_database
from salesmcp.store.csv_store import CsvCustomers, CsvSales
from salesmcp.store.database import open_engine
from salesmcp.store.schema import customers, orders
from salesmcp.store.sql_store import SqlStore
from tests.integration.services.export_data import add_orders

SMALL_BATCH = 64  # several batches per table


@pytest.fixture
def filled(sql_store: SqlStore) -> SqlStore:
    add_orders(sql_store)
    return sql_store


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'exports.db').as_posix()}"))
    yield store
    store.engine.dispose()


def _database_rows(store: SqlStore, table) -> list[dict]:
    with store.reading() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]


def _non_cancelled_sales(store: SqlStore) -> list[tuple]:
    query = (
        select(orders.c.id, customers.c.custid, orders.c.order_date, orders.c.total)
        .join(customers, customers.c.id == orders.c.customer_id)
        .where(orders.c.status != "CANCELLED")
        .order_by(orders.c.order_date, orders.c.id)
    )
    with store.reading() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _parse_csv_value(column, text: str):
    """A CSV field back to the value the database holds: the inverse of the export's formats."""
    if text == "":
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        return {"true": True, "false": False}[text]
    if isinstance(kind, Integer):
        return int(text)
    if isinstance(kind, Numeric):
        return Decimal(text)
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(text)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(text)
    return text


# -- seed 000's files ------------------------------------------------------------------------------


def test_seed000_files_are_read_by_the_csv_store_and_agree_with_the_database(filled, tmp_path):
    written = export_database(filled, "seed000", tmp_path, batch_size=SMALL_BATCH)

    sales = _non_cancelled_sales(filled)
    assert [(f.name, f.path, f.rows) for f in written] == [
        ("customers", tmp_path / "customers.csv", 40),
        ("sales", tmp_path / "sales.csv", len(sales)),
    ]
    csv_customers = CsvCustomers(tmp_path / "customers.csv")
    with filled.reading() as connection:
        database_customers = connection.execute(select(customers.c.custid, customers.c.name, customers.c.city)).all()
    assert len(csv_customers) == len(database_customers) == 40
    for custid, name, city in database_customers:
        customer = csv_customers.customer(custid)
        assert (customer.custname, customer.city) == (name, city or "")

    csv_sales = CsvSales(tmp_path / "sales.csv")
    read_back = [(s.ordid, s.custid, s.orddate, s.ordamount) for s in csv_sales.sales_between(dt.date.min, dt.date.max)]
    assert read_back == sales  # ids, custids, dates and every cent
    assert 200 < len(sales) < 300  # the cancelled fifth is left out


def test_seed000_revenue_over_the_export_equals_the_database(filled, tmp_path):
    export_database(filled, "seed000", tmp_path)
    csv_sales = CsvSales(tmp_path / "sales.csv")
    period = (dt.date(2025, 3, 1), dt.date(2025, 10, 31))
    custids = [f"0{n}" for n in range(11, 21)] + [f"C{n}" for n in range(100, 130)]
    assert csv_sales.revenue_by_customer(*period, custids) == filled.revenue_by_customer(*period, custids)


def test_seed000_dates_are_yyyymmdd_and_amounts_have_two_decimals(filled, tmp_path):
    export_database(filled, "seed000", tmp_path)
    with (tmp_path / "sales.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["ordid", "custid", "orddate", "ordamount"]
    assert ["501", "012", "20260103", "9.00"] in rows  # the seed's first sale
    assert all(re.fullmatch(r"\d{8}", row[2]) and re.fullmatch(r"\d+\.\d\d", row[3]) for row in rows[1:])


def test_seed000_sales_leave_out_cancelled_orders(sql_store, tmp_path):
    with sql_store.transaction() as connection:
        connection.execute(orders.update().where(orders.c.id == 505).values(status="CANCELLED"))
    export_database(sql_store, "seed000", tmp_path)
    ordids = [s.ordid for s in CsvSales(tmp_path / "sales.csv").sales_between(dt.date.min, dt.date.max)]
    assert 505 not in ordids and len(ordids) == 11


def test_the_files_are_one_snapshot_even_while_the_database_changes(filled, tmp_path):
    """Rows written after the export began are in none of its files (one read transaction)."""
    inserted = []

    def write_meanwhile(filename: str, rows: int, total: int) -> None:
        if not inserted:  # customers.csv is counted but not yet read
            with filled.transaction() as connection:
                connection.execute(insert(customers).values(id=999, custid="C999", name="Late", city="Tilburg"))
                connection.execute(
                    insert(orders).values(id=99_999, customer_id=999, order_date=dt.date(2025, 6, 1),
                                          status="PAID", subtotal=5, total=5)
                )  # fmt: skip
            inserted.append(filename)

    written = export_database(filled, "seed000", tmp_path, progress=write_meanwhile)
    assert inserted == ["customers.csv"]
    assert CsvCustomers(tmp_path / "customers.csv").customer("C999") is None
    assert 99_999 not in [s.ordid for s in CsvSales(tmp_path / "sales.csv").sales_between(dt.date.min, dt.date.max)]
    assert written[0].rows == 40


# -- the seven tables --------------------------------------------------------------------------------


def test_csv_tables_hold_exactly_the_database_rows(filled, tmp_path):
    written = export_database(filled, "csv", tmp_path, batch_size=SMALL_BATCH)
    assert [f.name for f in written] == list(TABLES)
    for exported in written:
        table = TABLES[exported.name]
        with exported.path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = [
                {name: _parse_csv_value(table.c[name], text) for name, text in zip(header, row, strict=True)}
                for row in reader
            ]
        assert header == [column.name for column in table.columns]
        assert rows == _database_rows(filled, table), exported.name
        assert exported.rows == len(rows) > 0


def test_csv_money_dates_and_nulls_are_written_plainly(filled, tmp_path):
    export_database(filled, "csv", tmp_path, ["orders", "shipments", "products"])
    orders_text = (tmp_path / "orders.csv").read_text(encoding="utf-8")
    assert "501,12,2026-01-03,DELIVERED,9.00,0.00,0.00,9.00\n" in orders_text
    with (tmp_path / "shipments.csv").open(newline="", encoding="utf-8") as handle:
        shipped_only = [row for row in csv.DictReader(handle) if row["status"] == "SHIPPED"]
    assert shipped_only and all(row["delivered_at"] == "" for row in shipped_only)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", shipped_only[0]["shipped_at"])
    assert {row["active"] for row in csv.DictReader((tmp_path / "products.csv").open(encoding="utf-8"))} == {
        "true",
        "false",
    }


def test_parquet_tables_have_typed_columns_and_exactly_the_database_rows(filled, tmp_path):
    written = export_database(filled, "parquet", tmp_path, batch_size=SMALL_BATCH)
    assert [f.path.name for f in written] == [f"{name}.parquet" for name in TABLES]
    for exported in written:
        table = pq.read_table(exported.path)
        assert table.to_pylist() == _database_rows(filled, TABLES[exported.name]), exported.name
        assert exported.rows == table.num_rows > 0
    schema = pq.read_schema(tmp_path / "orders.parquet")
    assert schema.field("id").type == pa.int64() and not schema.field("id").nullable
    assert schema.field("total").type == pa.decimal128(14, 2)
    assert schema.field("order_date").type == pa.date32()
    assert pq.read_schema(tmp_path / "payments.parquet").field("paid_at").type == pa.timestamp("us")
    assert pq.read_schema(tmp_path / "products.parquet").field("active").type == pa.bool_()


def test_only_the_chosen_tables_are_written_in_the_schema_order(filled, tmp_path):
    written = export_database(filled, "parquet", tmp_path, ["payments", "customers"])
    assert [f.name for f in written] == ["customers", "payments"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.parquet", "payments.parquet"]


def test_an_empty_table_gives_a_file_with_only_its_columns(sql_store, tmp_path):
    written = export_database(sql_store, "parquet", tmp_path, ["shipments"])
    assert written[0].rows == 0
    assert pq.read_table(written[0].path).column_names == [c.name for c in TABLES["shipments"].columns]
    export_database(sql_store, "csv", tmp_path, ["shipments"])
    assert (tmp_path / "shipments.csv").read_text(encoding="utf-8").count("\n") == 1


# -- bad input and failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "tables", "batch_size", "field", "words"),
    [
        ("xml", None, 100, "format", "seed000, csv, parquet"),
        ("csv", ["orders", "invoices"], 100, "table", "unknown table 'invoices'"),
        ("seed000", ["orders"], 100, "table", "csv and parquet"),
        ("csv", None, 0, "batch_size", "at least 1"),
    ],
)
def test_bad_parameters_are_named_and_nothing_is_written(sqlite_store, tmp_path, fmt, tables, batch_size, field, words):
    out = tmp_path / "out"
    with pytest.raises(InvalidInput) as raised:
        export_database(sqlite_store, fmt, out, tables, batch_size=batch_size)
    assert raised.value.field == field and words in raised.value.message
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_is_a_clear_error(sqlite_store, tmp_path):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        export_database(sqlite_store, "seed000", tmp_path / "a-file" / "out")
    assert raised.value.field == "out" and "a-file" in raised.value.message


def test_a_folder_in_the_way_of_a_file_is_a_clear_error_before_anything_is_written(sqlite_store, tmp_path):
    (tmp_path / "sales.csv").mkdir()
    with pytest.raises(InvalidInput) as raised:
        export_database(sqlite_store, "seed000", tmp_path)
    assert raised.value.field == "out" and "sales.csv" in raised.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports.db", "exports.db-shm", "exports.db-wal", "sales.csv"]


# PyMySQL warns when it discards the rest of a streamed result, which an interrupted export does.
@pytest.mark.filterwarnings("ignore:Previous unbuffered result was left incomplete:UserWarning")
def test_an_interrupted_export_leaves_the_old_files_and_no_partial_one(sql_store, tmp_path):
    add_orders(sql_store)
    (tmp_path / "customers.csv").write_text("custid,custname,city\n", encoding="utf-8")

    def interrupt(filename: str, rows: int, total: int) -> None:
        if filename == "sales.csv" and rows > 0:
            raise KeyboardInterrupt  # Ctrl-C halfway through the second file

    with pytest.raises(KeyboardInterrupt):
        export_database(sql_store, "seed000", tmp_path, batch_size=SMALL_BATCH, progress=interrupt)
    assert [p.name for p in tmp_path.iterdir()] == ["customers.csv"]
    assert (tmp_path / "customers.csv").read_text(encoding="utf-8") == "custid,custname,city\n"


def test_parquet_without_pyarrow_says_how_to_install_it(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as on a machine without the extra
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InvalidInput) as raised:
        export_database(sqlite_store, "parquet", tmp_path / "out")
    assert raised.value.field == "format"
    assert 'pip install "salesmcp[parquet]"' in raised.value.message
    assert not (tmp_path / "out").exists()


def test_the_demo_database_exports_seed_000s_own_data(sqlite_store, tmp_path):
    export_database(sqlite_store, "seed000", tmp_path / "out")
    with sqlite_store.reading() as connection:
        assert connection.execute(select(func.count()).select_from(orders)).scalar_one() == 12
    sales = CsvSales(tmp_path / "out" / "sales.csv")
    assert sales.revenue_by_customer(dt.date(2026, 1, 1), dt.date(2026, 1, 31), ["012"])["012"].amount == 14


def test_seed000_sales_are_exactly_the_orders_revenue_counts_whatever_their_status(filled, tmp_path):
    export_database(filled, "seed000", tmp_path)
    exported = [s.ordid for s in CsvSales(tmp_path / "sales.csv").sales_between(dt.date.min, dt.date.max)]
    counted = [s.ordid for s in filled.sales_between(dt.date.min, dt.date.max)]
    assert sorted(exported) == sorted(counted)
    with filled.reading() as connection:
        statuses = dict(connection.execute(select(orders.c.id, orders.c.status)).all())
    assert {statuses[ordid] for ordid in exported} == {"PLACED", "PAID", "SHIPPED", "DELIVERED"}
    assert len(exported) == sum(status != "CANCELLED" for status in statuses.values())

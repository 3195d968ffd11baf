import datetime as dt
from decimal import Decimal

import pytest

from salesmcp.errors import DataFileError
from salesmcp.models import Revenue
from salesmcp.store.csv_store import CsvCustomers, CsvSales

JAN = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_customers_are_found_by_custid_exactly_as_written(store):
    assert store.customer("011").custname == "Annie"
    assert store.customer("11") is None


def test_city_lookup_ignores_case_and_surrounding_spaces_and_sorts_by_custid(store):
    assert [c.custid for c in store.customers_in_city("  eINDHOVEN ")] == ["011", "012", "016"]
    assert store.customers_in_city("Utrecht") == []


def test_sales_between_includes_both_ends_sorted_by_date_then_ordid(store):
    sales = list(store.sales_between(dt.date(2026, 1, 3), dt.date(2026, 1, 19)))
    assert [s.ordid for s in sales] == [501, 502, 503, 504]


def test_sales_between_filters_by_customers(store):
    sales = list(store.sales_between(*JAN, custids=["011", "016", "999"]))
    assert [(s.ordid, s.custid) for s in sales] == [(504, "016"), (505, "011"), (507, "011")]
    assert list(store.sales_between(*JAN, custids=[])) == []


def test_sales_keep_exact_amounts(store):
    assert next(iter(store.sales_between(dt.date(2026, 1, 3), dt.date(2026, 1, 3)))).ordamount == Decimal(9)


def test_revenue_by_customer_sums_and_counts_and_omits_customers_without_sales(store):
    assert store.revenue_by_customer(*JAN, ["011", "012", "015", "nobody"]) == {
        "011": Revenue(Decimal(19), 2),
        "012": Revenue(Decimal(14), 2),
    }


def test_revenue_is_exact_for_decimal_amounts(tmp_path):
    sales = CsvSales(
        write(
            tmp_path / "s.csv",
            "ordid,custid,orddate,ordamount\n1,a,20260101,0.10\n2,a,20260102,0.20\n3,a,20260103,1234567.0001\n",
        )
    )
    revenue = sales.revenue_by_customer(dt.date(2026, 1, 1), dt.date(2026, 1, 3), ["a"])["a"]
    assert revenue == Revenue(Decimal("1234567.3001"), 3)


def test_sales_columns_may_come_in_any_order(tmp_path):
    sales = CsvSales(write(tmp_path / "s.csv", "orddate,ordamount,ordid,custid\n20260105,4,7,x\n"))
    (sale,) = sales.sales_between(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert (sale.ordid, sale.custid, sale.ordamount) == (7, "x", Decimal(4))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ordid,custid,orddate\n1,a,20260101\n", "missing ordamount"),
        ("ordid,custid,orddate,ordamount\n1,a,2026-01-01,3\n", "line 2: orddate '2026-01-01'"),
        ("ordid,custid,orddate,ordamount\n1,a,20260101,three\n", "line 2: ordamount 'three' is not a number"),
        ("ordid,custid,orddate,ordamount\n1,a,20260101,1.00001\n", "more than 4 decimals"),
        ("ordid,custid,orddate,ordamount\nX1,a,20260101,1\n", "ordid 'X1' is not a whole number"),
        ("ordid,custid,orddate,ordamount\n1,a,20260101\n", "line 2: expected 4 fields"),
    ],
)
def test_malformed_sales_files_are_reported_with_the_line(tmp_path, content, message):
    with pytest.raises(DataFileError, match=message):
        CsvSales(write(tmp_path / "sales.csv", content))


def test_duplicate_custids_are_reported(tmp_path):
    with pytest.raises(DataFileError, match="line 3: custid '1' appears twice"):
        CsvCustomers(write(tmp_path / "c.csv", "custid,custname,city\n1,A,X\n1,B,Y\n"))


def test_a_missing_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(DataFileError, match="cannot open .*nope.csv"):
        CsvCustomers(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("text", "amount"),
    [("9", "9"), ("-5.25", "-5.25"), ("+3.5", "3.5"), (".75", "0.75"), ("12.0001", "12.0001"), ("1e2", "100")],
)
def test_amounts_in_any_plain_decimal_form_are_read_exactly(tmp_path, text, amount):
    sales = CsvSales(write(tmp_path / "s.csv", f"ordid,custid,orddate,ordamount\n1,a,20260101,{text}\n"))
    assert sales.revenue_by_customer(dt.date(2026, 1, 1), dt.date(2026, 1, 1), ["a"])["a"].amount == Decimal(amount)


def test_large_ids_and_amounts_keep_their_exact_values(tmp_path):
    # Columns are held as int32 when every value fits, int64 otherwise.
    sales = CsvSales(
        write(
            tmp_path / "s.csv", "ordid,custid,orddate,ordamount\n9000000000,a,20260101,987654321.1234\n1,a,20260102,1\n"
        )
    )
    (first, second) = sales.sales_between(dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert (first.ordid, first.ordamount) == (9_000_000_000, Decimal("987654321.1234"))
    assert sales.revenue_by_customer(dt.date(2026, 1, 1), dt.date(2026, 1, 2), ["a"])["a"].amount == Decimal(
        "987654322.1234"
    )

"""query_metrics and dimension_values on generated data, on SQLite, MariaDB and PostgreSQL: every number equals
an independent computation on the raw rows (plain Python over a plain SELECT), to the cent."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from salesmcp.errors import InvalidInput
from salesmcp.services.analytics import DEFAULT_LIMIT, dimension_values, query_metrics
from salesmcp.services.analytics.query import Compiled, Plan
from salesmcp.store.replica import Replica
from salesmcp.store.schema import customers, order_items, orders, payments, products, returns, shipments
from salesmcp.store.sql_store import SqlStore
from tests.conftest import emptied_database
from tests.integration.services.generator.tables import generate, scratch_store

ORDERS = 3000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANSWERS: dict[str, dict[str, Any]] = {}  # per database: the answers, to compare across databases


@pytest.fixture(scope="module", params=["sqlite", "mariadb", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """The same generated data (the generator is deterministic) in each database."""
    url = emptied_database(request, request.param, demo_data=False)
    with scratch_store(url) as store:
        generate(store, rows=ORDERS, seed=11, start_date="2025-01-01", end_date="2026-06-30")
        yield store


@pytest.fixture(scope="module", params=["database", "duckdb"])
def store(
    request: pytest.FixtureRequest, database: SqlStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlStore]:
    """Answered by the database itself, or by the columnar copy kept in step with it."""
    replica = Replica(database.engine, tmp_path_factory.mktemp("replica")) if request.param == "duckdb" else None
    store = SqlStore(database.engine, replica)
    store.database_name = f"{database.engine.dialect.name}/{request.param}"  # type: ignore[attr-defined]
    yield store
    if replica is not None:
        assert replica.broken is None
        replica.close()


class Raw:
    """The raw rows, read with plain SELECTs: the independent side of every comparison."""

    def __init__(self, store: SqlStore) -> None:
        with store.reading() as connection:
            self.customers = {row.id: row for row in connection.execute(select(customers))}
            self.products = {row.id: row for row in connection.execute(select(products))}
            self.orders = list(connection.execute(select(orders)))
            self.items = list(connection.execute(select(order_items)))
            self.payments = {row.order_id: row.method for row in connection.execute(select(payments))}
            self.shipments = {row.order_id: row for row in connection.execute(select(shipments))}
            self.returns = {row.order_item_id: row for row in connection.execute(select(returns))}
        self.refunded: dict[int, Decimal] = defaultdict(Decimal)  # order id → refunds given
        for row in self.returns.values():
            if row.refunded_at is not None:
                self.refunded[row.order_id] += _money(row.refund)
        self.first: dict[int, int] = {}  # customer id → its first counted order's id
        for order in sorted(self.orders, key=lambda o: (_day(o.order_date), o.id)):
            if order.status != "CANCELLED":
                self.first.setdefault(order.customer_id, order.id)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _round(value: Decimal, places: int) -> float:
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def order_metrics(raw: Raw, chosen: list[Any]) -> dict[str, Any]:
    counted = [o for o in chosen if o.status != "CANCELLED"]
    revenue = sum((_money(o.total) for o in counted), Decimal(0))
    delivered = [o for o in counted if o.id in raw.shipments and raw.shipments[o.id].delivered_at is not None]
    days = sum((raw.shipments[o.id].delivered_at.date() - _day(o.order_date)).days for o in delivered)
    return {
        "revenue": float(revenue),
        "orders": len(counted),
        "average_order_value": _round(revenue / len(counted), 2) if counted else None,
        "customers": len({o.customer_id for o in counted}),
        "new_customers": sum(1 for o in counted if raw.first.get(o.customer_id) == o.id),
        "net_revenue": float(revenue - sum((raw.refunded[o.id] for o in counted), Decimal(0))),
        "cancellation_rate": _round(Decimal(len(chosen) - len(counted)) / len(chosen), 4) if chosen else None,
        "average_delivery_days": _round(Decimal(days) / len(delivered), 2) if delivered else None,
    }


def by(raw: Raw, key: Callable[[Any], Any], chosen: list[Any] | None = None) -> dict[Any, dict[str, Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for order in raw.orders if chosen is None else chosen:
        groups[key(order)].append(order)
    return {value: order_metrics(raw, rows) for value, rows in groups.items()}


ORDER_METRICS = ["revenue", "orders", "average_order_value", "customers", "new_customers", "net_revenue",
                 "cancellation_rate", "average_delivery_days"]  # fmt: skip


def _rows(answer: dict[str, Any], dimension: str) -> dict[Any, dict[str, Any]]:
    return {row[dimension]: {k: v for k, v in row.items() if k != dimension} for row in answer["rows"]}


def test_every_order_metric_by_month_equals_the_raw_rows(store: SqlStore) -> None:
    raw = Raw(store)
    answer = query_metrics(store, metrics=ORDER_METRICS, group_by=["month"], limit=1000)
    expected = by(raw, lambda o: _day(o.order_date).strftime("%Y-%m"))
    assert _rows(answer, "month") == expected
    assert answer["total_rows"] == len(expected) == 18 and answer["truncated"] is False
    assert answer["totals"] == order_metrics(raw, raw.orders)
    ANSWERS.setdefault(store.database_name, {})["month"] = answer["rows"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("dimension", "key"),
    [
        ("day", lambda o: _day(o.order_date).isoformat()),
        ("week", lambda o: "{}-W{:02d}".format(*_day(o.order_date).isocalendar()[:2])),
        ("quarter", lambda o: f"{_day(o.order_date).year}-Q{(_day(o.order_date).month + 2) // 3}"),
        ("year", lambda o: str(_day(o.order_date).year)),
        ("weekday", lambda o: WEEKDAYS[_day(o.order_date).weekday()]),
        ("status", lambda o: o.status),
    ],
)
def test_time_grains_weekday_and_status_group_like_python_does(store: SqlStore, dimension: str, key: Any) -> None:
    raw = Raw(store)
    answer = query_metrics(store, metrics=["revenue", "orders"], group_by=[dimension], limit=1000)
    expected = {value: {m: row[m] for m in ("revenue", "orders")} for value, row in by(raw, key).items()}
    assert _rows(answer, dimension) == expected
    everything = order_metrics(raw, raw.orders)  # totals summed from the groups: still the whole window's
    assert answer["totals"] == {"revenue": everything["revenue"], "orders": everything["orders"]}


def test_customer_city_country_payment_and_carrier_are_the_raw_rows(store: SqlStore) -> None:
    raw = Raw(store)
    keys = {
        "city": lambda o: raw.customers[o.customer_id].city,
        "country": lambda o: raw.customers[o.customer_id].country,
        "payment_method": lambda o: raw.payments.get(o.id),
        "carrier": lambda o: raw.shipments[o.id].carrier if o.id in raw.shipments else None,
    }
    for dimension, key in keys.items():
        answer = query_metrics(store, metrics=["revenue", "customers"], group_by=[dimension], limit=1000)
        expected = {v: {m: row[m] for m in ("revenue", "customers")} for v, row in by(raw, key).items()}
        assert _rows(answer, dimension) == expected, dimension
    top = query_metrics(store, metrics=["revenue"], group_by=["customer"], order_by="-revenue", limit=3)
    spend = by(raw, lambda o: raw.customers[o.customer_id].custid)
    best = sorted(spend.items(), key=lambda item: (-item[1]["revenue"], item[0]))[:3]
    assert [(row["customer"], row["revenue"]) for row in top["rows"]] == [(c, m["revenue"]) for c, m in best]
    assert all(row["customer_name"] for row in top["rows"])
    assert top["total_rows"] == len(spend) and top["truncated"] is True


def test_net_sales_and_units_by_category_and_product_are_the_lines_of_counted_orders(store: SqlStore) -> None:
    raw = Raw(store)
    status = {o.id: o.status for o in raw.orders}
    for dimension, key in (("category", lambda p: p.category), ("product", lambda p: p.sku)):
        # A group per value with lines; a value whose lines are all in cancelled orders shows 0 (a product that
        # sold nothing that counted), as the catalogue's sums over counted lines give it.
        expected: dict[Any, dict[str, Any]] = defaultdict(lambda: {"net_sales": Decimal(0), "units": 0})
        for line in raw.items:
            group = expected[key(raw.products[line.product_id])]
            if status[line.order_id] != "CANCELLED":
                group["net_sales"] += _money(line.line_total)
                group["units"] += line.quantity
        answer = query_metrics(store, metrics=["net_sales", "units"], group_by=[dimension], limit=1000)
        got = {row[dimension]: (row["net_sales"], row["units"]) for row in answer["rows"]}
        assert got == {k: (float(v["net_sales"]), v["units"]) for k, v in expected.items()}, dimension


def test_refunds_returned_units_and_return_rate_by_category_product_and_month_are_the_returns_of_counted_lines(
    store: SqlStore,
) -> None:
    raw = Raw(store)
    orders_by_id = {o.id: o for o in raw.orders}
    keys = {
        "category": lambda line: raw.products[line.product_id].category,
        "product": lambda line: raw.products[line.product_id].sku,
        "month": lambda line: _day(orders_by_id[line.order_id].order_date).strftime("%Y-%m"),
    }
    assert raw.returns and any(row.refunded_at is None for row in raw.returns.values())
    for dimension, key in keys.items():
        sums: dict[Any, dict[str, Any]] = defaultdict(lambda: {"refunds": Decimal(0), "returned": 0, "units": 0})
        for line in raw.items:
            group = sums[key(line)]
            if orders_by_id[line.order_id].status == "CANCELLED":
                continue
            group["units"] += line.quantity
            sent_back = raw.returns.get(line.id)
            if sent_back is not None:
                group["returned"] += sent_back.quantity
                if sent_back.refunded_at is not None:
                    group["refunds"] += _money(sent_back.refund)
        expected = {
            value: {"refunds": float(g["refunds"]), "returned_units": g["returned"],
                    "return_rate": _round(Decimal(g["returned"]) / g["units"], 4) if g["units"] else None}
            for value, g in sums.items()
        }  # fmt: skip
        got: dict[Any, dict[str, Any]] = {}
        # Products one category at a time: all of them in one answer would pass its 32 KB.
        for chosen in sorted({p.category for p in raw.products.values()}) if dimension == "product" else [None]:
            answer = query_metrics(store, metrics=["refunds", "returned_units", "return_rate"], group_by=[dimension],
                                   filters={"category": chosen} if chosen else None, limit=1000)  # fmt: skip
            assert answer["truncated"] is False
            got.update({value: {k: v for k, v in row.items() if k != "product_name"}
                        for value, row in _rows(answer, dimension).items()})  # fmt: skip
        assert got == expected, dimension
    clothing, books = (expected_rate(raw, orders_by_id, category) for category in ("Clothing", "Books"))
    assert clothing > 3 * books  # clothes come back far more often


def expected_rate(raw: Raw, orders_by_id: dict[int, Any], category: str) -> float:
    lines = [line for line in raw.items if raw.products[line.product_id].category == category
             and orders_by_id[line.order_id].status != "CANCELLED"]  # fmt: skip
    returned = sum(raw.returns[line.id].quantity for line in lines if line.id in raw.returns)
    return returned / sum(line.quantity for line in lines)


def test_filters_compare_text_ignoring_case_and_a_window_includes_both_ends(store: SqlStore) -> None:
    raw = Raw(store)
    city = raw.customers[raw.orders[0].customer_id].city
    first, last = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
    chosen = [
        o for o in raw.orders if raw.customers[o.customer_id].city == city and first <= _day(o.order_date) <= last
    ]
    answer = query_metrics(store, metrics=["revenue", "orders"], filters={"city": city.upper()},
                           start_date="20250301", end_date="2025-03-31")  # fmt: skip
    expected = order_metrics(raw, chosen)
    assert answer["rows"] == [{"revenue": expected["revenue"], "orders": expected["orders"]}]
    none_paid = query_metrics(store, metrics=["orders"], filters={"payment_method": None, "status": ["placed"]})
    assert none_paid["totals"]["orders"] == sum(
        1 for o in raw.orders if o.status == "PLACED" and o.id not in raw.payments
    )


def test_the_same_data_gives_the_same_answer_on_every_database_and_engine(store: SqlStore) -> None:
    answers = {name: json.dumps(answer, sort_keys=True) for name, answer in ANSWERS.items()}
    assert store.database_name in answers  # type: ignore[attr-defined]
    assert len(set(answers.values())) == 1, sorted(answers)


def test_an_answer_reflects_a_customer_moved_to_another_city_in_the_next_query(store: SqlStore) -> None:
    raw = Raw(store)
    mover = raw.orders[0].customer_id
    before = query_metrics(store, metrics=["orders"], filters={"city": "Nowhere Town"})["totals"]["orders"]
    assert before == 0
    with store.transaction() as connection:
        old = connection.execute(select(customers.c.city).where(customers.c.id == mover)).scalar_one()
        connection.execute(update(customers).where(customers.c.id == mover).values(city="Nowhere Town"))
    try:
        after = query_metrics(store, metrics=["orders"], filters={"city": "nowhere town"})["totals"]["orders"]
        assert after == sum(1 for o in raw.orders if o.customer_id == mover and o.status != "CANCELLED")
    finally:
        with store.transaction() as connection:
            connection.execute(update(customers).where(customers.c.id == mover).values(city=old))


def test_the_default_answer_is_bounded_and_says_what_it_left_out(store: SqlStore) -> None:
    answer = query_metrics(store, metrics=ORDER_METRICS, group_by=["customer", "month"])
    assert len(answer["rows"]) == DEFAULT_LIMIT and answer["truncated"] is True
    assert answer["total_rows"] > DEFAULT_LIMIT
    assert len(json.dumps(answer, separators=(",", ":")).encode()) <= 32 * 1024


def test_dimension_values_find_part_of_a_name_ignoring_case(store: SqlStore) -> None:
    raw = Raw(store)
    city = raw.customers[raw.orders[0].customer_id].city
    found = dimension_values(store, "city", search=city[1:4].upper())
    assert city in [entry["value"] for entry in found["values"]]
    counts = defaultdict(int)
    for order in raw.orders:
        counts[raw.customers[order.customer_id].city] += 1
    assert next(e["orders"] for e in found["values"] if e["value"] == city) == counts[city]
    categories = dimension_values(store, "category")
    assert {e["value"] for e in categories["values"]} == {p.category for p in raw.products.values()}


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"metrics": ["profit"]}, "metrics", "unknown metric 'profit'"),
        ({"metrics": []}, "metrics", "at least one metric"),
        ({"metrics": ["revenue"], "group_by": ["category"]}, "group_by", "net_sales"),
        ({"metrics": ["revenue", "units"]}, "metrics", "separate queries"),
        ({"metrics": ["revenue"], "group_by": ["colour"]}, "group_by", "unknown dimension 'colour'"),
        ({"metrics": ["revenue"], "filters": {"product": "x"}}, "filters", "net_sales"),
        ({"metrics": ["revenue"], "start_date": "20250231"}, "start_date", ""),
        ({"metrics": ["revenue"], "start_date": "20250301", "end_date": "20250201"}, "start_date", "after"),
        ({"metrics": ["revenue"], "limit": 0}, "limit", "1 to"),
        ({"metrics": ["revenue"], "order_by": "-orders"}, "order_by", "not one of this query's"),
        ({"metrics": ["revenue"], "compare": "last_week"}, "compare", "previous_period"),
        ({"metrics": ["revenue"], "filters": {"weekday": "Funday"}}, "filters", "day name"),
    ],
)
def test_bad_questions_are_errors_naming_the_parameter_and_the_rule(
    store: SqlStore, arguments: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        query_metrics(store, **arguments)
    assert refused.value.field == field and words in refused.value.message


def test_compare_adds_the_earlier_window_at_the_same_positions(store: SqlStore) -> None:
    raw = Raw(store)
    answer = query_metrics(store, metrics=["revenue", "orders"], group_by=["month"], start_date="2026-01-01",
                           end_date="2026-03-31", compare="previous_year")  # fmt: skip
    monthly = by(raw, lambda o: _day(o.order_date).strftime("%Y-%m"))
    for row in answer["rows"]:
        earlier = monthly[f"2025-{row['month'][5:]}"]
        assert row["revenue_previous"] == earlier["revenue"] and row["orders_previous"] == earlier["orders"]
        expected = Decimal(str(row["revenue"])) / Decimal(str(earlier["revenue"])) * 100 - 100
        assert row["revenue_change_pct"] == _round(expected, 1)
    first_quarter = [o for o in raw.orders if dt.date(2025, 1, 1) <= _day(o.order_date) <= dt.date(2025, 3, 31)]
    assert answer["totals"]["revenue_previous"] == order_metrics(raw, first_quarter)["revenue"]
    assert answer["compare"] == {"with": "previous_year", "start_date": "2025-01-01", "end_date": "2025-03-31"}
    period = query_metrics(store, metrics=["orders"], start_date="2026-03-01", end_date="2026-03-31",
                           compare="previous_period")  # fmt: skip
    before = [o for o in raw.orders if dt.date(2026, 1, 29) <= _day(o.order_date) <= dt.date(2026, 2, 28)]
    assert period["totals"]["orders_previous"] == order_metrics(raw, before)["orders"]


def test_explain_change_adds_up_to_the_change_to_the_cent_and_names_the_biggest_movers(store: SqlStore) -> None:
    from salesmcp.services.analytics.explain import explain_change

    raw = Raw(store)
    answer = explain_change(store, "revenue", "2026-01-01", "2026-03-31", "previous_year", "city", 5)
    city = {cid: row.city for cid, row in raw.customers.items()}

    def revenue_by_city(first: dt.date, last: dt.date) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for o in raw.orders:
            if first <= _day(o.order_date) <= last and o.status != "CANCELLED":
                totals[city[o.customer_id]] += _money(o.total)
        return totals

    now = revenue_by_city(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    before = revenue_by_city(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    change = sum(now.values(), Decimal(0)) - sum(before.values(), Decimal(0))
    assert Decimal(str(answer["change"])) == change
    parts = [Decimal(str(c["change"])) for c in answer["contributors"]] + [Decimal(str(answer["rest"]["change"]))]
    assert sum(parts, Decimal(0)) == change
    movers = sorted({*now, *before}, key=lambda c: (-abs(now.get(c, 0) - before.get(c, 0)), c))[:5]
    assert [c["city"] for c in answer["contributors"]] == movers
    effects = answer["effects"]
    assert Decimal(str(effects["orders"])) + Decimal(str(effects["average_order_value"])) == change
    with pytest.raises(InvalidInput) as refused:
        explain_change(store, "revenue", "2026-01-01", "2026-03-31", "previous_year", "category")
    assert refused.value.field == "by" and "net_sales" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        explain_change(store, "average_order_value", "2026-01-01", "2026-03-31", "previous_year", "city")
    assert refused.value.field == "metric"


def test_explain_change_of_refunds_by_category_adds_up_to_the_refunds_of_the_raw_rows(store: SqlStore) -> None:
    from salesmcp.services.analytics.explain import explain_change

    raw = Raw(store)
    orders_by_id = {o.id: o for o in raw.orders}

    def refunds_by_category(first: dt.date, last: dt.date) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in raw.returns.values():
            order = orders_by_id[row.order_id]
            if first <= _day(order.order_date) <= last and order.status != "CANCELLED" and row.refunded_at:
                totals[raw.products[row.product_id].category] += _money(row.refund)
        return totals

    answer = explain_change(store, "refunds", "2026-01-01", "2026-03-31", "previous_year", "category", 3)
    now = refunds_by_category(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    before = refunds_by_category(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    change = sum(now.values(), Decimal(0)) - sum(before.values(), Decimal(0))
    assert change != 0 and Decimal(str(answer["change"])) == change
    parts = [Decimal(str(c["change"])) for c in answer["contributors"]] + [Decimal(str(answer["rest"]["change"]))]
    assert sum(parts, Decimal(0)) == change


def test_groups_counted_apart_give_the_same_answer_as_the_window(store: SqlStore) -> None:
    """DuckDB holds a window over the groups in memory: with millions of groups the copy counts them apart."""
    plan = Plan(metrics=["revenue", "orders"], group_by=["customer", "month"], order_by="-revenue", limit=7)
    with store.analytic_reading() as reading:
        answers = []
        for apart in (False, True):
            compiled = Compiled(plan, reading.dialect, count_apart=apart)
            rows = [dict(row._mapping) for row in reading.connection.execute(compiled.statement)]
            groups = reading.connection.execute(compiled.groups).scalar_one()
            answers.append(([{k: v for k, v in row.items() if k != "total_groups"} for row in rows], groups))
            if not apart:
                assert all(row["total_groups"] == groups for row in rows)
    assert answers[0] == answers[1] and len(answers[0][0]) == 7 and answers[0][1] > 7


def test_dimension_values_search_days_as_text_and_weekdays_by_name(store: SqlStore) -> None:
    raw = Raw(store)
    days = dimension_values(store, "day", search="2026-03-1", limit=1000)
    expected = {
        _day(o.order_date).isoformat() for o in raw.orders if _day(o.order_date).isoformat().startswith("2026-03-1")
    }
    assert {entry["value"] for entry in days["values"]} == expected and days["total_values"] == len(expected)
    assert [entry["value"] for entry in dimension_values(store, "weekday", search="MON")["values"]] == ["Monday"]
    assert dimension_values(store, "weekday", search="0")["values"] == []

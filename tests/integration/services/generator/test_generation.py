"""Generated data on SQLite, MariaDB and PostgreSQL: realistic, consistent, deterministic and idempotent.

Each database goes through one story per module (``story``): reset, generate the request below
(two blocks of orders), read every table back, repeat the request, append a smaller run with the
same seed, replace, reset. The properties are checked on the first run's rows as read back; the
later steps' observations serve the determinism and idempotency tests.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from salesmcp.services import generator
from salesmcp.services.generator import RunOut
from salesmcp.services.generator.make import ORDER_BLOCK
from salesmcp.services.generator.runs import plan_of
from salesmcp.store.schema import (
    RETURN_REASONS,
    customers,
    generation_runs,
    order_items,
    orders,
    payments,
    products,
    returns,
    shipments,
)
from salesmcp.store.sql_store import SqlStore
from tests.conftest import DATABASES
from tests.integration.services.generator.tables import (
    DATA_TABLES,
    generate,
    read_tables,
    scratch_store,
    sqlite_url,
    table_digests,
)

SEED = 20_251
# Two blocks of orders; 360 products (products_per_order 0.03, above the least catalogue of 300), so that their top
# 1% is more than one.
REQUEST = {"rows": ORDER_BLOCK + 2_000, "seed": SEED, "start_date": "2024-03-01", "end_date": "20250831",
           "products_per_order": 0.03}  # fmt: skip
APPENDED = {**REQUEST, "rows": 3_000, "mode": "append"}  # the same seed on purpose: still no duplicates
WINDOW = (dt.date(2024, 3, 1), dt.date(2025, 8, 31))
PAID = ("PAID", "SHIPPED", "DELIVERED")
SHIPPED = ("SHIPPED", "DELIVERED")


@dataclass
class Story:
    """What one database went through: the data of the first run, and what each later step did."""

    store: SqlStore
    first: RunOut
    tables: dict[str, list[dict[str, Any]]]  # the first run's data, read back
    digests: dict[str, str]
    repeated: RunOut
    repeated_todo: bool
    counts_before_repeat: dict[str, int]
    counts_after_repeat: dict[str, int]
    appended: RunOut
    after_append: dict[str, Any]  # observations of the two runs' data
    replaced: RunOut
    replaced_digests: dict[str, str]
    new_customer_after_reset: int


LINKS = (
    (orders, orders.c.customer_id, customers),
    (order_items, order_items.c.order_id, orders),
    (order_items, order_items.c.product_id, products),
    (payments, payments.c.order_id, orders),
    (shipments, shipments.c.order_id, orders),
    (returns, returns.c.order_id, orders),
    (returns, returns.c.order_item_id, order_items),
    (returns, returns.c.product_id, products),
)
UNIQUE = ((customers, customers.c.email), (customers, customers.c.custid), (products, products.c.sku))


def _orphans(store: SqlStore) -> dict[str, int]:
    """Rows per foreign key that point at no row (anti-joins), and orders without a line."""
    found = {}
    with store.reading() as connection:
        for child, reference, parent in LINKS:
            found[f"{child.name}.{reference.name}"] = connection.execute(
                select(func.count()).select_from(child.outerjoin(parent, reference == parent.c.id))
                .where(parent.c.id.is_(None))
            ).scalar_one()  # fmt: skip
        found["orders without lines"] = connection.execute(
            select(func.count()).select_from(orders.outerjoin(order_items, order_items.c.order_id == orders.c.id))
            .where(order_items.c.id.is_(None))
        ).scalar_one()  # fmt: skip
    return found


def _two_runs(store: SqlStore) -> dict[str, Any]:
    with store.reading() as connection:
        duplicates = {
            f"{table.name}.{column.name}": connection.execute(
                select(column).group_by(column).having(func.count() > 1).limit(5)
            ).scalars().all()
            for table, column in UNIQUE
        }  # fmt: skip
        ranges = {table.name: tuple(connection.execute(select(func.min(table.c.id), func.max(table.c.id),
                                                              func.count())).one())
                  for table in DATA_TABLES}  # fmt: skip
        runs = connection.execute(select(generation_runs).order_by(generation_runs.c.id)).all()
        # Which customers the second run's orders belong to: the lowest and highest customer id.
        base = runs[1].bases
        second_customers = tuple(connection.execute(
            select(func.min(orders.c.customer_id), func.max(orders.c.customer_id)).where(orders.c.id > base["orders"])
        ).one())  # fmt: skip
    return {"orphans": _orphans(store), "duplicates": duplicates, "ranges": ranges, "runs": runs,
            "second_customers": second_customers}  # fmt: skip


def _new_customer_id(store: SqlStore) -> int:
    """The id the database gives a customer inserted without one (as the customer API does)."""
    with store.transaction() as connection:
        row = {"custid": "NEW-1", "name": "New Customer"}
        return int(connection.execute(insert(customers).values(**row)).inserted_primary_key[0])


@pytest.fixture(scope="module")
def reference_digests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The request made once into a fresh SQLite file of its own."""
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("reference") / "reference.db")) as store:
        generate(store, **REQUEST)
        return table_digests(store)


@pytest.fixture(scope="module", params=DATABASES)
def story(request: pytest.FixtureRequest) -> Iterator[Story]:
    """On a database that held other tests' rows: reset, generate, repeat, append, replace, reset."""
    url = request.getfixturevalue({"sqlite": "sqlite_url", "mariadb": "mysql_url", "postgresql": "postgres_url"}[
        request.param])  # fmt: skip
    with scratch_store(url) as store:  # the reset: ids restart, whatever the database held before
        first = generate(store, **REQUEST)
        tables = read_tables(store)

        counts_before_repeat = generator.table_counts(store)
        repeated, repeated_todo = generator.prepare_run(store, generator.build_request(REQUEST, 0, 10**7))
        counts_after_repeat = generator.table_counts(store)

        appended = generate(store, **APPENDED)
        after_append = _two_runs(store)

        replaced = generate(store, **{**REQUEST, "mode": "replace"})
        replaced_digests = table_digests(store)

        generator.reset(store)
        yield Story(
            store, first, tables, table_digests(tables), repeated, repeated_todo, counts_before_repeat,
            counts_after_repeat, appended, after_append, replaced, replaced_digests, _new_customer_id(store),
        )  # fmt: skip


def _by_order(rows: list[dict]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["order_id"]].append(row)
    return grouped


def _seconds(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- the runs ----------------------------------------------------------------------------------------


def test_a_run_reports_what_it_made(story):
    assert (story.first.state, story.first.progress, story.first.rows) == ("done", REQUEST["rows"], REQUEST["rows"])
    assert story.first.counts == {name: len(rows) for name, rows in story.tables.items()}
    assert story.first.counts["customers"] == REQUEST["rows"] // 10  # customers_per_order 0.1 (the default)
    assert story.first.counts["products"] == REQUEST["rows"] * 3 // 100
    assert (story.first.start_date, story.first.end_date, story.first.seed) == (*WINDOW, SEED)


# -- realism and consistency ----------------------------------------------------------------------------


def test_no_row_refers_to_a_missing_row_at_any_level(story):
    assert story.after_append["orphans"] == dict.fromkeys(story.after_append["orphans"], 0)


def test_every_order_has_one_to_eight_lines_of_positive_quantity(story):
    lines = _by_order(story.tables["order_items"])
    assert set(lines) == {order["id"] for order in story.tables["orders"]}
    sizes = Counter(len(order_lines) for order_lines in lines.values())
    assert min(sizes) == 1 and max(sizes) <= 8, sizes
    assert all(1 <= line["quantity"] <= 10 for line in story.tables["order_items"])


def test_money_adds_up_to_the_cent(story):
    lines = _by_order(story.tables["order_items"])
    prices = {product["id"]: product["price"] for product in story.tables["products"]}
    for line in story.tables["order_items"]:
        assert line["line_total"] == line["quantity"] * line["unit_price"], line
        assert line["unit_price"] == prices[line["product_id"]], line
    for order in story.tables["orders"]:
        assert order["subtotal"] == sum(line["line_total"] for line in lines[order["id"]]), order
        assert order["total"] == order["subtotal"] + order["tax"] + order["shipping_fee"], order
        assert abs(order["tax"] - order["subtotal"] * 0.21) <= 0.5, order  # tax_rate 0.21, to the cent
        assert order["shipping_fee"] == (0 if order["subtotal"] >= 5000 else 495), order


def test_payments_and_shipments_follow_the_status_and_time_only_moves_forward(story):
    payments_of = _by_order(story.tables["payments"])
    shipments_of = _by_order(story.tables["shipments"])
    as_of = dt.datetime.combine(WINDOW[1], dt.time(23, 59, 59))  # timestamps come from the window, not the clock
    statuses = Counter()
    for order in story.tables["orders"]:
        status = order["status"]
        statuses[status] += 1
        paid, shipped = payments_of.get(order["id"], []), shipments_of.get(order["id"], [])
        assert len(paid) == (1 if status in PAID else 0), order
        assert len(shipped) == (1 if status in SHIPPED else 0), order
        if paid:
            payment = paid[0]
            assert payment["amount"] == order["total"] and payment["currency"] == "EUR", (order, payment)
            paid_at = _seconds(payment["paid_at"])
            assert dt.datetime.fromisoformat(order["order_date"]) <= paid_at <= as_of, (order, payment)
        if shipped:
            shipment = shipped[0]
            shipped_at = _seconds(shipment["shipped_at"])
            assert paid_at <= shipped_at <= as_of, (order, payment, shipment)
            if status == "DELIVERED":
                assert shipment["status"] == "DELIVERED", shipment
                assert shipped_at <= _seconds(shipment["delivered_at"]) <= as_of, shipment
            else:
                assert (shipment["status"], shipment["delivered_at"]) == ("IN_TRANSIT", None), shipment
    assert set(statuses) == {"PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"}, statuses
    assert statuses["DELIVERED"] > len(story.tables["orders"]) / 2, statuses  # most orders have arrived
    assert 0.02 < statuses["CANCELLED"] / len(story.tables["orders"]) < 0.06, statuses  # cancel_rate 0.04


def test_returns_are_delivered_lines_sent_back_within_30_days_and_refunded_after(story):
    as_of = dt.datetime.combine(WINDOW[1], dt.time(23, 59, 59))
    lines = {line["id"]: line for line in story.tables["order_items"]}
    status = {order["id"]: order["status"] for order in story.tables["orders"]}
    delivered = {s["order_id"]: _seconds(s["delivered_at"]) for s in story.tables["shipments"] if s["delivered_at"]}
    sent_back = Counter(row["order_item_id"] for row in story.tables["returns"])
    assert sent_back and max(sent_back.values()) == 1  # a line comes back at most once
    for row in story.tables["returns"]:
        line = lines[row["order_item_id"]]
        assert (row["order_id"], row["product_id"]) == (line["order_id"], line["product_id"]), row
        assert status[row["order_id"]] == "DELIVERED", row
        assert 1 <= row["quantity"] <= line["quantity"] and row["reason"] in RETURN_REASONS, row
        returned = _seconds(row["returned_at"])
        assert delivered[row["order_id"]] < returned <= delivered[row["order_id"]] + dt.timedelta(days=30), row
        assert returned <= as_of, row
        if row["refunded_at"] is not None:
            assert returned + dt.timedelta(days=1) <= _seconds(row["refunded_at"]) <= as_of, row
            assert _seconds(row["refunded_at"]) <= returned + dt.timedelta(days=6), row
    delivered_lines = [line for line in story.tables["order_items"] if status[line["order_id"]] == "DELIVERED"]
    assert 0.06 < len(story.tables["returns"]) / len(delivered_lines) < 0.10  # return_rate 0.08
    assert {row["reason"] for row in story.tables["returns"]} == set(RETURN_REASONS)


def test_a_refund_is_the_goods_returned_and_their_tax_and_never_more_than_the_order_paid(story):
    lines = {line["id"]: line for line in story.tables["order_items"]}
    totals = {order["id"]: order["total"] - order["shipping_fee"] for order in story.tables["orders"]}
    refunded = Counter()
    for row in story.tables["returns"]:
        goods = row["quantity"] * lines[row["order_item_id"]]["unit_price"]
        assert row["refund"] == goods + math.floor(goods * 21 / 100), row  # tax_rate 0.21, rounded down
        refunded[row["order_id"]] += row["refund"]
    assert all(refunded[order] <= totals[order] for order in refunded)
    assert any(row["refunded_at"] is None for row in story.tables["returns"])  # the last days' are not refunded yet


def test_clothes_come_back_far_more_often_than_books(story):
    category = {product["id"]: product["category"] for product in story.tables["products"]}
    status = {order["id"]: order["status"] for order in story.tables["orders"]}
    delivered = Counter(category[line["product_id"]] for line in story.tables["order_items"]
                        if status[line["order_id"]] == "DELIVERED")  # fmt: skip
    returned = Counter(category[row["product_id"]] for row in story.tables["returns"])
    assert returned["Clothing"] / delivered["Clothing"] > 3 * returned["Books"] / delivered["Books"]


def test_order_dates_fill_the_window_and_customers_and_products_exist_before_it(story):
    first, last = (day.isoformat() for day in WINDOW)
    dates = [order["order_date"] for order in story.tables["orders"]]
    assert first <= min(dates) < "2024-03-08" and "2025-08-24" < max(dates) <= last
    for table in ("customers", "products"):
        assert max(row["created_at"] for row in story.tables[table]) < first, table


def test_stock_is_never_negative_and_with_what_was_sold_makes_the_planned_stock(story):
    stock = {product["id"]: product["stock"] for product in story.tables["products"]}
    assert min(stock.values()) >= 0
    cancelled = {order["id"] for order in story.tables["orders"] if order["status"] == "CANCELLED"}
    sold = Counter()
    for line in story.tables["order_items"]:
        if line["order_id"] not in cancelled:
            sold[line["product_id"]] += line["quantity"]
    plan = plan_of(story.after_append["runs"][0])
    assert sorted(stock) == list(range(1, plan.n_products + 1))
    assert [stock[i] + sold[i] for i in sorted(stock)] == plan.initial_stock.tolist()
    assert min(sold.values()) > 0


def test_emails_skus_and_custids_are_unique_also_across_two_runs_of_the_same_seed(story):
    assert story.after_append["duplicates"] == dict.fromkeys(story.after_append["duplicates"], [])
    emails = [row["email"] for row in story.tables["customers"]]
    assert len(set(emails)) == len(emails) and all("@" in email and email.isascii() for email in emails)


def test_weekend_days_have_more_orders_than_weekdays(story):
    per_date = Counter(order["order_date"] for order in story.tables["orders"])
    days = [WINDOW[0] + dt.timedelta(days=n) for n in range((WINDOW[1] - WINDOW[0]).days + 1)]
    weekend = [per_date[day.isoformat()] for day in days if day.weekday() >= 5]
    weekday = [per_date[day.isoformat()] for day in days if day.weekday() < 5]
    ratio = np.mean(weekend) / np.mean(weekday)
    assert 1.15 < ratio < 1.45, f"weekend/weekday orders per day = {ratio:.3f}; weekend_factor is 1.3"


def _top_share(counts: Counter, population: int) -> tuple[float, float]:
    """The share of the total held by the top 1% (at least one) of ``population``, and that 1%'s fair share."""
    top = math.ceil(population / 100)
    return sum(count for _, count in counts.most_common(top)) / sum(counts.values()), top / population


def test_customers_live_in_their_locales_countries_named_as_the_demo_data_names_them(story):
    # The default locales, nl_NL:3,de_DE:1: one name per country, so a group-by-country never splits one.
    assert {customer["country"] for customer in story.tables["customers"]} == {"Netherlands", "Germany"}


def test_a_few_customers_order_much_more_than_most(story):
    share, fair = _top_share(Counter(o["customer_id"] for o in story.tables["orders"]), len(story.tables["customers"]))
    assert share > 5 * fair, f"the top 1% of customers hold {share:.1%} of the orders"


def test_a_few_products_sell_much_more_than_most(story):
    sold = Counter()
    for line in story.tables["order_items"]:
        sold[line["product_id"]] += line["quantity"]
    share, fair = _top_share(sold, len(story.tables["products"]))
    assert share > 5 * fair, f"the top 1% of products hold {share:.1%} of the units sold"


# -- determinism -------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_tables_on_every_database(story, reference_digests):
    assert story.digests == reference_digests


def test_reset_then_the_same_generation_gives_the_same_ids_and_rows(story):
    # Replace resets (after two runs of data here), then generates: ids restart, rows repeat.
    assert (story.replaced.state, story.replaced.id, story.first.id) == ("done", 1, 1)
    assert story.replaced_digests == story.digests


def test_reset_restarts_the_id_sequences(story):
    assert story.new_customer_after_reset == 1


# -- idempotency ---------------------------------------------------------------------------------------------


def test_the_same_request_twice_writes_nothing_and_reports_the_earlier_run(story):
    assert (story.repeated.id, story.repeated.state, story.repeated_todo) == (story.first.id, "done", False)
    assert story.counts_after_repeat == story.counts_before_repeat


def test_append_adds_a_second_run_above_the_first_runs_ids(story):
    assert (story.appended.id, story.appended.state) == (story.first.id + 1, "done")
    ranges, second_run = story.after_append["ranges"], story.after_append["runs"][1]
    for name, made_first in story.first.counts.items():
        first_max = max(row["id"] for row in story.tables[name])
        assert second_run.bases[name] == first_max, name  # the second run writes above the first
        _, high, count = ranges[name]
        assert count == made_first + story.appended.counts[name] and high > first_max, name
    low, high = story.after_append["second_customers"]
    assert second_run.bases["customers"] < low <= high  # the new orders belong to the new customers


def test_replace_gives_the_same_data_as_a_fresh_run(story, reference_digests):
    assert story.replaced_digests == reference_digests

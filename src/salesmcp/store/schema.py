"""The unified SQL schema (DESIGN.md): one set of tables for all three seeds.

Changes go through Alembic revisions in ``salesmcp/migrations``; a test checks that the migrated
database matches these tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    false,
    func,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import SchemaItem

CustomerStatus = Literal["active", "disabled"]
OrderStatus = Literal["PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
CUSTOMER_STATUSES: tuple[CustomerStatus, ...] = get_args(CustomerStatus)
ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)
MONEY = Numeric(14, 2)
# custids are exact identifiers: "abc" and "ABC" differ, on MySQL/MariaDB (case-insensitive by default) too.
CUSTID = String(32).with_variant(mysql.VARCHAR(32, collation="utf8mb4_bin"), "mysql", "mariadb")
# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def _sql_list(values: tuple[str, ...]) -> str:
    """``('a', 'b')`` → ``'a', 'b'``: the values of a CHECK ... IN (...) constraint."""
    return ", ".join(f"'{value}'" for value in values)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("custid", CUSTID, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("email", String(254), unique=True),
    Column("phone", String(50)),
    Column("city", String(100)),
    Column("country", String(100)),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", DateTime, nullable=False, server_default=func.current_timestamp()),
    Column("updated_at", DateTime, nullable=False, server_default=func.current_timestamp()),
    CheckConstraint(f"status IN ({_sql_list(CUSTOMER_STATUSES)})", name="status"),
    Index(None, "city"),  # MySQL/MariaDB: compares case-insensitively by collation
    sqlite_autoincrement=True,  # ids (and custids made from them) are never reused
)
# SQLite and PostgreSQL look cities up by lower(city) (see SqlStore._city_matches).
LOWER_CITY_DIALECTS = ("sqlite", "postgresql")
# SQLAlchemy hints dialect as one str; its docs (and code) also take a tuple of names.
Index("ix_customers_lower_city", func.lower(customers.c.city)).ddl_if(dialect=LOWER_CITY_DIALECTS)  # type: ignore[arg-type]

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("category", String(100)),
    Column("price", MONEY, nullable=False),
    Column("stock", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", DateTime, nullable=False, server_default=func.current_timestamp()),
)

orders = Table(
    "orders",
    metadata,
    Column("id", BIG_ID, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("status", String(16), nullable=False, server_default="PLACED"),
    Column("subtotal", MONEY, nullable=False),
    Column("tax", MONEY, nullable=False, server_default="0"),
    Column("shipping_fee", MONEY, nullable=False, server_default="0"),
    Column("total", MONEY, nullable=False),
    CheckConstraint(f"status IN ({_sql_list(ORDER_STATUSES)})", name="status"),
    Index(None, "order_date", "id"),  # a date range's count and first id without reading rows (0003)
    # Covers revenue per customer over a period: the status and total come from the index itself.
    Index(None, "customer_id", "order_date", "status", "total"),
)


def counted_orders() -> ColumnElement[bool]:
    """The one rule of what revenue counts (DESIGN.md): every order that is not CANCELLED.

    Every query that sums or counts sales uses it: the SQL store's revenue, seed 000's export, stock sold.
    """
    return orders.c.status != "CANCELLED"


order_items = Table(
    "order_items",
    metadata,
    Column("id", BIG_ID, primary_key=True),
    Column("order_id", BIG_ID, ForeignKey("orders.id"), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("line_total", MONEY, nullable=False),
    Index(None, "order_id"),
    Index(None, "product_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", BIG_ID, primary_key=True),
    Column("order_id", BIG_ID, ForeignKey("orders.id"), nullable=False),
    Column("method", String(32), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("paid_at", DateTime),
    Column("txn_ref", String(64)),
    Index(None, "order_id"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", BIG_ID, primary_key=True),
    Column("order_id", BIG_ID, ForeignKey("orders.id"), nullable=False),
    Column("carrier", String(64)),
    Column("tracking_no", String(64)),
    Column("shipped_at", DateTime),
    Column("delivered_at", DateTime),
    Column("status", String(16), nullable=False),
    Index(None, "order_id"),
)

# 0005: goods sent back after delivery and the money given back for them (at most one return per order line).
RETURN_REASONS = ("changed_mind", "damaged", "defective", "not_as_described", "wrong_item", "arrived_late")
returns = Table(
    "returns",
    metadata,
    Column("id", BIG_ID, primary_key=True),
    Column("order_id", BIG_ID, ForeignKey("orders.id"), nullable=False),
    Column("order_item_id", BIG_ID, ForeignKey("order_items.id"), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("refund", MONEY, nullable=False),  # the goods returned and the tax on them; never the shipping fee
    Column("reason", String(32), nullable=False),
    Column("returned_at", DateTime, nullable=False),
    Column("refunded_at", DateTime),  # NULL: received, not refunded yet
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("refund >= 0", name="refund"),
    Index(None, "order_id"),
    Index(None, "order_item_id", unique=True),
    Index(None, "product_id"),
)

generation_runs = Table(
    "generation_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", BigInteger),
    Column("rows_requested", Integer, nullable=False),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("locale", String(32)),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("counts", JSON),
    Column("error", Text),
    Column("started_at", DateTime, nullable=False, server_default=func.current_timestamp()),
    Column("finished_at", DateTime),
    # 0002: a run is a job any process can follow or resume.
    Column("run_key", String(64), unique=True),  # the request's fingerprint (mode once/replace); NULL for append
    Column("mode", String(16)),
    Column("params", JSON),  # the whole request, so a worker (or a resumed run) needs nothing else
    Column("bases", JSON),  # the largest id of each table before the run
    Column("deferred_indexes", Boolean, nullable=False, server_default=false()),
    Column("heartbeat_at", DateTime),
    Column("worker", String(120)),  # host:pid of the process doing the run, so a dead one is seen at once
    # 0004: the defects made on purpose (the flaws parameter), per kind, so a QA test knows what to expect.
    Column("flaws", JSON),
)


def include_object(dialect: str) -> Callable[[SchemaItem, str | None, str, bool, SchemaItem | None], bool]:
    """For Alembic's comparisons: leave out what this schema creates only on other databases."""

    def include(obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None) -> bool:
        return not (type_ == "index" and name == "ix_customers_lower_city" and dialect not in LOWER_CITY_DIALECTS)

    return include


TABLES_CHILD_FIRST = (returns, order_items, payments, shipments, orders, products, customers, generation_runs)

"""The SQL store: seed 000's read questions answered by the database, and customer records.

Aggregations run in the database (``GROUP BY`` over the ``orders(customer_id, order_date)``
index); Python only shapes the few rows that come back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    asc,
    bindparam,
    desc,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from salesmcp.config import Settings
from salesmcp.errors import Conflict, InvalidInput, Unavailable
from salesmcp.models import CityRevenuePage, Customer, Revenue, Sale
from salesmcp.store.base import BY_CUSTID, CustomerOrder, city_key
from salesmcp.store.database import database_errors, open_engine, schema_revision
from salesmcp.store.read_only import ReadOnlyDatabase
from salesmcp.store.replica import Reading, Replica, open_replica
from salesmcp.store.schema import counted_orders, customers, orders

IDS_PER_QUERY = 1000
Record = dict[str, Any]
"""A customer row as column name → value."""
CUSTOMER_COLUMNS = (
    customers.c.custid, customers.c.name, customers.c.email, customers.c.phone, customers.c.city,
    customers.c.country, customers.c.status, customers.c.created_at, customers.c.updated_at,
)  # fmt: skip
# The one-customer lookups are built once with a bound custid: building a select per call cost more
# than running it (about 90 of 160 us on SQLite), on the hottest path of the tools and routes.
CUSTOMER_BY_CUSTID = select(*CUSTOMER_COLUMNS).where(customers.c.custid == bindparam("custid"))
SEED_CUSTOMER_BY_CUSTID = select(customers.c.custid, customers.c.name, customers.c.city).where(
    customers.c.custid == bindparam("custid")
)


def utcnow() -> dt.datetime:
    """Timestamps are stored as naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class SqlStore:
    """A RevenueSource and customer repository over one SQLAlchemy engine."""

    def __init__(
        self, engine: Engine, replica: Replica | None = None, read_only: ReadOnlyDatabase | None = None
    ) -> None:
        self.engine = engine
        self.replica = replica  # the metrics layer's columnar copy (None: the database answers them itself)
        # The SQL tool's read-only runner (READ_DATABASE_URL or this database, SQL_TIMEOUT).
        self.read_only = read_only or ReadOnlyDatabase(engine.url.render_as_string(hide_password=False), 10.0)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back (nothing half-written) on any error."""
        with database_errors(self.engine), self.engine.begin() as connection:
            yield connection

    def errors(self) -> AbstractContextManager[None]:
        """Where a database that cannot be reached becomes our Unavailable (``database_errors``)."""
        return database_errors(self.engine)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads (no commit)."""
        with database_errors(self.engine), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def analytic_reading(self) -> Iterator[Reading]:
        """Where the metrics layer reads: the columnar copy when it holds every committed write, else the
        database itself."""
        if self.replica is not None:
            with self.replica.reading() as reading:
                if reading is not None:
                    with engine_errors(self.replica.memory_limit):
                        yield reading
                    return
        with self.reading() as connection:
            yield Reading(connection, connection.dialect.name, connection.dialect.name)

    def close(self) -> None:
        """Release the database's connections and the columnar copy."""
        if self.replica is not None:
            self.replica.close()
        self.read_only.close()
        self.engine.dispose()

    def ping(self) -> None:
        with self.reading() as connection:
            connection.execute(select(1))

    def schema_revision(self) -> str | None:
        """The migration the schema is at (None: no schema); Unavailable when the database does not answer."""
        with self.reading() as connection:
            return schema_revision(connection)

    # -- seed 000 read questions ------------------------------------------------------------------

    def _city_matches(self, connection: Connection, city: str) -> ColumnElement[bool]:
        dialect = connection.dialect.name
        if dialect == "mysql":
            # MySQL/MariaDB compare case-insensitively by collation, and so can use ix_customers_city.
            return customers.c.city == city.strip()
        key = city_key(city)
        if dialect == "sqlite" and not key.isascii():
            # SQLite's lower() folds only ASCII letters: a non-ASCII name is compared with Python's
            # lower() (see create_db_engine), a scan; ASCII names use the index on lower(city).
            return func.unicode_lower(customers.c.city) == key
        return func.lower(customers.c.city) == key

    def customer(self, custid: str) -> Customer | None:
        with self.reading() as connection:
            row = connection.execute(SEED_CUSTOMER_BY_CUSTID, {"custid": custid}).first()
        return Customer(row.custid, row.name, row.city or "") if row else None

    def customers_in_city(self, city: str) -> list[Customer]:
        with self.reading() as connection:
            rows = connection.execute(
                select(customers.c.custid, customers.c.name, customers.c.city)
                .where(self._city_matches(connection, city))
                .order_by(customers.c.custid)
            ).all()
        return [Customer(r.custid, r.name, r.city or "") for r in rows]

    def sales_between(self, start: dt.date, end: dt.date, custids: Sequence[str] | None = None) -> list[Sale]:
        query = (
            select(orders.c.id, customers.c.custid, orders.c.order_date, orders.c.total)
            .join(customers, customers.c.id == orders.c.customer_id)
            .where(orders.c.order_date.between(start, end), counted_orders())
            .order_by(orders.c.order_date, orders.c.id)
        )
        if custids is not None:
            if not custids:
                return []
            query = query.where(customers.c.custid.in_(list(dict.fromkeys(custids))))
        with self.reading() as connection:
            return [Sale(r.id, r.custid, r.order_date, r.total) for r in connection.execute(query)]

    def revenue_by_customer(self, start: dt.date, end: dt.date, custids: Sequence[str]) -> dict[str, Revenue]:
        result: dict[str, Revenue] = {}
        unique = list(dict.fromkeys(custids))
        with self.reading() as connection:
            for i in range(0, len(unique), IDS_PER_QUERY):
                query = (
                    select(customers.c.custid, func.sum(orders.c.total), func.count())
                    .select_from(customers)
                    .join(orders, and_(orders.c.customer_id == customers.c.id, counted_orders()))
                    .where(customers.c.custid.in_(unique[i : i + IDS_PER_QUERY]))
                    .where(orders.c.order_date.between(start, end))
                    .group_by(customers.c.custid)
                )
                for custid, total, count in connection.execute(query):
                    result[custid] = Revenue(Decimal(total), int(count))
        return result

    def city_revenue(
        self,
        city: str,
        start: dt.date,
        end: dt.date,
        order: CustomerOrder = BY_CUSTID,
        limit: int | None = None,
        offset: int = 0,
    ) -> CityRevenuePage:
        """Two queries: the city's totals (aggregates, no row per customer), and the page of customers asked
        for, ordered and cut by the database (by custid: only the page's customers' orders are read)."""
        in_period = (orders.c.order_date.between(start, end), counted_orders())
        with self.reading() as connection:
            in_city = self._city_matches(connection, city)
            stored_city, count, amount, sales = connection.execute(_city_totals(in_city, in_period)).one()
            rows = connection.execute(_city_page(in_city, in_period, order, limit, offset)).all()
        lines = [(Customer(r[0], r[1], r[2] or ""), Revenue(Decimal(r[3]), int(r[4]))) for r in rows]
        return CityRevenuePage(stored_city, int(count), Revenue(Decimal(amount), int(sales)), lines)

    # -- customer records ---------------------------------------------------------------------------

    def get_customer_record(self, custid: str, connection: Connection | None = None) -> Record | None:
        def fetch(conn: Connection) -> Record | None:
            row = conn.execute(CUSTOMER_BY_CUSTID, {"custid": custid}).first()
            return dict(row._mapping) if row else None

        if connection is not None:
            return fetch(connection)
        with self.reading() as conn:
            return fetch(conn)

    def list_customer_records(
        self, status: str | None, city: str | None, limit: int, offset: int
    ) -> tuple[list[Record], int]:
        """One page of customers in custid order, and how many match in all."""
        with self.reading() as connection:
            conditions = []
            if status:
                conditions.append(customers.c.status == status)
            if city:
                conditions.append(self._city_matches(connection, city))
            total = connection.execute(select(func.count()).select_from(customers).where(*conditions)).scalar_one()
            rows = connection.execute(
                select(*CUSTOMER_COLUMNS).where(*conditions).order_by(customers.c.custid).limit(limit).offset(offset)
            ).all()
        return [dict(r._mapping) for r in rows], int(total)

    def email_owner(self, connection: Connection, email: str) -> str | None:
        return connection.execute(select(customers.c.custid).where(customers.c.email == email)).scalar()

    def insert_customer(self, connection: Connection, values: Mapping[str, object]) -> str:
        """Insert a customer; without a custid one is made from the new row's id (never reused)."""
        now = utcnow()
        row: dict[str, object] = {**values, "created_at": now, "updated_at": now}
        given = row.get("custid")
        if not given:
            row["custid"] = f"new-{uuid.uuid4().hex[:28]}"  # replaced below, inside the same transaction
        try:
            inserted = connection.execute(insert(customers).values(**row)).inserted_primary_key
            assert inserted is not None  # a one-row INSERT always has its key
            new_id = int(inserted[0])
            if not given:
                custid = self._free_custid(connection, new_id)
                connection.execute(update(customers).where(customers.c.id == new_id).values(custid=custid))
                return custid
        except IntegrityError as exc:
            raise _conflict(exc) from None
        return str(given)

    @staticmethod
    def _free_custid(connection: Connection, new_id: int) -> str:
        candidate, suffix = f"{new_id:03d}", 0
        while connection.execute(select(customers.c.id).where(customers.c.custid == candidate)).first():
            suffix += 1
            candidate = f"{new_id:03d}-{suffix}"
        return candidate

    def update_customer(
        self,
        connection: Connection,
        custid: str,
        changes: Mapping[str, object],
        only_if: ColumnElement[bool] | None = None,
    ) -> int:
        """Set only the given columns (concurrent updates of other columns survive); returns rows changed."""
        query = update(customers).where(customers.c.custid == custid)
        if only_if is not None:
            query = query.where(only_if)
        try:
            return connection.execute(query.values(**changes, updated_at=utcnow())).rowcount
        except IntegrityError as exc:
            raise _conflict(exc) from None


def _city_totals(in_city: ColumnElement[bool], in_period: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """One row: the city as stored (its lowest custid's spelling; NULL: no customer), how many customers it
    has, and the revenue and number of its orders in the period."""
    # Uncorrelated: these subqueries read customers on their own, not the outer query's row.
    stored_city = select(customers.c.city).where(in_city).order_by(customers.c.custid).limit(1).correlate(None)
    customer_count = select(func.count()).select_from(customers).where(in_city).correlate(None)
    return (
        select(
            stored_city.scalar_subquery(),
            customer_count.scalar_subquery(),
            func.coalesce(func.sum(orders.c.total), 0),
            func.count(orders.c.total),
        )
        .select_from(customers.join(orders, and_(orders.c.customer_id == customers.c.id, *in_period)))
        .where(in_city)
    )


def _city_page(
    in_city: ColumnElement[bool],
    in_period: Sequence[ColumnElement[bool]],
    order: CustomerOrder,
    limit: int | None,
    offset: int,
) -> Select[Any]:
    """(custid, name, city, revenue, sales) of ``limit`` customers of the city after ``offset`` in ``order``;
    customers without orders in the period have 0 and 0."""
    direction = desc if order.descending else asc
    members = select(customers.c.id, customers.c.custid, customers.c.name, customers.c.city).where(in_city)
    if order.key == "custid":  # the page's customers first, then only their orders
        members = members.order_by(direction(customers.c.custid)).limit(limit).offset(offset or None)
    who = members.subquery("members")
    revenue = func.coalesce(func.sum(orders.c.total), 0)
    sales = func.count(orders.c.total)  # counts matched orders; total is in the covering index
    query = (
        select(who.c.custid, who.c.name, who.c.city, revenue, sales)
        .select_from(who.outerjoin(orders, and_(orders.c.customer_id == who.c.id, *in_period)))
        .group_by(who.c.id, who.c.custid, who.c.name, who.c.city)
    )
    if order.key == "custid":
        return query.order_by(direction(who.c.custid))
    # Sorted to the cent: SQLite sums money as floats, where 0.1 + 0.2 and 0.3 would not tie.
    key = func.round(revenue, 2) if order.key == "revenue" else sales
    return query.order_by(direction(key), who.c.custid).limit(limit).offset(offset or None)


@contextmanager
def engine_errors(memory_limit: str) -> Iterator[None]:
    """The columnar engine's failures in our words: a question whose groups outgrow its memory is the asker's
    to narrow (400, naming group_by); anything else a 503 saying the engine failed, never a stack trace."""
    try:
        yield
    except DBAPIError as exc:
        if "out of memory" in str(exc.orig).lower():
            raise InvalidInput(
                "group_by", f"this question has more groups than the analytic engine's memory holds "
                f"(ANALYTICS_MEMORY={memory_limit}): group by fewer or coarser dimensions, or filter"
            ) from None  # fmt: skip
        raise Unavailable(f"the analytic engine failed: {str(exc.orig).splitlines()[0][:200]}") from None


def open_store(settings: Settings) -> SqlStore:
    """The configured database, migrated, with the demo data in a new one."""
    engine = open_engine(settings.resolved_database_url, seed=settings.seed_demo_data)
    replica = None
    if settings.analytics_engine == "duckdb":
        replica = open_replica(engine, settings.resolved_analytics_dir, settings.analytics_memory)
    read_only = ReadOnlyDatabase(settings.resolved_read_database_url, settings.sql_timeout)
    return SqlStore(engine, replica, read_only)


def _conflict(exc: IntegrityError) -> Conflict:
    """A unique violation (a write that raced past our own check) in the words of that check."""
    reason = str(exc.orig)
    field = "email" if "email" in reason else "custid" if "custid" in reason else None
    if field is None:
        return Conflict(f"the change conflicts with existing data ({reason.splitlines()[0][:200]})")
    return Conflict(f"{field} is already in use by another customer", field=field)

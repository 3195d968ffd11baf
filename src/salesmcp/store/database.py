"""Engines, migrations and the demo data: everything needed to open a ready database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from salesmcp.config import DATA_DIR
from salesmcp.errors import Unavailable
from salesmcp.store.csv_store import CsvCustomers, CsvSales
from salesmcp.store.schema import customers, orders

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

# Seed 001 asks for ten customers: seed 000's six (ids 11-16 so that custid 011 is id 11) plus four.
DEMO_CONTACTS = {
    "011": ("annie@example.com", "+31 40 555 0111"),
    "012": ("bert@example.com", "+31 40 555 0112"),
    "013": ("carla@example.com", "+31 492 555 013"),
    "014": ("dirk@example.com", "+31 13 555 0114"),
    "015": ("eric@example.com", "+31 13 555 0115"),
    "016": ("fien@example.com", "+31 40 555 0116"),
}
DEMO_EXTRA_CUSTOMERS = (
    ("017", "Gijs", "Utrecht", "gijs@example.com", "+31 30 555 0117"),
    ("018", "Hanna", "Amsterdam", "hanna@example.com", "+31 20 555 0118"),
    ("019", "Ivo", "Rotterdam", "ivo@example.com", "+31 10 555 0119"),
    ("020", "Jet", "Breda", "jet@example.com", "+31 76 555 0120"),
)


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def create_db_engine(url: str) -> Engine:
    """An engine tuned per backend: SQLite in WAL mode with foreign keys, servers with pre-ping."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's own lower() folds ASCII only: give it Python's, so "Örebro" matches "ÖREBRO".
            dbapi_connection.create_function("unicode_lower", 1, _lower, deterministic=True)

        return engine
    # MySQL/MariaDB: the generator loads with LOAD DATA LOCAL INFILE, which the client must allow.
    connect_args = {"local_infile": True} if parsed.get_backend_name() == "mysql" else {}
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, connect_args=connect_args)


@contextmanager
def database_errors(engine: Engine) -> Iterator[None]:
    """A database that cannot be reached becomes our Unavailable error, naming it (password hidden)."""
    try:
        yield
    except OperationalError as exc:
        raise Unavailable(f"the database {engine.url!r} is unavailable: {exc.orig}") from None


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest Alembic revision (a no-op when it is there already).

    Returns True when this call created the schema in an empty database.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database_errors(engine), engine.begin() as connection:
        created = not inspect(connection).has_table("alembic_version")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return created


def seed_demo_data(engine: Engine) -> bool:
    """Fill an empty database with the demo data; returns False (and changes nothing) otherwise."""
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(customers)).scalar_one():
            return False
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        seed_customers = CsvCustomers(DATA_DIR / "customers.csv")
        rows = []
        for custid, (email, phone) in DEMO_CONTACTS.items():
            customer = seed_customers.customer(custid)
            assert customer is not None, custid
            rows.append((custid, customer.custname, customer.city, email, phone))
        rows.extend(DEMO_EXTRA_CUSTOMERS)
        connection.execute(
            insert(customers),
            [
                {"id": int(custid), "custid": custid, "name": name, "first_name": name, "city": city,
                 "country": "Netherlands", "email": email, "phone": phone, "status": "active",
                 "created_at": now, "updated_at": now}
                for custid, name, city, email, phone in rows
            ],
        )  # fmt: skip
        sales = list(CsvSales(DATA_DIR / "sales.csv").sales_between(dt.date.min, dt.date.max))
        connection.execute(
            insert(orders),
            [
                {"id": s.ordid, "customer_id": int(s.custid), "order_date": s.orddate, "status": "DELIVERED",
                 "subtotal": s.ordamount, "tax": 0, "shipping_fee": 0, "total": s.ordamount}
                for s in sales
            ],
        )  # fmt: skip
        _advance_sequences(connection)
    log.info("filled the new database with the demo data (%d customers, %d orders)", len(rows), len(sales))
    return True


def _advance_sequences(connection) -> None:
    """PostgreSQL does not move a serial's sequence past explicitly inserted ids: move it."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("customers", "orders"):
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


def open_engine(url: str, seed: bool = True) -> Engine:
    """Engine on ``url`` with the schema migrated and, in a database this call created, the demo data.

    (Only a new database gets the demo data: one emptied by ``salesmcp reset`` stays empty.)
    """
    engine = create_db_engine(url)
    if migrate(engine) and seed:
        seed_demo_data(engine)
    return engine

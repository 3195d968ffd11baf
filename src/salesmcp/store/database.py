"""Engines, migrations and the demo data: everything needed to open a ready database."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from salesmcp.config import DATA_DIR
from salesmcp.errors import Unavailable
from salesmcp.store.csv_store import CsvCustomers, CsvSales
from salesmcp.store.maintenance import advance_sequences
from salesmcp.store.schema import customers, orders

if TYPE_CHECKING:  # Alembic is imported where a migration is read or run: a command that needs none starts sooner
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# Seconds to wait for a database server to accept a connection (a `connect_timeout` in the URL wins):
# an unreachable server costs a request this long, then a 503, instead of minutes.
CONNECT_TIMEOUT = 10
# Notice a connection whose peer vanished without closing it (a network cut, a failover) within about
# a minute rather than the system's TCP timeout (~15 min): libpq's settings for PostgreSQL, the same
# socket options for MySQL/MariaDB. No effect on long queries: the server's TCP stack answers the probes.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
             "tcp_user_timeout": 60_000}  # fmt: skip
# Errors that mean "the database cannot be reached or the connection broke", as SQLAlchemy wraps them.
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError)

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
        # A file database pools a connection for every thread that may hold one at once (anyio's 40 for sync
        # tools, a2wsgi's 10 for Flask): past the default 5 (+10 overflow) each concurrent call opened and
        # closed a connection of its own, pragmas included (sync tools at 16 clients: ~10% more calls/s).
        pool: dict = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            pool = {"pool_size": 20, "max_overflow": 30}
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's own lower() folds ASCII only: give it Python's, so "Örebro" matches "ÖREBRO".
            dbapi_connection.create_function("unicode_lower", 1, _lower, deterministic=True)

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_recycle=1800, connect_args=_server_connect_args(parsed))
    if parsed.get_backend_name() == "mysql" and parsed.get_driver_name() == "pymysql":
        event.listen(engine, "do_connect", _bounded_mysql_handshake)
    return engine


def _bounded_mysql_handshake(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
) -> DBAPIConnection:
    """PyMySQL's connect_timeout covers only the TCP connect; the server's greeting is read with
    ``read_timeout`` (none by default), so a server that accepts but never answers would hang the
    connect for ever. Read the handshake with the connect timeout, then keep the URL's read_timeout."""
    query_timeout = cparams.get("read_timeout")
    connection = dialect.loaded_dbapi.connect(*cargs, **{**cparams, "read_timeout": cparams["connect_timeout"]})
    connection._read_timeout = query_timeout  # PyMySQL reapplies it to the socket before its next read
    _tune_keepalive(connection._sock)
    return connection


def _tune_keepalive(sock: socket.socket | None) -> None:
    """KEEPALIVE's timing on a MySQL connection's socket, where the system has the options (PyMySQL
    turns keepalive on, but with the system's timing: two hours before the first probe)."""
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    options = (("TCP_KEEPIDLE", "keepalives_idle"), ("TCP_KEEPINTVL", "keepalives_interval"),
               ("TCP_KEEPCNT", "keepalives_count"), ("TCP_USER_TIMEOUT", "tcp_user_timeout"))  # fmt: skip
    for name, setting in options:
        option = getattr(socket, name, None)
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, KEEPALIVE[setting])


def _server_connect_args(parsed: URL) -> dict:
    """Driver arguments for MySQL/MariaDB and PostgreSQL: bounded connects, and for MySQL local files.

    With ``pool_pre_ping`` a pooled connection that broke while the database was away is noticed and
    replaced at its next checkout, so the server recovers without a restart once the database is back.
    """
    backend = parsed.get_backend_name()
    given = set(parsed.query)
    extra: dict = {"connect_timeout": CONNECT_TIMEOUT}
    if backend == "mysql":
        extra["local_infile"] = True  # the generator loads with LOAD DATA LOCAL INFILE, which the client must allow
    elif backend == "postgresql" and parsed.get_driver_name() == "psycopg":
        extra.update(KEEPALIVE)
    return {key: value for key, value in extra.items() if key not in given}


def unavailable(engine: Engine, exc: Exception) -> Unavailable:
    """Our 503 error for a database that cannot be reached: ``database unavailable: <the driver's reason>``."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0][:300] if lines else type(exc).__name__
    log.warning("database %r unavailable: %s", engine.url, reason)
    return Unavailable(f"database unavailable: {reason}")


@contextmanager
def database_errors(engine: Engine) -> Iterator[None]:
    """The one place where a database that cannot be reached (refused, timed out, connection lost)
    becomes our Unavailable error; every read and write of the stores runs inside it."""
    try:
        yield
    except UNREACHABLE as exc:
        raise unavailable(engine, exc) from None


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this code knows (what a ready database's schema is at)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every migration this code knows."""
    from alembic.script import ScriptDirectory

    return frozenset(script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions())


def schema_revision(connection: Connection) -> str | None:
    """The migration the database's schema is at (None: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest Alembic revision (a no-op when it is there already).

    Returns True when this call created the schema in an empty database.
    """
    from alembic import command

    config = _alembic_config()
    with database_errors(engine), engine.connect() as connection, _one_migration_at_a_time(connection):
        created = not inspect(connection).has_table("alembic_version")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        # Committed while the lock is held: a replica that takes it next sees the new alembic_version (with
        # MySQL's named lock released before the commit, it could run the last migration a second time).
        connection.commit()
    return created


MIGRATION_LOCK = "salesmcp-migrate"
MIGRATION_LOCK_WAIT = 300  # seconds a replica waits for another's migration (MySQL's GET_LOCK)


@contextmanager
def _one_migration_at_a_time(connection: Connection) -> Iterator[None]:
    """Replicas starting together on one new database migrate it one after the other (the others then
    find it at head): a PostgreSQL advisory lock held to the commit, a MySQL/MariaDB named lock."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": MIGRATION_LOCK})
    elif dialect == "mysql":
        got = connection.execute(
            text("SELECT GET_LOCK(:name, :wait)"), {"name": MIGRATION_LOCK, "wait": MIGRATION_LOCK_WAIT}
        )
        if got.scalar() != 1:
            raise Unavailable(f"another process has been migrating this database for {MIGRATION_LOCK_WAIT} s")
    try:
        yield
    finally:
        if dialect == "mysql":
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK})


def seed_demo_data(engine: Engine) -> bool:
    """Fill an empty database with the demo data; returns False (and changes nothing) otherwise."""
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(customers)).scalar_one():
            return False
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
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
        advance_sequences(connection, ("customers", "orders"))
    log.info("filled the new database with the demo data (%d customers, %d orders)", len(rows), len(sales))
    return True


def open_engine(url: str, seed: bool = True) -> Engine:
    """Engine on ``url`` with the schema migrated and, in a database this call created, the demo data.

    (Only a new database gets the demo data: one emptied by ``salesmcp reset`` stays empty.)
    """
    engine = create_db_engine(url)
    if migrate(engine) and seed:
        seed_demo_data(engine)
    return engine

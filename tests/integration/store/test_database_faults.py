"""The store's side of database faults: which errors mean "unavailable", and bounded connects."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError

from salesmcp.errors import Unavailable
from salesmcp.store.database import CONNECT_TIMEOUT, KEEPALIVE, create_db_engine, database_errors
from salesmcp.store.sql_store import SqlStore
from tests.support.tcp_proxy import TcpProxy

MARGIN = 5.0


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
        InterfaceError("SELECT 1", {}, Exception("(0, '')")),
        DisconnectionError("connection invalidated"),
    ],
)
def test_a_lost_or_refused_connection_becomes_unavailable_naming_the_drivers_reason(error, sqlite_url):
    engine = create_db_engine(sqlite_url)
    with pytest.raises(Unavailable) as raised, database_errors(engine):
        raise error
    assert raised.value.status == 503 and raised.value.message.startswith("database unavailable: ")
    assert "SELECT 1" not in raised.value.message  # the driver's words, not the statement
    engine.dispose()


def test_other_database_errors_are_not_unavailable(sqlite_url):
    engine = create_db_engine(sqlite_url)
    with pytest.raises(IntegrityError), database_errors(engine):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))
    engine.dispose()


@pytest.mark.parametrize("database", ["postgresql", "mariadb"])
def test_a_server_that_accepts_but_never_answers_fails_after_the_connect_timeout(database, request):
    url = make_url(request.getfixturevalue({"postgresql": "postgres_url", "mariadb": "mysql_url"}[database]))
    with TcpProxy(url.host or "127.0.0.1", url.port or 0) as proxy:
        proxy.blackhole()
        store = SqlStore(create_db_engine(url.set(port=proxy.port).render_as_string(hide_password=False)))
        began = time.monotonic()
        with pytest.raises(Unavailable):
            store.ping()
        took = time.monotonic() - began
        store.engine.dispose()
    assert CONNECT_TIMEOUT - 1 <= took <= CONNECT_TIMEOUT + MARGIN, took


def test_server_connections_probe_a_silent_peer_within_about_a_minute(postgres_url, mysql_url):
    for url in (postgres_url, mysql_url):
        engine = create_db_engine(url)
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            if engine.dialect.name == "postgresql":
                assert "keepalives_idle=30" in driver.info.dsn and "connect_timeout=10" in driver.info.dsn
            elif hasattr(socket, "TCP_KEEPIDLE"):
                assert driver._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE["keepalives_idle"]
        finally:
            raw.close()
            engine.dispose()

"""Shared fixtures: settings, stores, Flask clients, and real servers on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from salesmcp.cli.processes import free_port, stop_process, wait_until_healthy
from salesmcp.config import DATA_DIR, Settings
from salesmcp.store.csv_store import CsvStore
from salesmcp.store.database import open_engine, seed_demo_data
from salesmcp.store.schema import TABLES_CHILD_FIRST
from salesmcp.store.sql_store import SqlStore

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default settings, isolated from the developer's environment and .env file."""
    monkeypatch.chdir(tmp_path)
    return Settings()


@pytest.fixture(scope="session")
def store() -> CsvStore:
    return CsvStore(DATA_DIR / "customers.csv", DATA_DIR / "sales.csv")


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        stop_process(self.process)


def start_server(*args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None) -> Server:
    """``python -m salesmcp <args> --port <free>`` as a real process, once its /health answers;
    ``env`` is added to this process's environment."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", *args, "--port", str(port)],
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    if not wait_until_healthy(f"{server.url}/health", START_TIMEOUT, process):
        server.stop()
        raise RuntimeError(f"salesmcp {' '.join(args)} did not start on port {port}")
    return server


@dataclass
class LiveApis:
    customers: Server
    sales: Server


@pytest.fixture(scope="session")
def live_apis() -> Iterator[LiveApis]:
    """The real customer and sales APIs (waitress) on free ports, for the whole test session."""
    customers = start_server("serve-customers")
    try:
        sales = start_server("serve-sales")
    except BaseException:
        customers.stop()
        raise
    try:
        yield LiveApis(customers, sales)
    finally:
        customers.stop()
        sales.stop()


# -- databases -----------------------------------------------------------------------------------
# SQLite always; MariaDB and PostgreSQL on the local servers (127.0.0.1, see docs/development.md). A test run
# with SALESMCP_REQUIRE_DATABASES=1 (as .ci/run sets) fails instead of skipping when one is absent.

DATABASES = ("sqlite", "mariadb", "postgresql")
MARIADB_ADMIN_URL = os.environ.get("SALESMCP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_ADMIN_URL = os.environ.get("SALESMCP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(name: str, exc: Exception) -> None:
    reason = f"{name} is not reachable ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    if os.environ.get("SALESMCP_REQUIRE_DATABASES") == "1":
        pytest.fail(reason + "; SALESMCP_REQUIRE_DATABASES=1 makes it mandatory")
    pytest.skip(reason)


def _scratch_database(admin_url: str, name: str, label: str) -> Iterator[str]:
    """A fresh database ``name`` on the server behind ``admin_url``; dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = "`" if admin.dialect.name == "mysql" else '"'
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
            connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(label, exc)
    url = make_url(admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if admin.dialect.name == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    yield from _scratch_database(MARIADB_ADMIN_URL, f"salesmcp_test_{os.getpid()}", "MariaDB")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _scratch_database(POSTGRES_ADMIN_URL, f"salesmcp_test_{os.getpid()}", "PostgreSQL")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{(tmp_path_factory.mktemp('db') / 'salesmcp.db').as_posix()}"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database in turn: a test using it runs once on SQLite, MariaDB and PostgreSQL."""
    return request.getfixturevalue(
        {"sqlite": "sqlite_url", "mariadb": "mysql_url", "postgresql": "postgres_url"}[request.param]
    )


def emptied_database(request: pytest.FixtureRequest, name: str, demo_data: bool) -> str:
    """Scratch database ``name`` (sqlite, mariadb, postgresql): migrated, emptied, with the demo data if asked."""
    url = request.getfixturevalue({"sqlite": "sqlite_url", "mariadb": "mysql_url", "postgresql": "postgres_url"}[name])
    engine = open_engine(url, seed=False)
    with engine.begin() as connection:
        for table in TABLES_CHILD_FIRST:
            connection.execute(table.delete())
    if demo_data:
        seed_demo_data(engine)
    engine.dispose()
    return url


# What seed 001's curl sends to POST /mcp.
SEED_001_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2024-11-05",
        "capabilities": {},
        "clientInfo": {"name": "test-client", "version": "1.0.0"},
    },
}

_ENGINES: dict[str, Engine] = {}


@pytest.fixture
def sql_store(database_url: str) -> Iterator[SqlStore]:
    """The database migrated and holding exactly the demo data, fresh for each test."""
    engine = _ENGINES.get(database_url)
    if engine is None:
        engine = _ENGINES[database_url] = open_engine(database_url, seed=False)
    with engine.begin() as connection:
        for table in TABLES_CHILD_FIRST:
            connection.execute(table.delete())
    seed_demo_data(engine)
    yield SqlStore(engine)


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    for engine in _ENGINES.values():
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _analytic_copies_in_the_session_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The columnar copies the servers and stores of this session make (ANALYTICS_DIR, inherited by the servers
    the tests start) go to the session's temporary folder, not the system's."""
    old = os.environ.get("ANALYTICS_DIR")
    os.environ["ANALYTICS_DIR"] = str(tmp_path_factory.mktemp("analytic-copies"))
    yield
    if old is None:
        os.environ.pop("ANALYTICS_DIR", None)
    else:
        os.environ["ANALYTICS_DIR"] = old

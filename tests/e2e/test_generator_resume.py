"""A generation job whose worker process is killed: reported as interrupted, resumed by the same request,
and in the end exactly the data of a run that was never interrupted (no order twice, none missing).

`salesmcp serve` runs on PostgreSQL; POST /generate starts the job's own worker process, which the test
kills once the first batch is committed. 200,000 orders: a load that large drops the order tables'
secondary indexes and foreign keys first, so the resumed run must also build them again.
"""

from __future__ import annotations

import socket
import time

import httpx
import psutil
import pytest
from sqlalchemy import Engine, func, inspect, select, text

from salesmcp.services.generator.start import DEFER_INDEXES_FROM
from salesmcp.store.database import create_db_engine
from salesmcp.store.schema import generation_runs, order_items, orders, payments, shipments
from tests.conftest import emptied_database, start_server
from tests.integration.services.generator.tables import DATA_TABLES

ROWS = 200_000
REQUEST = f"/generate?rows={ROWS}&seed=11&start_date=2025-01-01&end_date=2025-12-31"
TIMEOUT = 60  # one HTTP request
RUN_TIMEOUT = 300  # one whole generation on a busy machine
KILL_WAIT = 120  # until the first batch is committed


@pytest.fixture(scope="module")
def database(request):
    return emptied_database(request, "postgresql", demo_data=False)


@pytest.fixture(scope="module")
def server(database):
    running = start_server("serve", "--database-url", database)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def engine(database):
    engine = create_db_engine(database)
    yield engine
    engine.dispose()


def _wait_for(server, run_id: int, states: tuple[str, ...], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{server.url}/generate/{run_id}", timeout=TIMEOUT).json()
        if run["state"] in states:
            return run
        assert time.monotonic() < deadline, f"run {run_id} is still {run['state']} after {timeout} s: {run}"
        time.sleep(0.2)


def _digests(engine: Engine) -> dict[str, str]:
    """Per data table: row count and an md5 over every row in id order, computed by PostgreSQL."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                text(f"SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {table.name} t")
            ).scalar_one()
            for table in DATA_TABLES
        }


def _start(server) -> dict:
    response = httpx.post(f"{server.url}{REQUEST}", timeout=TIMEOUT)
    assert response.status_code == 202, response.text
    return response.json()


def _worker_once_under_way(engine: Engine, run_id: int) -> tuple[psutil.Process, int]:
    """The run's worker process as soon as it has committed a batch of orders (and not all of them)."""
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            worker, progress = connection.execute(
                select(generation_runs.c.worker, generation_runs.c.progress).where(generation_runs.c.id == run_id)
            ).one()
        if worker and 0 < progress < ROWS:
            return psutil.Process(int(worker.rpartition(":")[2])), progress
        assert progress < ROWS, "the generation ended before it could be killed"
        time.sleep(0.02)
    raise AssertionError(f"the generation did not commit a batch within {KILL_WAIT} s")


def test_a_killed_job_is_interrupted_and_the_same_request_resumes_it_to_exactly_a_clean_run(server, engine):
    assert ROWS >= DEFER_INDEXES_FROM
    clean = _wait_for(server, _start(server)["run_id"], ("done", "failed"), RUN_TIMEOUT)
    assert clean["state"] == "done", clean
    clean_digests = _digests(engine)
    assert httpx.post(f"{server.url}/reset", timeout=TIMEOUT).status_code == 200

    started = _start(server)
    worker, seen = _worker_once_under_way(engine, started["run_id"])
    worker.kill()

    run = _wait_for(server, started["run_id"], ("interrupted", "done", "failed"), TIMEOUT)
    assert run["state"] == "interrupted", run
    gone = f"interrupted: its worker process ({socket.gethostname()}:{worker.pid}) is gone"
    assert run["error"] == f"{gone}; repeat the request to resume it"
    assert seen <= run["progress"] < ROWS
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(orders)).scalar_one() == run["progress"]

    resumed = _start(server)  # the same request
    assert resumed["run_id"] == started["run_id"] and resumed["message"] == "generation_started"
    done = _wait_for(server, started["run_id"], ("done", "failed", "interrupted"), RUN_TIMEOUT)
    assert (done["state"], done["progress"], done["error"]) == ("done", ROWS, None), done
    assert done["counts"] == clean["counts"]
    assert _digests(engine) == clean_digests  # every row the same, ids included: nothing twice, nothing missing
    schema = inspect(engine)  # the indexes and foreign keys the load dropped are back
    for table in (orders, order_items, payments, shipments):
        assert {index.name for index in table.indexes} <= {index["name"] for index in schema.get_indexes(table.name)}
        wanted = {key.column.table.name for key in table.foreign_keys}
        assert {key["referred_table"] for key in schema.get_foreign_keys(table.name)} == wanted

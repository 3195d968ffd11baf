"""``salesmcp generate`` as real processes: partitions, parallel workers, and a run killed in the middle.

Three blocks of orders (ORDER_BLOCK is 10_000), so that each of three partitions has a block of its
own and a killed run stops inside a block. Every result is compared with the same request made in
one go, in this process, into a fresh SQLite file: the union of the partitions, the workers' run
and the resumed run are exactly that single run.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from salesmcp.services import generator
from salesmcp.services.generator.make import ORDER_BLOCK
from salesmcp.store.schema import generation_runs, order_items, orders, payments, products, shipments
from salesmcp.store.sql_store import SqlStore
from tests.integration.services.generator.tables import (
    finished,
    generate,
    salesmcp,
    scratch_store,
    sqlite_url,
    table_digests,
)

ROWS = 2 * ORDER_BLOCK + 1_000
REQUEST = {"rows": ROWS, "seed": 7, "start_date": "2025-06-01", "end_date": "2026-05-31"}
ARGS = ("generate", "--rows", str(ROWS), "--seed", "7", "--start-date", "2025-06-01", "--end-date", "2026-05-31",
        "--quiet")  # fmt: skip
KILL_WAIT = 60.0  # seconds to see the run half done


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The digests of the request made in one go, in this process, into a fresh SQLite file."""
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("single") / "single.db")) as store:
        run = generate(store, **REQUEST)
        assert (run.state, run.counts["orders"]) == ("done", ROWS)
        return table_digests(store)


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


# -- partitions and workers --------------------------------------------------------------------------


def test_three_partition_processes_at_once_make_exactly_the_single_run(postgres_url, single_run, tmp_path):
    with scratch_store(postgres_url) as store:
        processes = [salesmcp(*ARGS, f"--partition={k}/3", f"--database-url={postgres_url}", cwd=tmp_path)
                     for k in (1, 2, 3)]  # fmt: skip
        runs = [_last_json(finished(process)[0]) for process in processes]
        assert {run["id"] for run in runs} == {1}  # the three joined one run
        run = generator.get_run(store, 1)
        assert (run.state, run.progress, run.counts["orders"]) == ("done", ROWS, ROWS)
        assert table_digests(store) == single_run


@pytest.mark.parametrize(
    ("index", "count"),
    [("CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"), ("JOB_COMPLETION_INDEX", "JOB_COMPLETIONS"),
     ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE")],
)  # fmt: skip
def test_the_tasks_of_a_task_array_take_their_partitions_from_the_environment(single_run, tmp_path, index, count):
    # The one command every task of a Cloud Run job, a Kubernetes Indexed Job or an AWS Batch array runs.
    url = sqlite_url(tmp_path / "tasks.db")
    with scratch_store(url) as store:
        tasks = [salesmcp(*ARGS, f"--database-url={url}", cwd=tmp_path, env={index: str(task), count: "2"})
                 for task in range(2)]  # fmt: skip
        runs = [_last_json(finished(task)[0]) for task in tasks]
        assert {run["id"] for run in runs} == {1}
        assert generator.get_run(store, 1).state == "done"
        assert table_digests(store) == single_run


def test_two_workers_make_exactly_the_single_run(single_run, tmp_path):
    url = sqlite_url(tmp_path / "workers.db")
    with scratch_store(url) as store:
        out, _ = finished(salesmcp(*ARGS, "--workers", "2", f"--database-url={url}", cwd=tmp_path))
        assert (_last_json(out)["state"], _last_json(out)["progress"]) == ("done", ROWS)
        assert table_digests(store) == single_run


def test_another_seed_makes_other_data(tmp_path: Path):
    digests = []
    for seed in (7, 8):
        with scratch_store(sqlite_url(tmp_path / f"seed{seed}.db")) as store:
            generate(store, **{**REQUEST, "rows": 1_500, "seed": seed})
            digests.append(table_digests(store))
    first, second = digests
    assert first["orders"].startswith("1500:") and second["orders"].startswith("1500:")
    assert all(first[name] != second[name] for name in first), (first, second)


# -- killed in the middle ----------------------------------------------------------------------------


def _progress_once_under_way(store: SqlStore, process) -> int:
    """The run's progress as soon as it is above 0 and below ROWS (bounded wait)."""
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline:
        with store.reading() as connection:
            progress = connection.execute(select(generation_runs.c.progress)).scalar()
        if progress and 0 < progress < ROWS:
            return progress
        assert process.poll() is None, f"the generation ended before it could be killed: {process.communicate()}"
        time.sleep(0.01)
    raise AssertionError(f"the generation did not get under way within {KILL_WAIT} s")


def _inconsistencies(store: SqlStore) -> dict[str, int]:
    """Counts of what a half-written order would leave: each must be 0."""

    def count(query) -> int:
        return connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()

    paid = orders.c.status.in_(("PAID", "SHIPPED", "DELIVERED"))
    shipped = orders.c.status.in_(("SHIPPED", "DELIVERED"))
    with store.reading() as connection:
        return {
            "orders without lines": count(select(orders.c.id).where(
                ~select(order_items.c.id).where(order_items.c.order_id == orders.c.id).exists())),
            "lines without order": count(select(order_items.c.id).where(
                ~select(orders.c.id).where(orders.c.id == order_items.c.order_id).exists())),
            "lines without product": count(select(order_items.c.id).where(
                ~select(products.c.id).where(products.c.id == order_items.c.product_id).exists())),
            "paid orders without payment": count(select(orders.c.id).where(paid, ~select(payments.c.id).where(
                payments.c.order_id == orders.c.id).exists())),
            "payments of unpaid or missing orders": count(select(payments.c.id).where(~select(orders.c.id).where(
                orders.c.id == payments.c.order_id, paid).exists())),
            "shipped orders without shipment": count(select(orders.c.id).where(shipped, ~select(shipments.c.id).where(
                shipments.c.order_id == orders.c.id).exists())),
            "shipments of unshipped or missing orders": count(select(shipments.c.id).where(~select(orders.c.id).where(
                orders.c.id == shipments.c.order_id, shipped).exists())),
        }  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL does not exist on Windows")
@pytest.mark.parametrize(("database", "batch_size"), [("sqlite", 25), ("postgresql", 100)])
def test_a_killed_generation_leaves_whole_orders_and_the_same_command_finishes_it(
    database, batch_size, single_run, tmp_path, request
):
    url = sqlite_url(tmp_path / "killed.db") if database == "sqlite" else request.getfixturevalue("postgres_url")
    command = (*ARGS, "--batch-size", str(batch_size), f"--database-url={url}")
    with scratch_store(url) as store:
        process = salesmcp(*command, cwd=tmp_path)
        try:
            seen = _progress_once_under_way(store, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL

        run = generator.get_run(store, 1)
        with store.reading() as connection:
            written = connection.execute(select(func.count()).select_from(orders)).scalar_one()
        # How far it got, not done, and seen at once as interrupted: its worker process is gone.
        assert seen <= run.progress < ROWS and run.state == "interrupted"
        assert run.error.startswith("interrupted: its worker process (") and run.error.endswith(
            ") is gone; repeat the request to resume it"
        )
        assert written == run.progress  # the run's record matches the orders there: only whole batches
        assert _inconsistencies(store) == dict.fromkeys(_inconsistencies(store), 0)

        out, _ = finished(salesmcp(*command, cwd=tmp_path))
        resumed = _last_json(out)
        assert (resumed["id"], resumed["state"], resumed["progress"]) == (1, "done", ROWS)
        assert resumed["counts"]["orders"] == ROWS
        assert table_digests(store) == single_run  # nothing twice, nothing missing

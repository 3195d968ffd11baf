"""When a run counts as interrupted: its worker on this machine is gone, or nobody has reported for 30 s."""

import datetime as dt
import os
import socket

from sqlalchemy import update

from salesmcp.services import generator
from salesmcp.services.generator.runs import STALE_AFTER
from salesmcp.store.schema import generation_runs
from salesmcp.store.sql_store import utcnow


def _run_with(store, **values):
    generator.reset(store)
    run, _ = generator.prepare_run(store, generator.build_request({"rows": 10}, default_seed=1, max_rows=100))
    with store.transaction() as connection:
        connection.execute(update(generation_runs).where(generation_runs.c.id == run.id).values(**values))
    return generator.get_run(store, run.id)


def _finish(store):
    with store.transaction() as connection:
        connection.execute(generation_runs.delete())


def test_a_running_run_whose_worker_process_lives_is_running(sql_store):
    here = f"{socket.gethostname()}:{os.getpid()}"
    assert _run_with(sql_store, status="running", worker=here).state == "running"
    _finish(sql_store)


def test_a_running_run_whose_worker_on_this_machine_is_gone_is_interrupted_at_once(sql_store):
    gone = f"{socket.gethostname()}:{2**22 + 12345}"  # above Linux's pid_max default: no such process
    run = _run_with(sql_store, status="running", worker=gone)
    assert run.state == "interrupted"
    assert run.error == f"interrupted: its worker process ({gone}) is gone; repeat the request to resume it"
    again, todo = generator.prepare_run(sql_store, generator.build_request({"rows": 10}, 1, 100))
    assert (again.id, again.state, todo) == (run.id, "queued", True), "the same request takes it up again"
    _finish(sql_store)


def test_a_run_of_another_machine_is_interrupted_only_when_its_heartbeat_stops(sql_store):
    elsewhere = "another-host:1"
    assert _run_with(sql_store, status="running", worker=elsewhere).state == "running"
    _finish(sql_store)
    silent = utcnow() - STALE_AFTER - dt.timedelta(seconds=1)
    run = _run_with(sql_store, status="running", worker=elsewhere, heartbeat_at=silent)
    assert run.state == "interrupted"
    assert run.error.startswith("interrupted: its worker (another-host:1) has not reported for 3")
    _finish(sql_store)

"""The metrics themselves: labels that stay few, the generator's jobs read from the database, the pool
gauge, and the folder that several worker processes share."""

import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select

from salesmcp.services.generator.runs import this_worker
from salesmcp.store.schema import generation_runs
from salesmcp.store.sql_store import open_store, utcnow
from salesmcp.web.telemetry import MULTIPROC_ENV, Metrics, multiprocess_dir


@pytest.fixture
def store(settings):
    store = open_store(settings)
    yield store
    store.engine.dispose()


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by prometheus-client's own parser: {(name, labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
    }


def test_requests_are_counted_by_route_template_method_and_status():
    metrics = Metrics()
    metrics.observe_request("/customers/<custid>", "GET", 200, 0.003)
    metrics.observe_request("/customers/<custid>", "GET", 200, 0.004)
    metrics.observe_request("unmatched", "BREW", 404, 0.001)  # a method of the caller's invention
    found = samples(metrics)
    key = (("method", "GET"), ("route", "/customers/<custid>"), ("status", "200"))
    assert found[("salesmcp_http_requests_total", key)] == 2
    assert found[("salesmcp_http_requests_total", (("method", "OTHER"), ("route", "unmatched"), ("status", "404")))]
    latency = (("method", "GET"), ("route", "/customers/<custid>"))
    assert found[("salesmcp_http_request_duration_seconds_count", latency)] == 2
    assert found[("salesmcp_http_request_duration_seconds_bucket", (("le", "0.005"), *latency))] == 2
    assert found[("salesmcp_http_request_duration_seconds_bucket", (("le", "0.0025"), *latency))] == 0


def test_tool_calls_are_counted_by_tool_and_outcome_with_latency():
    metrics = Metrics()
    metrics.observe_tool_call("get_customer", "ok", 0.002)
    metrics.observe_tool_call("get_customer", "error", 0.001)
    found = samples(metrics)
    assert found[("salesmcp_mcp_tool_calls_total", (("outcome", "ok"), ("tool", "get_customer")))] == 1
    assert found[("salesmcp_mcp_tool_calls_total", (("outcome", "error"), ("tool", "get_customer")))] == 1
    assert found[("salesmcp_mcp_tool_call_duration_seconds_count", (("tool", "get_customer"),))] == 2


def test_generation_jobs_are_read_from_the_runs_table_at_each_scrape(store):
    metrics = Metrics(store)
    assert samples(metrics)[("salesmcp_generation_runs", (("state", "done"),))] == 0
    now = utcnow()
    counts = {"customers": 10, "products": 4, "orders": 100, "order_items": 250, "payments": 90, "shipments": 80}
    runs = [
        {"status": "done", "progress": 100, "counts": counts, "finished_at": now},
        {"status": "running", "progress": 200, "heartbeat_at": now, "worker": this_worker()},
        {"status": "running", "progress": 10, "heartbeat_at": now.replace(year=now.year - 1)},  # silent: interrupted
    ]
    with store.engine.begin() as connection:
        for run in runs:
            connection.execute(insert(generation_runs).values(rows_requested=500, started_at=now, **run))
    found = samples(metrics)
    states = {labels[0][1]: value for (name, labels), value in found.items() if name == "salesmcp_generation_runs"}
    assert states == {"queued": 0, "running": 1, "finishing": 0, "done": 1, "failed": 0, "interrupted": 1}
    assert found[("salesmcp_generation_orders_written", ())] == 310
    assert found[("salesmcp_generation_rows_written", (("table", "order_items"),))] == 250


def test_a_scrape_answers_when_the_database_does_not(tmp_path, settings):
    broken = open_store(settings.model_copy(update={"database_url": f"sqlite:///{(tmp_path / 'gone.db').as_posix()}"}))
    metrics = Metrics(broken)
    (tmp_path / "gone.db").unlink()  # no schema any more: the query fails
    broken.engine.dispose()
    metrics.observe_request("/mcp", "POST", 200, 0.001)
    found = samples(metrics)
    assert found[("salesmcp_http_requests_total", (("method", "POST"), ("route", "/mcp"), ("status", "200")))] == 1
    assert not [name for name, _ in found if name.startswith("salesmcp_generation")]


def test_the_pool_gauge_counts_connections_checked_out(store):
    metrics = Metrics(store)
    in_use = ("salesmcp_db_pool_connections_in_use", ())
    with store.engine.connect() as first, store.engine.connect() as second:
        first.execute(select(1))
        second.execute(select(1))
        assert samples(metrics)[in_use] >= 2
    assert samples(metrics)[in_use] == 0


def test_several_workers_get_a_fresh_folder_that_is_removed_afterwards(monkeypatch):
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with multiprocess_dir() as folder:
        assert os.environ[MULTIPROC_ENV] == str(folder) and folder.is_dir()
        (folder / "counter_123.db").write_bytes(b"")
    assert not folder.exists() and MULTIPROC_ENV not in os.environ


def test_a_folder_given_in_the_environment_is_kept_but_emptied_of_an_earlier_run(tmp_path: Path, monkeypatch):
    given = tmp_path / "prometheus"
    given.mkdir()
    (given / "counter_99.db").write_bytes(b"old")
    (given / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    with multiprocess_dir() as folder:
        assert folder == given and not list(given.glob("*.db"))
    assert given.is_dir() and (given / "notes.txt").exists()

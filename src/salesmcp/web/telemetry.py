"""Prometheus metrics of the main server: HTTP requests by route template, MCP tool calls, the database
pool, and the generator's jobs (read from ``generation_runs`` at scrape time: they run in processes of
their own).

With several worker processes, prometheus-client's multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``,
set before the workers start; see :func:`multiprocess_dir`): each worker writes its values to files
there and a scrape, answered by any worker, adds them all up.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from salesmcp.store.sql_store import SqlStore

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other: OTHER
# Seconds: tool calls and REST reads take a millisecond or a few; generate_data follows a job for up to a minute.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, float("inf"))


def multiprocess_mode() -> bool:
    """Whether values go to PROMETHEUS_MULTIPROC_DIR (prometheus-client reads it once, when imported)."""
    return bool(os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()))


@contextmanager
def multiprocess_dir() -> Iterator[Path]:
    """PROMETHEUS_MULTIPROC_DIR for the worker processes started inside: the one given, emptied of an
    earlier run's files (prometheus-client asks for that), or else a new temporary folder, removed after."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink(missing_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="salesmcp-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


class Metrics:
    """The main server's metrics; ``exposition()`` is the text a scrape of /metrics gets."""

    def __init__(self, store: SqlStore | None = None) -> None:
        self.multiprocess = multiprocess_mode()
        disable_created_metrics()  # no `_created` twin of each series (multiprocess mode has none either)
        self.requests = Counter("salesmcp_http_requests", "HTTP requests answered by route template, method, status",
                                ["route", "method", "status"], registry=None)  # fmt: skip
        self.request_seconds = Histogram("salesmcp_http_request_duration_seconds", "HTTP request latency in seconds",
                                         ["route", "method"], buckets=BUCKETS, registry=None)  # fmt: skip
        self.tool_calls = Counter("salesmcp_mcp_tool_calls", "MCP tool calls, by tool and outcome (ok or error)",
                                  ["tool", "outcome"], registry=None)  # fmt: skip
        self.tool_seconds = Histogram("salesmcp_mcp_tool_call_duration_seconds", "MCP tool call latency in seconds",
                                      ["tool"], buckets=BUCKETS, registry=None)  # fmt: skip
        self.pool_in_use = Gauge("salesmcp_db_pool_connections_in_use", "Database connections checked out of the pool",
                                 registry=None, multiprocess_mode="livesum")  # fmt: skip
        self.registry = CollectorRegistry()
        if self.multiprocess:
            from prometheus_client.multiprocess import MultiProcessCollector

            MultiProcessCollector(self.registry)
        else:
            for metric in (self.requests, self.request_seconds, self.tool_calls, self.tool_seconds, self.pool_in_use):
                self.registry.register(metric)
        if store is not None:
            self.registry.register(GenerationCollector(store))
            self.watch_pool(store.engine)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route, method).observe(seconds)

    def observe_tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        self.tool_calls.labels(tool, outcome).inc()
        self.tool_seconds.labels(tool).observe(seconds)

    def watch_pool(self, engine: Engine) -> None:
        """Count the connections checked out of ``engine``'s pool, as the pool hands them out and takes them back."""
        event.listen(engine, "checkout", lambda *_: self.pool_in_use.inc())
        event.listen(engine, "checkin", lambda *_: self.pool_in_use.dec())

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (reads the database: call it off the event loop)."""
        return generate_latest(self.registry)

    def process_exit(self) -> None:
        """A worker stops: its live gauges (the pool) leave the sums; its counters stay counted."""
        if self.multiprocess:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid())


class GenerationCollector(Collector):
    """The generator's jobs, read from ``generation_runs`` at each scrape (any replica sees every job)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def collect(self) -> Iterable[Metric]:
        from salesmcp.services.generator.runs import State, run_out
        from salesmcp.store.maintenance import DATA_TABLES
        from salesmcp.store.schema import generation_runs

        try:
            with self.store.reading() as connection:
                rows = connection.execute(generation_runs.select()).all()
        except Exception as exc:  # a scrape must answer while the database is away; /health/ready says why
            log.warning("metrics: generation runs not read: %s", exc)
            return []
        states = dict.fromkeys(get_args(State), 0)  # every state, 0 too: a series that vanishes alerts nobody
        orders = 0
        written = dict.fromkeys(DATA_TABLES, 0)
        for row in rows:
            run = run_out(row)
            states[run.state] = states.get(run.state, 0) + 1
            orders += run.progress
            for table, count in (run.counts or {}).items():
                if table in written:
                    written[table] += int(count)
        by_state = GaugeMetricFamily("salesmcp_generation_runs", "Generation jobs by state", labels=["state"])
        for state, count in states.items():
            by_state.add_metric([state], count)
        progress = GaugeMetricFamily(
            "salesmcp_generation_orders_written", "Orders written by the generation jobs recorded (running ones too)"
        )
        progress.add_metric([], orders)
        rows_written = GaugeMetricFamily(
            "salesmcp_generation_rows_written", "Rows written by finished generation jobs, per table", labels=["table"]
        )
        for table, count in written.items():
            rows_written.add_metric([table], count)
        return [by_state, progress, rows_written]

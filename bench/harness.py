"""Shared pieces of the benchmarks: our servers on free ports, timing, peak memory, scratch databases, tables.

Import it from a script in ``bench/`` (``python bench/<script>.py`` puts ``bench/`` on ``sys.path``)::

    from harness import DATA_ROOT, median_seconds, running_salesmcp, scratch_database, Table

Everything here talks to loopback only: the servers bind 127.0.0.1, the database servers are the
local ones of the tests (MariaDB 127.0.0.1:3306 as root, PostgreSQL 127.0.0.1:5432 as postgres;
``SALESMCP_TEST_MARIADB_URL`` / ``SALESMCP_TEST_POSTGRES_URL`` override them), and a scratch
database is created per run under a name of its own and dropped afterwards (never the shared
``test`` database's tables).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from salesmcp.cli.processes import free_port, stop_process, wait_until_healthy

BENCH_DIR = Path(__file__).resolve().parent
DATA_ROOT = BENCH_DIR / ".data"  # gitignored: data files, scratch SQLite databases, server logs
MARIADB_ADMIN_URL = os.environ.get("SALESMCP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_ADMIN_URL = os.environ.get("SALESMCP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADMIN_URLS = {"mariadb": MARIADB_ADMIN_URL, "postgresql": POSTGRES_ADMIN_URL}


# --------------------------------------------------------------------------------------------- timing


def median_ms(samples: Sequence[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples``, interpolated between the closest ranks."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def time_sync(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """One untimed warm-up call (its result is returned), then the median of ``repeat`` calls in ms."""
    first = call()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t0)
    return median_ms(samples), first


async def time_async(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """``time_sync`` for a coroutine function."""
    first = await call()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t0)
    return median_ms(samples), first


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as took: ...``; afterwards ``took[0]`` is the seconds spent inside."""
    took = [float("nan")]
    started = time.perf_counter()
    try:
        yield took
    finally:
        took[0] = time.perf_counter() - started


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (Unix), for the report of a noisy shared machine."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


# --------------------------------------------------------------------------------------------- memory


def rss(pid: int) -> int:
    """Resident memory of a process now, in bytes."""
    import psutil

    return psutil.Process(pid).memory_info().rss


def peak_rss(pid: int) -> int | None:
    """High-water mark of a running process's resident memory (``VmHWM``, Linux only)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@dataclass
class ChildRun:
    """A finished child process: exit code, wall time, peak resident memory, its output."""

    returncode: int
    seconds: float
    peak_rss: int  # bytes: the largest VmHWM (Linux) or RSS sample seen while it ran
    stdout: str
    stderr: str


def run_measured(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float | None = None
) -> ChildRun:
    """Run a command to its end; its wall time and peak RSS. A child that outlives ``timeout`` is killed.

    The peak is the kernel's high-water mark of the child's own memory (``VmHWM``), read every 20 ms
    while it runs (the last reading is at most 20 ms before it exits); where there is no ``/proc``,
    psutil's RSS samples. Not ``wait4``'s ``ru_maxrss``: on Linux it keeps the high-water mark of the
    forked copy of this process from before ``exec``, i.e. this benchmark's own memory.
    """
    import psutil

    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    out_path = DATA_ROOT / f"child-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=cwd
        )
        peak = 0
        watched = psutil.Process(process.pid)
        deadline = None if timeout is None else time.monotonic() + timeout
        while process.poll() is None:
            with suppress(psutil.Error):
                peak = max(peak, peak_rss(process.pid) or watched.memory_info().rss)
            if deadline is not None and time.monotonic() > deadline:
                process.kill()
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return ChildRun(int(process.returncode), seconds, peak, stdout, stderr)


# -------------------------------------------------------------------------------------------- servers


@dataclass
class Server:
    """A server process of ours on a free loopback port, and its log file."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path
    startup_seconds: float = float("nan")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_salesmcp(
    name: str,
    args: Sequence[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    port: int | None = None,
) -> Server:
    """``python -m salesmcp <args> --port <free>`` with stdout and stderr to ``log``; not waited for."""
    port = port or free_port()
    command = [sys.executable, "-m", "salesmcp", *args, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env={**os.environ, **(env or {})}, cwd=cwd
        )
    return Server(name, process, port, log)


def wait_started(server: Server, timeout: float, started: float | None = None) -> None:
    """Wait for ``GET /health``; RuntimeError naming the server, why and its log's tail if it never answers.

    ``startup_seconds`` counts from ``started`` (a ``perf_counter`` value; default: now).
    """
    started = time.perf_counter() if started is None else started
    ok = wait_until_healthy(f"{server.url}/health", timeout, server.process)
    server.startup_seconds = time.perf_counter() - started
    if not ok:
        code = server.process.poll()
        why = f"exited with code {code}" if code is not None else f"no /health answer in {timeout:.0f} s"
        tail = server.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{server.name} did not start ({why}); its log {server.log}:\n{tail}")


@contextmanager
def running_salesmcp(
    name: str,
    args: Sequence[str],
    log: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Start a server (see ``start_salesmcp``), wait for ``/health``, yield it, and always stop it."""
    started = time.perf_counter()
    server = start_salesmcp(name, args, log, env, cwd)
    try:
        wait_started(server, timeout, started)
        yield server
    finally:
        stop_process(server.process)


@contextmanager
def running_variants(
    label: str, variants: Mapping[str, Mapping[str, str]], base_env: Mapping[str, str], timeout: float
) -> Iterator[dict[str, Server]]:
    """One ``salesmcp serve`` per variant (its environment on top of ``base_env``), each on a scratch SQLite
    file of its own with the demo data, under ``DATA_ROOT/<label>-<pid>``; all stopped afterwards."""
    folder = DATA_ROOT / f"{label}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers = {}
        for number, (name, env) in enumerate(variants.items()):
            database = folder / f"db{number}.sqlite"
            args = ["serve", "--database-url", f"sqlite:///{database.as_posix()}"]
            log = folder / f"server{number}.log"
            servers[name] = stack.enter_context(running_salesmcp(name, args, log, timeout, {**base_env, **env}))
        yield servers


async def nothing_app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that answers 200 with no body: what a middleware's own cost is measured over."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def asgi_cost(app: Callable[..., Any], scope: Mapping[str, Any], requests: int) -> float:
    """Microseconds per request of an ASGI app (a middleware over ``nothing_app``), in process, after one warm-up."""

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    await app(dict(scope), receive, send)
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / requests * 1e6


# ------------------------------------------------------------------------------------------ databases


def dbapi_dsn(url: str) -> str:
    """libpq connection string for psycopg from a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def hidden(url: str) -> str:
    """A URL to print: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def scratch_name(label: str) -> str:
    """A database name of this process's own: ``salesmcp_bench_<label>_<pid>``."""
    return f"salesmcp_bench_{label}_{os.getpid()}"


@contextmanager
def scratch_database(kind: str, label: str, sqlite_dir: Path | None = None) -> Iterator[str]:
    """A new, empty database for one measurement; yields its SQLAlchemy URL and drops it afterwards.

    ``kind``: ``sqlite`` (a file under ``sqlite_dir``, default ``bench/.data``, removed with its
    ``-wal``/``-shm``), ``postgresql`` or ``mariadb`` (``CREATE DATABASE`` on the local server as the
    tests' admin URL names it; ``DROP DATABASE`` after, on PostgreSQL ``WITH (FORCE)``).
    Raises the driver's error when the server is not reachable.
    """
    name = scratch_name(label)
    if kind == "sqlite":
        folder = sqlite_dir or DATA_ROOT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.sqlite"
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        for stale in files:
            stale.unlink(missing_ok=True)
        try:
            yield f"sqlite:///{path.as_posix()}"
        finally:
            for stale in files:
                stale.unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    admin_url = ADMIN_URLS[kind]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = "`" if kind == "mariadb" else '"'
    force = " WITH (FORCE)" if kind == "postgresql" else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}"))
            connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
        url = make_url(admin_url).set(database=name)
        if kind == "mariadb":
            url = url.update_query_dict({"charset": "utf8mb4"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{force}"))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------------------------- tables


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Table:
    """Rows printed as aligned columns: numbers right-aligned, text left-aligned, a rule under the header."""

    headers: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(["" if cell is None else str(cell) for cell in cells])

    def render(self) -> str:
        widths = [max(len(str(h)), *(len(r[i]) for r in self.rows if i < len(r))) for i, h in enumerate(self.headers)]

        def numeric(column: int) -> bool:
            cells = [r[column] for r in self.rows if column < len(r) and r[column]]
            return bool(cells) and all(_looks_numeric(cell) for cell in cells)

        right = [numeric(i) for i in range(len(self.headers))]

        def line(cells: Sequence[str]) -> str:
            parts = [cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(cells, widths, right, strict=False)]
            return "  ".join(parts).rstrip()

        header = line([str(h) for h in self.headers])
        return "\n".join([header, "-" * len(header), *(line(row) for row in self.rows)])

    def print(self) -> None:
        print(self.render(), flush=True)


def _looks_numeric(cell: str) -> bool:
    text = cell.replace(",", "").replace("x", "").replace("%", "").replace(" ms", "").replace(" s", "").strip()
    text = text.replace(" MiB", "").replace("/s", "").replace(" rows", "")
    try:
        float(text)
    except ValueError:
        return False
    return True


def rate(rows: float, seconds: float) -> str:
    """``1,234,567/s``."""
    return f"{rows / seconds:,.0f}/s" if seconds > 0 else "n/a"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.1f} MiB"

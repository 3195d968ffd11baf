"""Shared fixtures: settings, stores, Flask clients, and real servers on free loopback ports."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from salesmcp.config import DATA_DIR, Settings
from salesmcp.servers import wait_until_healthy
from salesmcp.store.csv_store import CsvStore

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(*args: str, cwd: Path = ROOT) -> Server:
    """``python -m salesmcp <args> --port <free>`` as a real process, once its /health answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", *args, "--port", str(port)],
        cwd=cwd,
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

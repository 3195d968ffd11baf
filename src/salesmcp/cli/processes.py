"""Child processes of the CLI: start servers, wait until they answer, stop them together (``salesmcp up``)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import httpx

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host``:``port`` (a server is already there)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                return False
            try:
                if http.get(url).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    return False


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a child to stop (terminate), and kill it if it has not within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_together(
    commands: Sequence[tuple[str, list[str], str]],
    on_ready: Callable[[], None] = lambda: None,
    ready_timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start each (name, salesmcp arguments, health URL) as a child process; stop all on Ctrl-C.

    ``env`` is added to the children's environment. Returns once every child has stopped; a child
    that fails to start stops the others.
    """
    children: list[tuple[str, subprocess.Popen]] = []
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops everything, also when this process was started with SIGINT ignored (as a shell's
    # background job is): Python would then never raise KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    child_env = {**os.environ, **(env or {})}
    try:
        for name, args, _ in commands:
            children.append((name, subprocess.Popen([sys.executable, "-m", "salesmcp", *args], env=child_env)))
        for (name, process), (_, _, health) in zip(children, commands, strict=True):
            if not wait_until_healthy(health, ready_timeout, process):
                log.error("%s did not start (health check %s); stopping", name, health)
                return 1
        on_ready()
        while all(process.poll() is None for _, process in children):
            time.sleep(0.2)
        log.error("a server stopped unexpectedly; stopping the others")
        return 1
    except KeyboardInterrupt:
        print("stopping...", file=sys.stderr)
        return 0
    finally:
        for _, process in children:
            if process.poll() is None:
                process.terminate()
        for _, process in children:
            stop_process(process)

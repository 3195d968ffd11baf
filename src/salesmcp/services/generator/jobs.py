"""Generation jobs: a run done by a process of its own, started and followed from any server.

The REST route and the MCP tool never generate in the serving process: they create the run and
start ``python -m salesmcp generate --run-id N`` (the same code the CLI runs), which records its
progress in ``generation_runs``. Any replica can report the job from that row.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from salesmcp.services.generator.params import GenerationRequest
from salesmcp.services.generator.runs import RunOut, get_run
from salesmcp.services.generator.start import prepare_run
from salesmcp.store.sql_store import SqlStore

FINAL_STATES = ("done", "failed", "interrupted")  # nobody works on it any more

# The words a generation request is answered with, whoever asks (REST, MCP, the CLI): one vocabulary.
GENERATION_STARTED = "generation_started"
ALREADY_GENERATED = "already_generated"
GENERATION_RUNNING = "generation_running"
RESET_COMPLETE = "reset_complete"
_FINAL_MESSAGES = {"done": "generation_done", "failed": "generation_failed", "interrupted": "generation_interrupted"}
OUTCOME_MESSAGES_DOC = (
    "generation_done, generation_failed, generation_interrupted (its worker process is gone: repeat the request "
    "to resume it), generation_running or already_generated"
)


def start_message(started: bool) -> str:
    """What starting a job says at once: it started, or an identical request was done before."""
    return GENERATION_STARTED if started else ALREADY_GENERATED


def outcome_message(run: RunOut, started: bool) -> str:
    """What a followed job says when the answer is due: how it ended, or that it still runs."""
    if not started:
        return ALREADY_GENERATED
    return _FINAL_MESSAGES.get(run.state, GENERATION_RUNNING)


_children: list[subprocess.Popen] = []


def _reap() -> None:
    """Collect workers that have ended (no zombies in a long-running server)."""
    for child in list(_children):
        if child.poll() is not None:
            _children.remove(child)


def spawn_worker(database_url: str, run_id: int) -> subprocess.Popen:
    """``python -m salesmcp generate --run-id N`` on ``database_url`` (passed in the environment, not argv)."""
    _reap()
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    flags: dict[str, Any]
    if sys.platform == "win32":
        flags = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    else:
        flags = {"start_new_session": True}
    child = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", "generate", "--run-id", str(run_id), "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment, **flags,
    )  # fmt: skip
    _children.append(child)
    return child


def start_job(store: SqlStore, request: GenerationRequest) -> tuple[RunOut, bool]:
    """Create (or find) the run and start its worker process; returns the run and whether it was started.

    An identical request that is already done is returned without a worker (False). A run in
    progress raises Conflict (409).
    """
    run, todo = prepare_run(store, request)
    if todo:
        spawn_worker(store.engine.url.render_as_string(hide_password=False), run.id)
    return run, todo


def follow(
    store: SqlStore,
    run_id: int,
    wait: float,
    interval: float = 0.5,
    on_progress: Callable[[RunOut], None] | None = None,
) -> RunOut:
    """Poll the run until it ends or ``wait`` seconds pass; ``on_progress`` sees each reading."""
    deadline = time.monotonic() + wait
    while True:
        run = get_run(store, run_id)
        if on_progress is not None:
            on_progress(run)
        if run.state in FINAL_STATES or time.monotonic() >= deadline:
            return run
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def follow_async(
    store: SqlStore, run_id: int, wait: float, on_progress: Callable[[RunOut], Awaitable[None]], interval: float = 0.5
) -> RunOut:
    """``follow`` for async callers (the MCP tool): the database read runs in a worker thread."""
    import anyio

    deadline = time.monotonic() + wait
    while True:
        run = await anyio.to_thread.run_sync(get_run, store, run_id)
        await on_progress(run)
        if run.state in FINAL_STATES or time.monotonic() >= deadline:
            return run
        await anyio.sleep(min(interval, max(0.0, deadline - time.monotonic())))

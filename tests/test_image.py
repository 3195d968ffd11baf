"""The production image (Dockerfile, .dockerignore) of Cloud Run (seed 001) and docker compose (seed 002).

No image registry is reachable from the test machines, so the image cannot be built or pulled: the tests
carry the Dockerfile out on this machine instead (tests/docker_build.py), then start its CMD from its
environment as Cloud Run or a load balancer's replicas would, and run its HEALTHCHECK.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import psutil
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy.engine import make_url

from salesmcp.cli.processes import free_port, stop_process, wait_until_healthy
from tests.conftest import POSTGRES_ADMIN_URL, ROOT, START_TIMEOUT, _scratch_database
from tests.docker_build import (
    Dockerfile,
    Result,
    build_context,
    build_image,
    healthcheck,
    ignore_rules,
    in_image,
    is_ignored,
    run_health_check,
)
from tests.unit.redis_support import redis_url_or_skip

DOCKERFILE = Dockerfile.read(ROOT / "Dockerfile")
COMMAND_TIMEOUT = 60
POSTGRES_SOCKETS = Path("/var/run/postgresql")  # Debian's PostgreSQL; Cloud Run's are in /cloudsql/<instance>


def test_the_dockerfile_builds_in_a_builder_stage_and_ships_only_its_venv_on_the_same_slim_python():
    builder, image = DOCKERFILE.stages
    assert builder.name == "builder" and image.name is None
    assert builder.base == image.base == DOCKERFILE.build_args["PYTHON_IMAGE"] == "python:3.12-slim"
    assert builder.env()["VIRTUAL_ENV"] == "/opt/venv"
    assert image.args("COPY") == ["--from=builder /opt/venv /opt/venv"]  # no sources, no build tools
    assert not any(tool in run for run in builder.args("RUN") for tool in ("apt-get", "gcc", "build-essential"))


def test_the_image_runs_as_a_user_without_privileges_on_all_interfaces_and_port_8080_with_json_logs():
    image = DOCKERFILE.stages[-1]
    (user,) = image.args("USER")
    assert user not in ("root", "0")
    assert image.args("RUN") == [f"useradd --create-home --uid 10001 {user}"]  # the one RUN the local build skips
    assert image.args("WORKDIR") == [f"/home/{user}"]  # where a SQLite default lands: the user may write there
    env = image.env()
    assert (env["HOST"], env["PORT"], env["LOG_FORMAT"]) == ("0.0.0.0", "8080", "json")
    assert env["PATH"].startswith("/opt/venv/bin:")
    # The deployment chooses how the server is guarded: with neither, the image refuses to start (below).
    assert not {"API_TOKEN", "API_TOKENS", "ALLOW_UNAUTHENTICATED"} & set(env)
    assert image.args("EXPOSE") == ["8080"]
    (check,) = image.args("HEALTHCHECK")
    options, command = healthcheck(check)
    assert {"interval", "timeout", "start-period", "retries"} <= set(options)
    assert command[:2] == ["python", "-c"] and "/health/live" in command[2]


def test_dockerignore_lets_only_the_package_sources_into_the_build_context(tmp_path):
    rules = ignore_rules(ROOT / ".dockerignore")
    kept_out = [".env", ".env.production", ".venv/bin/python", "data/customers.db", ".git/HEAD", "tests/conftest.py",
                ".pytest_cache/v/cache/nodeids", ".ruff_cache/CACHEDIR.TAG", ".benchmarks/x.json", "bench/.data/a.db",
                "src/salesmcp/__pycache__/web.cpython-312.pyc", "src/salesmcp.egg-info/PKG-INFO",
                "src/salesmcp/data/customers.db", "export/sales.csv"]  # fmt: skip
    assert [path for path in kept_out if not is_ignored(path, rules)] == []
    needed = ["pyproject.toml", "README.md", "src/salesmcp/web/app.py", "src/salesmcp/data/customers.csv",
              "src/salesmcp/migrations/script.py.mako"]  # fmt: skip
    assert [path for path in needed if is_ignored(path, rules)] == []
    copied = build_context(ROOT, tmp_path)  # this working tree, with its caches and .git
    assert "src/salesmcp/config.py" in copied and "pyproject.toml" in copied
    assert {path.split("/")[0] for path in copied} == {"pyproject.toml", "README.md", "src"}
    assert not [path for path in copied if "__pycache__" in path or path.endswith(".pyc")]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The Dockerfile built here (once per session: tests/test_deployment.py runs the same image)."""
    return build_image(ROOT, tmp_path_factory.mktemp("image"))


def test_the_builder_installs_salesmcp_into_a_venv_of_its_own_and_the_image_keeps_nothing_else(image):
    venv = image.container_path("/opt/venv")
    assert Path(in_image(image, image.cmd)[0]).parent == venv / "bin"
    where = "import salesmcp.migrations as m; from salesmcp.config import DATA_DIR; print(m.__file__, DATA_DIR)"
    found = subprocess.run(in_image(image, ["python", "-c", where]), env=image.env, cwd=image.workdir,
                           capture_output=True, text=True, timeout=COMMAND_TIMEOUT)  # fmt: skip
    migrations, data = found.stdout.split()
    assert Path(migrations).is_relative_to(venv), found.stdout + found.stderr  # not this checkout's sources
    assert (Path(data) / "customers.csv").is_file() and (Path(migrations).parent / "script.py.mako").is_file()
    assert not (venv / "bin" / "pip").exists()  # nothing can be installed in a running container
    assert sorted(path.name for path in image.fs.iterdir()) == ["home", "opt"]  # the builder's /build stayed there


@pytest.mark.anyio
async def test_the_image_serves_all_interfaces_with_workers_behind_a_token_and_passes_its_health_check(image, tmp_path):
    port, token = free_port("0.0.0.0"), secrets.token_urlsafe(24)
    env = {**image.env, "PORT": str(port), "API_TOKEN": token, "WEB_CONCURRENCY": "2"}  # as Cloud Run sets PORT
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(in_image(image, image.cmd), env=env, cwd=image.workdir,
                                  stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_healthy(f"{url}/health/live", START_TIMEOUT, server), log.read_text(errors="replace")
        assert run_health_check(image, env).returncode == 0
        children = psutil.Process(server.pid).children()
        assert len([child for child in children if "spawn_main" in " ".join(child.cmdline())]) == 2  # the workers
        assert httpx.get(f"{url}/customers", timeout=COMMAND_TIMEOUT).status_code == 401
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "deploy-check-1"}
        customers = httpx.get(f"{url}/customers", headers=headers, timeout=COMMAND_TIMEOUT)
        assert customers.status_code == 200 and customers.json()["total"] == 10  # a new SQLite, with the demo data
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=COMMAND_TIMEOUT)
        with anyio.fail_after(COMMAND_TIMEOUT):
            async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                bert = await client.call_tool("get_customer", {"cust_id": "012"})
        assert not bert.is_error and bert.structured_content["name"] == "Bert"
    finally:
        stop_process(server)
    assert run_health_check(image, env).returncode != 0, "the health check passed with no server"
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert any(line.get("request_id") == "deploy-check-1" for line in lines)  # LOG_FORMAT=json: every line an object


def test_the_image_refuses_to_serve_all_interfaces_without_a_token_source(image):
    env = {**image.env, "PORT": str(free_port("0.0.0.0"))}
    result = subprocess.run(in_image(image, image.cmd), env=env, cwd=image.workdir, capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT)  # fmt: skip
    assert result.returncode != 0
    assert "set API_TOKEN" in result.stderr and "ALLOW_UNAUTHENTICATED=true" in result.stderr


@pytest.fixture
def cloud_sql_style_database() -> Iterator[str]:
    """A scratch PostgreSQL database named the way Cloud Run reaches Cloud SQL: by its unix socket's folder."""
    admin = make_url(POSTGRES_ADMIN_URL)
    if not (POSTGRES_SOCKETS / f".s.PGSQL.{admin.port or 5432}").exists() or (admin.port or 5432) != 5432:
        pytest.skip(f"no local PostgreSQL socket in {POSTGRES_SOCKETS} for {POSTGRES_ADMIN_URL}")
    scratch = _scratch_database(POSTGRES_ADMIN_URL, f"salesmcp_replicas_{os.getpid()}", "PostgreSQL")
    database = make_url(next(scratch))
    try:  # README: postgresql+psycopg://USER:PASSWORD@/DATABASE?host=/cloudsql/PROJECT:REGION:INSTANCE
        yield f"postgresql+psycopg://{database.username}:unused@/{database.database}?host={POSTGRES_SOCKETS}"
    finally:
        scratch.close()


def start_replica(image: Result, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(in_image(image, image.cmd), env={**env, "PORT": str(port)}, cwd=image.workdir,
                                  stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    if not wait_until_healthy(f"{url}/health/ready", START_TIMEOUT, server):
        stop_process(server)
        pytest.fail(log.read_text(encoding="utf-8", errors="replace"))
    return server, url


def test_replicas_of_the_image_share_one_database_and_one_redis(image, cloud_sql_style_database, tmp_path):
    admin, reader = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = {**image.env, "HOST": "127.0.0.1", "DATABASE_URL": cloud_sql_style_database, "REDIS_URL": redis_url_or_skip(),
           "RATE_LIMIT_PREFIX": f"salesmcp-replicas-{uuid.uuid4().hex}", "RATE_LIMIT_READS": "60/minute",
           "API_TOKENS": f"{admin}:admin,{reader}:read"}  # fmt: skip
    as_admin, as_reader = ({"Authorization": f"Bearer {token}"} for token in (admin, reader))
    replicas = []
    try:
        for name in ("a", "b"):  # one after the other: the first migrates the new database
            replicas.append(start_replica(image, env, tmp_path / f"{name}.log"))
        (_, first), (_, second) = replicas
        ready = httpx.get(f"{second}/health/ready", timeout=COMMAND_TIMEOUT).json()
        assert ready["status"] == "ok" and ready["database"] == "postgresql"
        with httpx.Client(timeout=COMMAND_TIMEOUT) as http:
            added = http.post(f"{first}/customers", json={"name": "Replica Test", "city": "Breda"}, headers=as_admin)
            assert added.status_code == 201, added.text
            assert http.get(second + added.headers["Location"], headers=as_admin).json()["name"] == "Replica Test"
            # A generation job started through one replica is followed through the other (its row is the state).
            started = http.post(f"{first}/generate?rows=200&seed=7", headers=as_admin)
            assert started.status_code == 202, started.text
            job = f"{second}/generate/{started.json()['run_id']}"
            deadline = time.monotonic() + 3 * COMMAND_TIMEOUT
            while (run := http.get(job, headers=as_admin).json())["state"] not in ("done", "failed", "interrupted"):
                assert time.monotonic() < deadline, run
                time.sleep(1)
            assert run["state"] == "done" and run["progress"] == 200, run
            # One caller, one budget: 60 reads a minute across both replicas, counted in Redis.
            statuses = [http.get(f"{url}/customers", headers=as_reader).status_code for _ in range(30)
                        for url in (first, second)]  # fmt: skip
            assert statuses == [200] * 60
            assert http.get(f"{first}/customers", headers=as_reader).status_code == 429
    finally:
        for server, _ in replicas:
            stop_process(server)

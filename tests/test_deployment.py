"""Seed 002's deployment files: docker-compose.yml as a real Compose parser reads it, the Dockerfile,
.env.example, and every command the containers run, run here for real (there is no image registry
to build or pull images from, so the commands run on this machine instead of in containers).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import yaml
from mcp import Client, StdioServerParameters
from sqlalchemy.engine import make_url

from salesmcp.cli.processes import free_port, stop_process, wait_until_healthy
from salesmcp.config import Settings
from tests.conftest import MARIADB_ADMIN_URL, ROOT, START_TIMEOUT, _scratch_database
from tests.docker_build import (
    OUR_VARIABLES,
    Dockerfile,
    Result,
    build_image,
    clean_environment,
    exec_form,
    healthcheck,
    in_image,
    run_health_check,
)
from tests.integration.store.test_init_sql import run_script

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
COMMAND_TIMEOUT = 60


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)")
    command = [compose, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file", str(env_file)]
    command.append("config")
    return subprocess.run(command, capture_output=True, text=True, env=clean_environment(), timeout=COMMAND_TIMEOUT)


def parsed_compose(env_file: Path) -> dict:
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """docker-compose.yml as Compose resolves it with .env copied from .env.example (seed 002's step 2)."""
    env_file = tmp_path_factory.mktemp("compose") / ".env"
    shutil.copyfile(ENV_EXAMPLE, env_file)
    return parsed_compose(env_file)


def published(service: dict) -> dict[int, tuple[str, int]]:
    """{container port: (host address, host port)} of a service's published ports."""
    ports = {}
    for port in service.get("ports", []):
        if isinstance(port, dict):  # the long syntax, as newer Compose versions print it
            ports[int(port["target"])] = (port.get("host_ip", ""), int(port["published"]))
        else:
            host_ip, host_port, target = re.fullmatch(r"(?:([\d.]+):)?(\d+):(\d+)(?:/tcp)?", port).groups()
            ports[int(target)] = (host_ip or "", int(host_port))
    return ports


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines())
    return {name.strip(): value.strip() for name, *rest in pairs for value in rest if not name.startswith("#")}


# -- the compose file ----------------------------------------------------------------------------


def test_compose_has_seed_002s_services_on_its_ports_published_on_loopback_only(compose):
    services = compose["services"]
    assert set(services) == {"mysql", "phpmyadmin", "api"}
    assert published(services["mysql"]) == {3306: ("127.0.0.1", 3306)}
    assert published(services["phpmyadmin"]) == {80: ("127.0.0.1", 8080)}
    assert published(services["api"]) == {8000: ("127.0.0.1", 8000)}


def test_compose_mysql_keeps_its_data_runs_init_sql_and_allows_local_infile(compose):
    mysql = compose["services"]["mysql"]
    assert mysql["image"].startswith("mysql:8")
    assert "mysql-data" in compose["volumes"]
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in mysql["volumes"]]
    assert any(mount.startswith("mysql-data:/var/lib/mysql") for mount in mounts)
    init = f"{(ROOT / 'db' / 'init.sql').as_posix()}:/docker-entrypoint-initdb.d/init.sql"
    assert any(mount.startswith(init) for mount in mounts), mounts
    assert "--local-infile=1" in mysql["command"]
    example = env_example()
    assert mysql["environment"]["MYSQL_ROOT_PASSWORD"] == example["MYSQL_PASSWORD"]
    assert mysql["environment"]["MYSQL_DATABASE"] == example["MYSQL_DATABASE"] == "mcp_dummy"


def test_compose_api_gets_the_env_settings_and_waits_for_a_healthy_mysql(compose):
    api = compose["services"]["api"]
    env = {key: str(value) for key, value in api["environment"].items()}
    example = env_example()
    assert env["MYSQL_HOST"] == "mysql" and env["MYSQL_PORT"] == "3306" and env["MYSQL_USER"] == "root"
    for name in ("MYSQL_PASSWORD", "MYSQL_DATABASE", "DATA_SEED", "DEFAULT_BATCH_SIZE", "GENERATE_MAX_ROWS",
                 "WEB_CONCURRENCY"):  # fmt: skip
        assert env[name] == example[name], name
    assert "LOG_FORMAT" not in env  # the image's json, whatever .env says for local runs
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8000")
    assert api["build"]["context"] == str(ROOT)
    for service in ("api", "phpmyadmin"):
        assert compose["services"][service]["depends_on"] == {"mysql": {"condition": "service_healthy"}}
    assert compose["services"]["phpmyadmin"]["environment"]["PMA_HOST"] == "mysql"
    for service in ("mysql", "api"):
        assert compose["services"][service]["healthcheck"]["test"][0] == "CMD"


def test_compose_publishes_the_api_on_api_port_from_env(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text(encoding="utf-8") + "\nAPI_PORT=8123\n", encoding="utf-8")
    assert published(parsed_compose(env_file)["services"]["api"]) == {8000: ("127.0.0.1", 8123)}


def test_compose_without_a_mysql_password_says_to_set_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("API_PORT=8000\n", encoding="utf-8")
    result = compose_config(env_file)
    assert result.returncode != 0
    assert "set MYSQL_PASSWORD in .env" in result.stderr


def test_the_api_container_environment_passes_the_exposure_check(compose, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in OUR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in compose["services"]["api"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = Settings()
    settings.check_exposure(token_supported=True)  # HOST=0.0.0.0 is allowed: published on loopback only
    assert settings.server_port == 8000
    password = env_example()["MYSQL_PASSWORD"]
    assert settings.resolved_database_url.startswith(f"mysql+pymysql://root:{password}@mysql:3306/mcp_dummy?")


# -- the image (tests/test_image.py tests it alone) ---------------------------------------------------


def test_compose_runs_the_images_command_and_health_check(compose):
    image = Dockerfile.read(ROOT / "Dockerfile").stages[-1]
    assert exec_form(image.args("CMD")[0]) == ["salesmcp", "serve"]
    assert "command" not in compose["services"]["api"]  # the image's CMD
    assert compose["services"]["api"]["healthcheck"]["test"] == ["CMD", *healthcheck(image.args("HEALTHCHECK")[0])[1]]


# -- the containers' commands, for real ----------------------------------------------------------


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The image compose's api service builds (the Dockerfile), built here."""
    return build_image(ROOT, tmp_path_factory.mktemp("image"))


@pytest.fixture
def init_sql_database() -> Iterator[str]:
    """A scratch MariaDB database made the way compose makes MySQL's: by db/init.sql."""
    scratch = _scratch_database(MARIADB_ADMIN_URL, f"salesmcp_deploy_{os.getpid()}", "MariaDB")
    url = next(scratch)
    run_script(url)
    try:
        yield url
    finally:
        scratch.close()


def api_container_environment(compose: dict, image: Result, database_url: str, **overrides: str) -> dict[str, str]:
    """The api service's container environment (the image's, then compose's), its MySQL at ``database_url``."""
    database = make_url(database_url)
    env = dict(image.env)
    env.update({name: str(value) for name, value in compose["services"]["api"]["environment"].items()})
    env.update(
        MYSQL_HOST=database.host or "127.0.0.1", MYSQL_PORT=str(database.port or 3306),
        MYSQL_USER=database.username or "root", MYSQL_PASSWORD=database.password or "",
        MYSQL_DATABASE=database.database or "", **overrides,
    )  # fmt: skip
    return env


def test_the_api_containers_command_and_health_check_run_for_real(compose, image, init_sql_database, tmp_path):
    # HOST stays on loopback here: compose serves 0.0.0.0 without a token only because it publishes on loopback.
    port = free_port()
    env = api_container_environment(compose, image, init_sql_database, HOST="127.0.0.1", PORT=str(port))
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(in_image(image, image.cmd), env=env, cwd=image.workdir,
                                  stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        healthy = wait_until_healthy(f"http://127.0.0.1:{port}/health", START_TIMEOUT, server)
        assert healthy, log.read_text(encoding="utf-8", errors="replace")
        assert run_health_check(image, env).returncode == 0
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()
        assert health["status"] == "ok" and health["database"] == "mysql"
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text  # init.sql's schema is at the head revision
        customers = httpx.get(f"http://127.0.0.1:{port}/customers", timeout=10).json()
        assert customers["total"] == 10  # init.sql's demo data
    finally:
        stop_process(server)


@pytest.mark.anyio
async def test_salesmcp_mcp_in_the_api_container_serves_claude_desktop_over_stdio(
    compose, image, init_sql_database, tmp_path
):
    # Claude Desktop runs `docker compose exec -T api salesmcp mcp`: the same command, environment and database.
    env = api_container_environment(compose, image, init_sql_database)
    command, *args = in_image(image, ["salesmcp", "mcp"])
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(image.workdir))
    with anyio.fail_after(COMMAND_TIMEOUT):
        async with Client(params) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            bert = await client.call_tool(
                "get_customer_revenue_by_period", {"cust_id": "012", "start_date": "20260101", "end_date": "20260131"}
            )
    assert {"get_customer", "get_city_revenue_by_period"} <= tools
    assert bert.structured_content["revenue"] == 14


def local_executable(name: str) -> str:
    """A program as installed here (the MySQL client tools, this checkout's salesmcp)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed here"
    return found


def mysql_health_check(compose: dict, port: int) -> subprocess.CompletedProcess:
    command, *args = compose["services"]["mysql"]["healthcheck"]["test"][1:]
    program = shutil.which(command) or shutil.which(command.replace("mysql", "mariadb-"))
    assert program, f"{command} is not installed here"
    extra = [] if port == 3306 else ["-P", str(port)]  # the container's MySQL is on 3306; ours may not be
    return subprocess.run([program, *args, *extra, "--connect-timeout=5"], capture_output=True,
                          env=clean_environment(), timeout=COMMAND_TIMEOUT)  # fmt: skip


def test_the_mysql_containers_health_check_runs_for_real(compose, init_sql_database):
    assert mysql_health_check(compose, make_url(init_sql_database).port or 3306).returncode == 0
    assert mysql_health_check(compose, free_port()).returncode != 0, "the health check passed with no server"


# -- .env.example --------------------------------------------------------------------------------


def test_env_example_has_seed_002s_variables():
    example = env_example()
    for name, value in {"MYSQL_PORT": "3306", "MYSQL_USER": "root", "MYSQL_DATABASE": "mcp_dummy",
                        "API_PORT": "8000", "DATA_SEED": "42", "DEFAULT_BATCH_SIZE": "10000"}.items():  # fmt: skip
        assert example[name] == value, name
    assert example["MYSQL_PASSWORD"]  # the MySQL image needs one
    assert "# MYSQL_HOST=localhost" in ENV_EXAMPLE.read_text(encoding="utf-8")


def test_env_example_copied_unchanged_keeps_a_local_run_on_sqlite(tmp_path):
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    result = subprocess.run([local_executable("salesmcp"), "migrate"], cwd=tmp_path, env=clean_environment(),
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "database ready: sqlite:///" in result.stdout
    assert (tmp_path / "data" / "customers.db").is_file()

"""``salesmcp doctor``: check Claude Desktop's config and start each of our servers in it as the app does.

Every check says what it found; a problem says how to fix it on the same line. Servers are started
the way Claude Desktop starts them: the entry's command, args and env, only the few variables the
app passes on (the MCP SDK's default set: no ``VIRTUAL_ENV``, no ``PYTHONPATH``), and a working
folder that is not the project's.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx

from salesmcp.config import Settings, normalise_database_url
from salesmcp.desktop import config as desktop

TIMEOUT = 20.0
TAIL_LINES = 8
LOG_LINES = 5
LOG_TAIL_BYTES = 64 * 1024
LOG_ERROR = re.compile(r"error|exception|traceback|no module named|enoent|closed unexpectedly|exited", re.IGNORECASE)

KINDS = {
    "seed": "seed 000: the two revenue tools over the customer and sales APIs",
    "database": "salesmcp mcp: every tool, on the database",
    "docker": "salesmcp mcp inside the docker compose service api",
}
REWRITE = {
    "seed": "salesmcp claude-config --write",
    "database": "salesmcp claude-config --database --write",
    "docker": "salesmcp claude-config --docker --write",
}
DEFAULT_NAMES = {"seed": "sales-analysis", "database": "salesmcp", "docker": "salesmcp-docker"}
APIS = (
    ("CUSTOMER_API_URL", "customer_api_url", "customer API", "cust_server.py"),
    ("SALES_API_URL", "sales_api_url", "sales API", "sales_server.py"),
)


@dataclass
class Check:
    """One finding: what was checked, or the problem and its fix; ``details`` such as a stderr tail."""

    ok: bool
    line: str
    details: list[str] = field(default_factory=list)


@dataclass
class ServerReport:
    name: str
    kind: str
    checks: list[Check] = field(default_factory=list)
    log_file: Path | None = None
    log_errors: list[str] = field(default_factory=list)


@dataclass
class Report:
    config_path: Path
    logs_dir: Path
    checks: list[Check] = field(default_factory=list)
    servers: list[ServerReport] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in [*self.checks, *(c for s in self.servers for c in s.checks)] if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"Claude Desktop config: {self.config_path}", *_render_checks(self.checks)]
        if self.others:
            lines.append(f"  other servers, not checked: {', '.join(self.others)}")
        for server in self.servers:
            lines += ["", f"{server.name} ({KINDS[server.kind]})", *_render_checks(server.checks)]
            if server.log_errors:
                lines.append(f"  log   last error lines of {server.log_file}:")
                lines += [f"        {line}" for line in server.log_errors]
        where = "" if self.logs_dir.is_dir() else " (not there yet: Claude Desktop has not started a server here)"
        lines += ["", f"Claude Desktop's MCP logs: {self.logs_dir}{where}"]
        lines.append("  mcp-server-<name>.log for each server, mcp.log for the app's side of every connection")
        count = len(self.problems)
        if count:
            lines.append(
                f"{count} problem{'s' if count > 1 else ''}: fix {'them' if count > 1 else 'it'}, quit Claude Desktop "
                "completely (tray or menu bar, not just the window), start it again; `salesmcp doctor` checks again."
            )
        else:
            lines.append("Everything works: quit Claude Desktop completely and start it again to load the servers.")
        return "\n".join(lines)


def _render_checks(checks: list[Check]) -> list[str]:
    lines = []
    for check in checks:
        lines.append(f"  {'ok  ' if check.ok else 'FAIL'}  {check.line}")
        lines += [f"        {detail}" for detail in check.details]
    return lines


def examine(config_path: Path, logs_dir: Path, timeout: float = TIMEOUT) -> Report:
    """Check the config at ``config_path`` and every salesmcp server in it; never raises for a broken setup."""
    report = Report(config_path, logs_dir)
    servers = _read_config(config_path, report.checks)
    if servers is None:
        return report
    for name, entry in servers.items():
        kind = desktop.entry_kind(entry) if isinstance(entry, dict) else None
        if kind is None:
            report.others.append(name)
            continue
        server = ServerReport(name, kind)
        fix = REWRITE[kind] + ("" if name == DEFAULT_NAMES[kind] else f' --name "{name}"')
        if kind == "docker":
            server.checks = _docker_checks(entry, fix, timeout)
        else:
            server.checks = _python_checks(entry, kind, fix, timeout)
        server.log_file = logs_dir / f"mcp-server-{name}.log"
        server.log_errors = _log_errors(server.log_file)
        report.servers.append(server)
    if not report.servers:
        report.checks.append(
            Check(
                False, "no salesmcp server in it: add one with `salesmcp claude-config --write` in the salesmcp folder"
            )
        )
    return report


def _read_config(path: Path, checks: list[Check]) -> dict[str, Any] | None:
    if not path.is_file():
        checks.append(
            Check(
                False, f"{path} does not exist: write it with `salesmcp claude-config --write` (or give --config-path)"
            )
        )
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8-sig") or "{}")
    except json.JSONDecodeError as exc:
        checks.append(
            Check(
                False,
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; fix that line, "
                f"or copy back a backup ({path.name}.<time>.bak) and run `salesmcp claude-config --write` again",
            )
        )
        return None
    except (OSError, UnicodeDecodeError) as exc:
        checks.append(Check(False, f"cannot be read ({exc}): check its permissions and that it is UTF-8 text"))
        return None
    servers = config.get("mcpServers", {}) if isinstance(config, dict) else None
    if not isinstance(servers, dict):
        checks.append(Check(False, 'must be a JSON object whose "mcpServers" is an object: {"mcpServers": {...}}'))
        return None
    checks.append(Check(True, f"valid JSON, {len(servers)} server{'' if len(servers) == 1 else 's'}"))
    return servers


# -- entries that run Python: mcp_server.py (seed 000), python -m salesmcp mcp (database) ----------


def _python_checks(entry: Mapping[str, Any], kind: str, fix: str, timeout: float) -> list[Check]:
    env = _spawn_env(entry)
    args: list[str] = entry.get("args") or []
    checks = [_interpreter_check(entry["command"], env, fix, timeout)]
    if kind == "seed":
        checks += [_script_check(arg, fix) for arg in args if arg.lower().endswith(".py")]
    else:
        checks.append(_database_check(entry, fix))
    if all(check.ok for check in checks):
        checks.append(
            _answers(
                entry,
                timeout,
                f"its stderr, below, says why; `{_command_line(entry)}` (with the entry's env) shows all of it",
            )
        )
    if kind == "seed":  # tools/list works without the APIs; their tool calls do not
        checks += _api_checks(entry)
    return checks


def _interpreter_check(command: str, env: Mapping[str, str], fix: str, timeout: float) -> Check:
    if os.path.basename(command) != command and not Path(command).is_absolute():
        return Check(
            False, f"command {command} is a relative path, but the server starts in another folder: {_in_folder(fix)}"
        )
    located = _locate(command, env)
    if located is None:
        return Check(False, f"command {command} does not exist: {_in_folder(fix)}")
    problem = _run([located, "-c", "import salesmcp"], env, timeout)
    if problem is not None:
        return Check(False, f"command {command} is not a Python that has salesmcp ({problem}): {_in_folder(fix)}")
    found = "" if located == command else f" (found on PATH: {located})"
    return Check(True, f"command {command} is a Python that has salesmcp{found}")


def _script_check(script: str, fix: str) -> Check:
    path = Path(script)
    if not path.is_absolute():
        return Check(
            False, f"script {script} is a relative path, but the server starts in another folder: {_in_folder(fix)}"
        )
    if not path.is_file():
        return Check(False, f"script {script} does not exist: {_in_folder(fix)}")
    return Check(True, f"script {script} exists")


def _database_check(entry: Mapping[str, Any], fix: str) -> Check:
    env: Mapping[str, str] = entry.get("env") or {}
    url = env.get("DATABASE_URL") or _arg_value(entry.get("args") or [], "--database-url")
    if not url and env.get("MYSQL_HOST"):
        # The values are text; the settings convert them (MYSQL_PORT) as they do the environment's.
        mysql: dict[str, Any] = {key.lower(): value for key, value in env.items() if key.startswith("MYSQL_")}
        url = Settings(_env_file=None, database_url=None, **mysql).resolved_database_url
    if not url and env.get("DB_PATH") and Path(env["DB_PATH"]).is_absolute():
        url = f"sqlite:///{Path(env['DB_PATH']).as_posix()}"
    if not url:
        return Check(
            False,
            "no DATABASE_URL in its env: the database would be data/customers.db in whatever folder "
            f"Claude Desktop starts the server in: {_in_folder(fix)}",
        )
    return _database_reachable(normalise_database_url(url), fix)


def _database_reachable(url: str, fix: str) -> Check:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except ArgumentError:
        return Check(False, f"DATABASE_URL {url!r} is not a database URL (e.g. sqlite:///C:/data/customers.db)")
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_reachable(parsed.database or "", shown, fix)
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver's error: what matters is its first line
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Check(
            False,
            f"database {shown} is unreachable ({reason}): start its server, or fix DATABASE_URL in the entry's env",
        )
    finally:
        engine.dispose()
    return Check(True, f"database {shown} answers")


def _sqlite_reachable(database: str, shown: str, fix: str) -> Check:
    if database in ("", ":memory:"):
        return Check(True, f"database {shown} is in memory (a fresh demo database at every start)")
    path = Path(database)
    if not path.is_absolute():
        return Check(False, f"database {shown} is a relative path, but the server starts in another folder: {fix}")
    if path.is_file():
        try:
            connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            return Check(False, f"database {shown} cannot be read ({exc}): fix DATABASE_URL, or move the file away")
        return Check(True, f"database {shown} answers")
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is None or not folder.is_dir() or not os.access(folder, os.W_OK):
        return Check(False, f"database {shown} cannot be created (no writable folder {path.parent}): fix DATABASE_URL")
    return Check(True, f"database {shown} does not exist yet; the server creates it with the demo data")


def _api_checks(entry: Mapping[str, Any]) -> list[Check]:
    env: Mapping[str, str] = entry.get("env") or {}
    checks = []
    with httpx.Client(timeout=3.0, trust_env=False) as http:  # the server gets no proxy settings either
        for variable, setting, label, script in APIS:
            option = "--" + setting.replace("_", "-")
            url = env.get(variable) or _arg_value(entry.get("args") or [], option)
            default = Settings.model_fields[setting].default
            url = (url or default).rstrip("/")
            try:
                up = http.get(f"{url}/health").status_code == 200
            except httpx.HTTPError:
                up = False
            if up:
                checks.append(Check(True, f"{label} at {url} answers"))
            else:
                checks.append(
                    Check(
                        False,
                        f"{label} at {url} is down: start both APIs with `salesmcp up` in the salesmcp folder "
                        f"(or `python {script}`)"
                        + ("" if url == default else f", or fix {variable} in the entry's env"),
                    )
                )
    return checks


# -- docker compose exec … salesmcp mcp ---------------------------------------------------------


def _docker_checks(entry: Mapping[str, Any], fix: str, timeout: float) -> list[Check]:
    env = _spawn_env(entry)
    args: list[str] = entry.get("args") or []
    compose_file = _arg_value(args, "-f") or _arg_value(args, "--file")
    start = (
        f"`docker compose -f {compose_file} up -d`" if compose_file else "`docker compose up -d` in the salesmcp folder"
    )
    docker = _locate(entry["command"], env)
    if docker is None:
        return [
            Check(False, f"{entry['command']} is not installed or not on PATH: install Docker Desktop, then {start}")
        ]
    checks = [Check(True, f"docker is {docker}")]
    problem = _run([docker, "compose", "version"], env, timeout)
    checks.append(
        Check(False, f"docker compose is missing ({problem}): install Docker Compose v2 (part of Docker Desktop)")
        if problem
        else Check(True, "docker compose is installed")
    )
    problem = _run([docker, "info", "--format", "{{.ServerVersion}}"], env, timeout)
    checks.append(
        Check(
            False,
            f"no Docker engine is running ({problem}): start Docker Desktop (or the docker service), then {start}",
        )
        if problem
        else Check(True, "the Docker engine answers")
    )
    if compose_file and not Path(compose_file).is_file():
        checks.append(Check(False, f"compose file {compose_file} does not exist: {_in_folder(fix)}"))
    if all(check.ok for check in checks):
        checks.append(_answers(entry, timeout, f"is the {desktop.COMPOSE_SERVICE} service up? {start}"))
    return checks


# -- shared --------------------------------------------------------------------------------------


def _spawn_env(entry: Mapping[str, Any]) -> dict[str, str]:
    """The environment Claude Desktop gives a server: a few inherited variables, then the entry's env."""
    from mcp.client.stdio import get_default_environment

    return get_default_environment() | {str(k): str(v) for k, v in (entry.get("env") or {}).items()}


def _locate(command: str, env: Mapping[str, str]) -> str | None:
    """The file ``command`` runs: an existing path, or a bare name found on the server's PATH."""
    if os.path.basename(command) != command:
        return command if Path(command).is_file() else None
    return shutil.which(command, path=env.get("PATH"))


def _run(command: list[str], env: Mapping[str, str], timeout: float) -> str | None:
    """Run ``command`` in a folder of its own; None when it succeeds, else the last line it printed."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        try:
            done = subprocess.run(
                command, env=dict(env), cwd=folder, capture_output=True, text=True, errors="replace", timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return f"no answer within {timeout:g} s"
        except OSError as exc:
            return str(exc)
    if done.returncode == 0:
        return None
    output = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    if not output:
        return f"exit code {done.returncode}"
    return output[-1] if output[0].startswith("Traceback") else output[0]  # a traceback's point is its last line


def _answers(entry: Mapping[str, Any], timeout: float, fix: str) -> Check:
    """Start the server as Claude Desktop does and ask for initialize and tools/list."""
    from mcp import StdioServerParameters

    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog,
    ):
        server = StdioServerParameters(
            command=entry["command"], args=list(entry.get("args") or []), env=dict(entry.get("env") or {}), cwd=folder
        )
        started = time.monotonic()
        try:
            tools = anyio.run(_list_tools, server, errlog, timeout)
        except Exception as exc:  # the SDK's errors, a spawn failure or our time-out: all mean "does not answer"
            errlog.seek(0)
            tail = [line for line in errlog.read().splitlines() if line.strip()][-TAIL_LINES:]
            reason = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else _first_error(exc)
            return Check(
                False,
                f"does not answer initialize and tools/list when started as Claude Desktop starts it ({reason}): {fix}",
                [f"stderr: {line}" for line in tail] or ["stderr: (empty)"],
            )
    return Check(True, f"answers initialize and tools/list ({len(tools)} tools) in {time.monotonic() - started:.1f} s")


async def _list_tools(server: Any, errlog: TextIO, timeout: float) -> list[str]:
    from mcp import Client
    from mcp.client.stdio import stdio_client

    with anyio.fail_after(timeout):
        async with Client(stdio_client(server, errlog=errlog), mode="legacy") as client:
            return [tool.name for tool in (await client.list_tools()).tools]


def _first_error(exc: BaseException) -> str:
    while nested := getattr(exc, "exceptions", None):  # an exception group from the SDK's task groups: its first cause
        exc = nested[0]
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0]


def _log_errors(path: Path) -> list[str]:
    """The last error lines of a Claude Desktop server log (read from its tail only)."""
    if not path.is_file():
        return []
    with path.open("rb") as log:
        log.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
        text = log.read().decode("utf-8", errors="replace")
    return [line.strip()[:300] for line in text.splitlines() if LOG_ERROR.search(line)][-LOG_LINES:]


def _arg_value(args: list[str], option: str) -> str | None:
    """The value after ``option`` (or in ``option=value``) in an argument list."""
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.partition("=")[2]
    return None


def _command_line(entry: Mapping[str, Any]) -> str:
    command = [entry["command"], *(entry.get("args") or [])]
    return subprocess.list2cmdline(command) if os.name == "nt" else shlex.join(command)


def _in_folder(fix: str) -> str:
    return f"run `{fix}` in the salesmcp folder, with the Python that has salesmcp (your venv activated)"

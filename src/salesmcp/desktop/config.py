"""Claude Desktop configuration: where the file lives, our server's entry, a safe merge."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath
from typing import Any

from salesmcp.config import Settings
from salesmcp.errors import InvalidInput

CONFIG_NAME = "claude_desktop_config.json"
COMPOSE_FILE = "docker-compose.yml"
COMPOSE_SERVICE = "api"
# Where the seed 000 server finds the two APIs, by environment variable and Settings field.
API_URLS = {"CUSTOMER_API_URL": "customer_api_url", "SALES_API_URL": "sales_api_url"}


def config_path(platform: str = sys.platform, environ: Mapping[str, str] | None = None) -> Path:
    """Claude Desktop's config file: %APPDATA%\\Claude on Windows, Application Support on macOS."""
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or environ.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        appdata = environ.get("APPDATA")
        base = Path(appdata) if appdata else home / "AppData" / "Roaming"
        return base / "Claude" / CONFIG_NAME
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / CONFIG_NAME
    config_home = environ.get("XDG_CONFIG_HOME")
    return (Path(config_home) if config_home else home / ".config") / "Claude" / CONFIG_NAME


def logs_dir(platform: str = sys.platform, environ: Mapping[str, str] | None = None) -> Path:
    """Where Claude Desktop writes its MCP logs (``mcp-server-<name>.log`` for each server)."""
    environ = os.environ if environ is None else environ
    if platform == "darwin":
        home = Path(environ.get("HOME") or Path.home())
        return home / "Library" / "Logs" / "Claude"
    return config_path(platform, environ).parent / "logs"


def interpreter(python: str | None = None) -> str:
    """The Python to name in an entry: absolute, and never resolved through links.

    A venv's ``python`` is a link to the interpreter it was made from, which does not have the
    venv's packages: resolving the link would hand Claude Desktop a Python without salesmcp.
    """
    python = python or sys.executable
    if os.path.basename(python) == python:  # a bare name: the one on PATH, as a shell would run it
        python = shutil.which(python) or python
    return os.path.abspath(python)


def server_entry(script: Path, python: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An ``mcpServers`` entry with absolute paths: a relative path is why a server "does not show up"."""
    return _with_env({"command": interpreter(python), "args": [os.path.abspath(script)]}, env)


def module_entry(args: list[str], env: Mapping[str, str] | None = None, python: str | None = None) -> dict[str, Any]:
    """An entry that runs ``python -m salesmcp <args>`` with this interpreter."""
    return _with_env({"command": interpreter(python), "args": ["-m", "salesmcp", *args]}, env)


def docker_entry(compose_file: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An entry that runs the stdio MCP server inside the running compose service ``api``."""
    args = ["compose", "-f", os.path.abspath(compose_file), "exec", "-T", COMPOSE_SERVICE, "salesmcp", "mcp"]
    return _with_env({"command": "docker", "args": args}, env)


def api_urls(settings: Settings) -> dict[str, str]:
    """The API URLs set away from their defaults here (environment or .env), for the entry's env."""
    return {
        variable: getattr(settings, field)
        for variable, field in API_URLS.items()
        if getattr(settings, field) != Settings.model_fields[field].default
    }


def _with_env(entry: dict[str, Any], env: Mapping[str, str] | None) -> dict[str, Any]:
    if env:
        entry["env"] = dict(env)
    return entry


def entry_kind(entry: Mapping[str, Any]) -> str | None:
    """Which of our servers an entry runs: ``"seed"`` (the two revenue tools over the APIs),
    ``"database"`` (``salesmcp mcp``), ``"docker"`` (``salesmcp`` in the compose service), or None."""
    command = entry.get("command")
    args = entry.get("args") or []
    if not isinstance(command, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return None
    if PureWindowsPath(command).stem.lower() == "docker" and {"compose", "exec", "salesmcp"} <= set(args):
        return "docker"
    for i, arg in enumerate(args[:-1]):
        if arg == "-m" and args[i + 1] == "salesmcp":
            return "seed" if args[i + 2 : i + 3] == ["mcp-seed"] else "database"
    if any(PureWindowsPath(arg).name == "mcp_server.py" for arg in args):  # either separator
        return "seed"
    return None


def merge_entry(path: Path, name: str, entry: dict[str, Any]) -> Path | None:
    """Put ``entry`` under ``mcpServers[name]`` in the config at ``path``, keeping the other servers.

    The old file is copied to a timestamped backup first (returned); a file that is not valid
    JSON is left untouched and reported.
    """
    config: dict[str, Any] = {}
    backup: Path | None = None
    if path.exists():
        text = path.read_text(encoding="utf-8-sig")
        try:
            config = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise InvalidInput("config", f"{path} is not valid JSON (line {exc.lineno}); fix it first") from None
        if not isinstance(config, dict) or not isinstance(config.get("mcpServers", {}), dict):
            raise InvalidInput("config", f"{path} must hold a JSON object with an object mcpServers")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.name}.{stamp}.bak")
        for n in range(1, 1000):  # two writes in one second must not overwrite the first backup
            if not backup.exists():
                break
            backup = path.with_name(f"{path.name}.{stamp}-{n}.bak")
        shutil.copy2(path, backup)
    config.setdefault("mcpServers", {})[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return backup

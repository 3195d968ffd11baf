"""Claude Desktop configuration: where the file lives, our server's entry, a safe merge."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from salesmcp.errors import InvalidInput

CONFIG_NAME = "claude_desktop_config.json"


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


def server_entry(script: Path, python: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An ``mcpServers`` entry with absolute paths: a relative path is why a server "does not show up"."""
    entry: dict[str, Any] = {
        "command": str(Path(python or sys.executable).resolve()),
        "args": [str(script.resolve())],
    }
    if env:
        entry["env"] = dict(env)
    return entry


def module_entry(args: list[str], env: Mapping[str, str] | None = None, python: str | None = None) -> dict[str, Any]:
    """An entry that runs ``python -m salesmcp <args>`` with this interpreter."""
    entry: dict[str, Any] = {
        "command": str(Path(python or sys.executable).resolve()),
        "args": ["-m", "salesmcp", *args],
    }
    if env:
        entry["env"] = dict(env)
    return entry


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
        shutil.copy2(path, backup)
    config.setdefault("mcpServers", {})[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return backup

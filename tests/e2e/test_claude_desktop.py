"""Claude Desktop's side of issue 7: a user's venv, `salesmcp claude-config --write`, then each entry
in the written file started exactly as the app starts it and asked real questions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters

from salesmcp.cli import main
from salesmcp.config import Settings
from tests.conftest import ROOT

TIMEOUT = 60
JANUARY = {"start_date": "20260101", "end_date": "20260131"}
OTHER_SETTINGS = {
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/x"]}},
}
# What a GUI app has on PATH: the system folders, never a venv's (Windows needs SYSTEMROOT too).
SYSTEM_ROOT = os.environ.get("SYSTEMROOT", r"C:\Windows")
SYSTEM_PATH = f"{SYSTEM_ROOT}\\System32;{SYSTEM_ROOT}" if os.name == "nt" else "/usr/bin:/bin"
BARE_ENV = {"PATH": SYSTEM_PATH, **({"SYSTEMROOT": SYSTEM_ROOT} if os.name == "nt" else {})}


def _venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _imports_salesmcp(python: Path | str) -> bool:
    done = subprocess.run([str(python), "-c", "import salesmcp"], env=BARE_ENV, capture_output=True, timeout=TIMEOUT)
    return done.returncode == 0


def _base_interpreter() -> str:
    """The interpreter this run's venv was made from, or this run's own when it is in none.

    A venv made from inside a venv is made from the base interpreter anyway (Python 3.11+), but
    naming it keeps Python 3.10 on macOS and Linux (whose ``sys._base_executable`` is the venv's
    python) from making a venv of a venv."""
    if sys.prefix == sys.base_prefix:
        return sys.executable
    base = getattr(sys, "_base_executable", "")
    if base and not Path(base).is_relative_to(sys.prefix):
        return base
    prefix = Path(sys.base_prefix)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    names = ["python.exe"] if os.name == "nt" else [f"bin/python{version}", "bin/python3"]
    return next((str(prefix / name) for name in names if (prefix / name).is_file()), sys.executable)


def _site_dirs_of_this_run() -> list[Path]:
    """Where this run imports salesmcp and its dependencies from: the folder salesmcp is imported from
    (an editable install's src, or site-packages), then this interpreter's site-packages, a venv's
    as well as a plain interpreter's, and the user's when it is enabled."""
    import site

    import salesmcp

    dirs = [Path(salesmcp.__file__).resolve().parent.parent, *map(Path, site.getsitepackages())]
    if site.ENABLE_USER_SITE:
        dirs.append(Path(site.getusersitepackages()))
    return list(dict.fromkeys(folder for folder in dirs if folder.is_dir()))


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``python`` of a user's venv: salesmcp is installed in it, not in the interpreter its link leads to.

    ``python -m venv .venv`` links .venv's python to the interpreter it was made from, and the user
    installs salesmcp into .venv only. The interpreter behind this run may have salesmcp too, so the
    venv's link is pointed instead at an interpreter in an environment of its own without salesmcp
    (a ``venv --copies`` without site packages). The venv sees salesmcp and its dependencies where
    this run does, through a ``.pth`` file in its own site-packages that adds this run's site
    folders (their ``.pth`` files, an editable install's included), as ``pip install`` into .venv
    would: whatever runs the tests, a venv (the README's way), a plain interpreter, on Windows too.
    ``--system-site-packages`` would not do: in a venv it shows the base interpreter's
    site-packages, not this venv's. Offline, well under a second.
    """
    folder = tmp_path_factory.mktemp("venvs")
    base_interpreter = _base_interpreter()
    venv = folder / ".venv"
    subprocess.run([base_interpreter, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = _venv_python(venv)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        env=BARE_ENV, capture_output=True, text=True, check=True, timeout=TIMEOUT,
    ).stdout.strip()  # fmt: skip
    lines = [f"import site; site.addsitedir({str(site_dir)!r})" for site_dir in _site_dirs_of_this_run()]
    (Path(purelib) / "_salesmcp_under_test.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if os.name != "nt":  # on Windows a venv's python.exe is a file of its own: nothing to resolve
        base = folder / "base"
        subprocess.run([base_interpreter, "-m", "venv", "--without-pip", "--copies", str(base)], check=True)
        base_python = _venv_python(base).resolve()
        for link in python.parent.glob("python*"):
            link.unlink()
            link.symlink_to(base_python)
        assert python.resolve() == base_python and not _imports_salesmcp(base_python)
    assert _imports_salesmcp(python)
    return python


def _claude_config(python: Path, *args: str, cwd: Path) -> None:
    """`salesmcp claude-config …` as a user runs it, in the activated venv."""
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env |= {"VIRTUAL_ENV": str(python.parent.parent), "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}"}
    done = subprocess.run(
        [str(python), "-m", "salesmcp", "claude-config", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _as_claude_desktop_starts(entry: dict, cwd: Path) -> StdioServerParameters:
    """The entry's command, args and env over a bare environment (the SDK adds only HOME, USER and
    the like, as Claude Desktop does: no VIRTUAL_ENV, no PYTHONPATH), in a folder of no importance."""
    return StdioServerParameters(
        command=entry["command"], args=entry["args"], env={**BARE_ENV, **entry.get("env", {})}, cwd=cwd
    )


@pytest.mark.anyio
async def test_written_entries_start_and_answer_as_claude_desktop_starts_them(venv_python, live_apis, tmp_path):
    config = tmp_path / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(OTHER_SETTINGS, indent=2), encoding="utf-8")
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()

    urls = [f"--env=CUSTOMER_API_URL={live_apis.customers.url}", f"--env=SALES_API_URL={live_apis.sales.url}"]
    _claude_config(venv_python, "--write", "--config-path", str(config), *urls, cwd=ROOT)
    _claude_config(venv_python, "--database", "--write", "--config-path", str(config), cwd=project)

    written = json.loads(config.read_text(encoding="utf-8"))
    assert written["globalShortcut"] == "Ctrl+Space"
    assert written["mcpServers"]["filesystem"] == OTHER_SETTINGS["mcpServers"]["filesystem"]
    backups = sorted(config.parent.glob("claude_desktop_config.json.*.bak"))
    assert len(backups) == 2
    assert OTHER_SETTINGS in [json.loads(backup.read_text(encoding="utf-8")) for backup in backups]

    seed, database = written["mcpServers"]["sales-analysis"], written["mcpServers"]["salesmcp"]
    for entry in (seed, database):
        assert entry["command"] == str(venv_python)  # the venv's python as named, not where its link leads
    assert seed["args"] == [str(ROOT / "mcp_server.py")]
    assert database["args"] == ["-m", "salesmcp", "mcp"]

    with anyio.fail_after(TIMEOUT):
        async with Client(_as_claude_desktop_starts(seed, elsewhere), mode="legacy") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            city = await client.call_tool("get_city_revenue_by_period", {"city": "Eindhoven", **JANUARY})
    assert tools == {"get_city_revenue_by_period", "get_customer_revenue_by_period"}
    assert not city.is_error, city.content
    assert city.structured_content["total_revenue"] == 54

    with anyio.fail_after(TIMEOUT):
        async with Client(_as_claude_desktop_starts(database, elsewhere), mode="legacy") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            bert = await client.call_tool("get_customer", {"cust_id": "012"})
    assert {"get_customer", "list_customers", "get_city_revenue_by_period"} <= tools
    assert not bert.is_error, bert.content
    assert bert.structured_content["name"] == "Bert"
    # The database is the one the entry names (made absolute in the project folder), not one in the start folder.
    assert (project / "data" / "customers.db").is_file()
    assert not (elsewhere / "data").exists()


def test_the_interpreter_behind_the_venv_link_lacks_salesmcp_so_a_resolved_entry_would_die(venv_python, tmp_path):
    """The rig reproduces the defect: the entry the old code wrote fails exactly as the issue reports."""
    if venv_python.resolve() == venv_python:
        pytest.skip("this venv's python is not a link")
    done = subprocess.run(
        [str(venv_python.resolve()), str(ROOT / "mcp_server.py")],
        env=BARE_ENV, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode != 0
    assert "No module named 'salesmcp'" in done.stderr


def test_claude_config_docker_runs_salesmcp_mcp_in_the_compose_service_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["claude-config", "--docker"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["mcpServers"]["salesmcp-docker"]
    assert entry == {
        "command": "docker",
        "args": ["compose", "-f", str(tmp_path / "docker-compose.yml"), "exec", "-T", "api", "salesmcp", "mcp"],
    }


def test_claude_config_docker_outside_the_project_names_the_missing_compose_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["claude-config", "--docker"])
    assert result.exit_code == 2
    assert "docker-compose.yml does not exist" in result.output
    assert CliRunner().invoke(main, ["claude-config", "--docker", "--database"]).exit_code == 2


def test_claude_config_env_puts_variables_in_the_entry_and_carries_api_urls_set_here(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SALES_API_URL", "http://127.0.0.1:6002/")
    monkeypatch.delenv("CUSTOMER_API_URL", raising=False)
    result = CliRunner().invoke(main, ["claude-config", "--env", "LOG_LEVEL=DEBUG", "--env", "X=a=b"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["mcpServers"]["sales-analysis"]
    assert entry["env"] == {"SALES_API_URL": "http://127.0.0.1:6002", "LOG_LEVEL": "DEBUG", "X": "a=b"}
    bad = CliRunner().invoke(main, ["claude-config", "--env", "LOG_LEVEL"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output

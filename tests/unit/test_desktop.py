import json
import os
import sys
from pathlib import Path

import pytest

from salesmcp.desktop import config as desktop
from salesmcp.errors import InvalidInput


def test_windows_config_lives_in_appdata_claude():
    path = desktop.config_path("win32", {"APPDATA": r"C:\Users\an\AppData\Roaming"})
    assert path.parts[-2:] == ("Claude", "claude_desktop_config.json")
    assert str(path).startswith(r"C:\Users\an\AppData\Roaming")


def test_macos_config_lives_in_application_support():
    path = desktop.config_path("darwin", {"HOME": "/Users/an"})
    assert path == Path("/Users/an/Library/Application Support/Claude/claude_desktop_config.json")


def test_linux_config_follows_xdg_config_home():
    assert desktop.config_path("linux", {"HOME": "/home/an"}) == Path(
        "/home/an/.config/Claude/claude_desktop_config.json"
    )
    assert desktop.config_path("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/x/Claude/claude_desktop_config.json"
    )


def test_server_entry_uses_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = desktop.server_entry(Path("mcp_server.py"), python="python")
    assert Path(entry["command"]).is_absolute()
    assert entry["args"] == [str(tmp_path / "mcp_server.py")]


def test_entries_name_the_running_python_as_it_is_called():
    assert desktop.interpreter() == os.path.abspath(sys.executable)
    assert desktop.module_entry(["mcp"])["command"] == os.path.abspath(sys.executable)


def test_a_venv_python_is_named_by_its_own_path_never_the_interpreter_its_link_leads_to(tmp_path):
    """A venv's python links to the base interpreter, which lacks the venv's packages (issue 7)."""
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    try:
        venv_python.symlink_to(sys.executable)
    except OSError:
        pytest.skip("this account may not create symbolic links")
    script = tmp_path / "mcp_server.py"
    for entry in (
        desktop.server_entry(script, python=str(venv_python)),
        desktop.module_entry(["mcp"], python=str(venv_python)),
    ):
        assert entry["command"] == str(venv_python)
        assert Path(entry["command"]).resolve() != Path(entry["command"])  # the link was not followed
    linked_script = tmp_path / "linked" / "mcp_server.py"
    linked_script.parent.mkdir()
    linked_script.symlink_to(script)
    assert desktop.server_entry(linked_script)["args"] == [str(linked_script)]


def test_docker_entry_runs_salesmcp_mcp_in_the_compose_service_api(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = desktop.docker_entry(Path("docker-compose.yml"))
    assert entry == {
        "command": "docker",
        "args": ["compose", "-f", str(tmp_path / "docker-compose.yml"), "exec", "-T", "api", "salesmcp", "mcp"],
    }
    assert desktop.entry_kind(entry) == "docker"


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ({"command": "/v/bin/python", "args": ["/p/mcp_server.py"]}, "seed"),
        ({"command": r"C:\v\Scripts\python.exe", "args": [r"C:\p\mcp_server.py"]}, "seed"),
        ({"command": "/v/bin/python", "args": ["-m", "salesmcp", "mcp-seed"]}, "seed"),
        ({"command": "/v/bin/python", "args": ["-m", "salesmcp", "mcp"], "env": {"DATABASE_URL": "x"}}, "database"),
        ({"command": "docker", "args": ["compose", "-f", "/c.yml", "exec", "-T", "api", "salesmcp", "mcp"]}, "docker"),
        ({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}, None),
        ({"command": "docker", "args": ["run", "-i", "mcp/fetch"]}, None),
        ({"args": ["mcp_server.py"]}, None),
    ],
)  # fmt: skip
def test_entry_kind_recognises_our_servers_only(entry, kind):
    assert desktop.entry_kind(entry) == kind


def test_claude_desktop_logs_live_where_each_os_keeps_them():
    assert (
        desktop.logs_dir("win32", {"APPDATA": r"C:\Users\an\AppData\Roaming"})
        == Path(r"C:\Users\an\AppData\Roaming") / "Claude" / "logs"
    )
    assert desktop.logs_dir("darwin", {"HOME": "/Users/an"}) == Path("/Users/an/Library/Logs/Claude")
    assert desktop.logs_dir("linux", {"HOME": "/home/an"}) == Path("/home/an/.config/Claude/logs")


def test_api_urls_set_away_from_the_defaults_go_into_the_entry(settings):
    assert desktop.api_urls(settings) == {}
    moved = settings.model_copy(update={"sales_api_url": "http://127.0.0.1:6002"})
    assert desktop.api_urls(moved) == {"SALES_API_URL": "http://127.0.0.1:6002"}


def test_merge_keeps_other_servers_and_makes_a_backup(tmp_path):
    path = tmp_path / "claude_desktop_config.json"
    original = {"mcpServers": {"other": {"command": "x"}}, "theme": "dark"}
    path.write_text(json.dumps(original), encoding="utf-8")
    backup = desktop.merge_entry(path, "sales-analysis", {"command": "py", "args": ["s.py"]})
    merged = json.loads(path.read_text(encoding="utf-8"))
    assert merged["mcpServers"]["other"] == {"command": "x"}
    assert merged["mcpServers"]["sales-analysis"] == {"command": "py", "args": ["s.py"]}
    assert merged["theme"] == "dark"
    assert json.loads(backup.read_text(encoding="utf-8")) == original


def test_two_writes_in_one_second_keep_the_first_backup(tmp_path):
    path = tmp_path / "claude_desktop_config.json"
    path.write_text('{"theme": "dark"}', encoding="utf-8")
    first = desktop.merge_entry(path, "a", {"command": "py"})
    second = desktop.merge_entry(path, "b", {"command": "py"})
    assert first != second
    assert json.loads(first.read_text(encoding="utf-8")) == {"theme": "dark"}
    assert set(json.loads(second.read_text(encoding="utf-8"))["mcpServers"]) == {"a"}


def test_merge_creates_a_missing_config_and_its_folder(tmp_path):
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    assert desktop.merge_entry(path, "s", {"command": "py"}) is None
    assert json.loads(path.read_text(encoding="utf-8")) == {"mcpServers": {"s": {"command": "py"}}}


def test_merge_refuses_a_config_that_is_not_json_and_leaves_it_untouched(tmp_path):
    path = tmp_path / "claude_desktop_config.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        desktop.merge_entry(path, "s", {"command": "py"})
    assert path.read_text(encoding="utf-8") == "{not json"


def test_the_bundled_windows_example_is_valid_and_names_mcp_server_py():
    example = json.loads((Path(__file__).parents[2] / "claude_desktop_config.json").read_text(encoding="utf-8"))
    (entry,) = example["mcpServers"].values()
    assert entry["args"][0].endswith("mcp_server.py")

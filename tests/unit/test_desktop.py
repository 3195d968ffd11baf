import json
from pathlib import Path

import pytest

from salesmcp import desktop
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

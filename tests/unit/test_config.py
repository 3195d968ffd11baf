import pytest

from salesmcp.config import Settings
from salesmcp.errors import InvalidInput


def test_port_comes_from_port_then_api_port_then_8080(settings):
    assert Settings().server_port == 8080
    assert Settings(api_port=8000).server_port == 8000
    assert Settings(port=9000, api_port=8000).server_port == 9000


def test_database_url_comes_from_database_url_then_mysql_variables_then_db_path(settings, tmp_path):
    assert Settings().resolved_database_url == f"sqlite:///{(tmp_path / 'data' / 'customers.db').as_posix()}"
    mysql = Settings(mysql_host="db", mysql_user="app", mysql_password="p@ss/word", mysql_database="shop")
    assert mysql.resolved_database_url == "mysql+pymysql://app:p%40ss%2Fword@db:3306/shop?charset=utf8mb4"
    assert Settings(database_url="postgres://u@h/d", mysql_host="db").resolved_database_url == (
        "postgresql+psycopg://u@h/d"
    )


def test_settings_are_read_from_a_dotenv_file(settings, tmp_path):
    (tmp_path / ".env").write_text("PORT=8123\nLOG_LEVEL=debug\n", encoding="utf-8")
    loaded = Settings()
    assert (loaded.server_port, loaded.log_level) == (8123, "DEBUG")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_serving_loopback_needs_no_token(settings, host):
    Settings(host=host).check_exposure(token_supported=True)


def test_serving_every_interface_without_a_token_is_refused_naming_host(settings):
    with pytest.raises(InvalidInput, match="HOST: 0.0.0.0 is reachable from other machines") as caught:
        Settings(host="0.0.0.0").check_exposure(token_supported=True)
    assert "API_TOKEN" in caught.value.message and "ALLOW_UNAUTHENTICATED" in caught.value.message


def test_a_token_or_an_explicit_choice_allows_serving_every_interface(settings):
    Settings(host="0.0.0.0", api_token="s3cret").check_exposure(token_supported=True)
    Settings(host="0.0.0.0", allow_unauthenticated=True).check_exposure(token_supported=False)
    with pytest.raises(InvalidInput):  # the seed 000 APIs take no token
        Settings(host="0.0.0.0", api_token="s3cret").check_exposure(token_supported=False)


def test_debug_mode_logs_everything_unless_log_level_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert Settings(_env_file=None, debug=True).log_level == "DEBUG"
    assert Settings(_env_file=None, debug=False).log_level == "INFO"
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert Settings(_env_file=None).log_level == "WARNING"

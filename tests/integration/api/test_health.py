"""The main server's health probes: /health (seed 001), /health/live and /health/ready, on each database."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from salesmcp.api.health import Down, NotReady
from salesmcp.store.database import _alembic_config, create_db_engine, head_revision
from salesmcp.store.sql_store import SqlStore
from salesmcp.web.app import create_rest_app

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
HEAD = head_revision()
BEFORE_HEAD = ScriptDirectory.from_config(_alembic_config()).get_revision(HEAD).down_revision


def _client(settings, store):
    return create_rest_app(settings, store, tools=[]).test_client()


def test_health_keeps_the_seeds_answer(settings, sql_store):
    response = _client(settings, sql_store).get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": sql_store.engine.dialect.name}


def test_ready_when_the_database_answers_and_its_schema_is_at_the_head(settings, sql_store):
    response = _client(settings, sql_store).get("/health/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": sql_store.engine.dialect.name, "revision": HEAD}


def test_live_answers_without_asking_the_database(settings):
    client = _client(settings, SqlStore(create_engine(UNREACHABLE)))
    response = client.get("/health/live")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_ready_is_503_naming_the_reason_when_the_database_is_unreachable(settings):
    response = _client(settings, SqlStore(create_engine(UNREACHABLE))).get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["reason"].startswith("database unavailable: ")
    assert body["error"] == {"code": "unavailable", "message": body["reason"], "field": None}
    assert (body["database"], body["revision"], body["head"]) == ("postgresql", None, HEAD)
    NotReady.model_validate(body)  # as the OpenAPI document says


def test_health_is_503_as_documented_when_the_database_is_unreachable(settings):
    response = _client(settings, SqlStore(create_engine(UNREACHABLE))).get("/health")
    assert response.status_code == 503
    Down.model_validate(response.get_json())


def test_ready_is_503_while_the_schema_is_behind_the_head(settings, tmp_path):
    engine = create_db_engine(f"sqlite:///{(tmp_path / 'old.db').as_posix()}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, BEFORE_HEAD)
    client = _client(settings, SqlStore(engine))
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert (body["revision"], body["head"]) == (BEFORE_HEAD, HEAD)
    assert (
        body["reason"]
        == f"the database schema is at revision {BEFORE_HEAD} but head is {HEAD} (run `salesmcp migrate`)"
    )
    assert client.get("/health/live").status_code == 200

    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    reason = client.get("/health/ready").get_json()["reason"]
    assert reason == f"the database schema is at revision 0099 but head is {HEAD} (a newer salesmcp migrated it)"
    engine.dispose()


def test_ready_is_503_when_the_database_has_no_schema(settings, tmp_path):
    engine = create_db_engine(f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")
    body = _client(settings, SqlStore(engine)).get("/health/ready").get_json()
    assert body["revision"] is None
    assert body["reason"] == f"the database schema is at revision none but head is {HEAD} (run `salesmcp migrate`)"
    engine.dispose()

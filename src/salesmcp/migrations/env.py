"""Alembic environment: run on the connection salesmcp hands over (see salesmcp.store.database)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from salesmcp.store.schema import include_object, metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # plain `alembic -x url=... upgrade head`
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass `alembic -x url=...` or set sqlalchemy.url")
    with create_engine(url).connect() as fresh:
        _run(fresh)

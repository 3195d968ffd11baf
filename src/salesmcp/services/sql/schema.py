"""``describe_schema``: what the SQL tool can read — tables, columns, keys, row counts, and the values of the
low-cardinality text columns (so a model writes ``status = 'DELIVERED'``, not ``'delivered'``)."""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.types import Enum, String

from salesmcp.errors import NotFound
from salesmcp.models import compact_json
from salesmcp.services.sql.answer import MAX_ANSWER_BYTES, json_cell
from salesmcp.store.database import database_errors
from salesmcp.store.read_only import ReadOnlyDatabase

EXACT_BELOW = 100_000  # tables estimated smaller than this are counted exactly
SAMPLED_ROWS = 10_000  # rows a column's values are sampled from
MAX_VALUES = 10  # a text column with more distinct values than this (in the sample) lists none


def describe_schema(database: ReadOnlyDatabase, table: str | None = None) -> dict[str, Any]:
    """Every table in brief (columns, keys, row counts, sample values), or ``table`` in detail with its
    indexes. Raises NotFound for a table that is not there."""
    engine = database.describing_engine()
    try:
        with database_errors(engine), engine.connect() as connection, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's note that it skips expression indexes (lower(city))
            inspector = inspect(connection)
            names = sorted(inspector.get_table_names())
            if table is not None:
                chosen = [name for name in names if name.lower() == table.strip().lower()]
                if not chosen:
                    raise NotFound(f"table: no table named {table!r}; the tables are {', '.join(names)}")
                names = chosen
            estimates = _estimated_rows(connection, names)
            tables = [_table(connection, inspector, name, estimates.get(name), detail=table is not None)
                      for name in names]  # fmt: skip
    finally:
        if engine is not database.engine:
            engine.dispose()
    answer: dict[str, Any] = {"dialect": database.dialect, "tables": tables, "truncated": False}
    _fit(answer)
    return answer


def _fit(answer: dict[str, Any]) -> None:
    """Keep the answer within MAX_ANSWER_BYTES: the last tables lose their columns first (named, not dropped)."""
    tables = answer["tables"]
    index = len(tables)
    while len(compact_json(answer).encode()) > MAX_ANSWER_BYTES and index > 0:
        index -= 1
        tables[index] = {"name": tables[index]["name"], "rows": tables[index]["rows"]}
        answer["truncated"] = True
    if answer["truncated"]:
        answer["note"] = "some tables are listed by name only: call again with table=<name> for its columns"


def _table(connection: Connection, inspector: Any, name: str, estimate: int | None, detail: bool) -> dict[str, Any]:
    columns = inspector.get_columns(name)
    primary = inspector.get_pk_constraint(name).get("constrained_columns") or []
    foreign = inspector.get_foreign_keys(name)
    unique = [item["column_names"] for item in inspector.get_unique_constraints(name)]
    indexes = inspector.get_indexes(name)
    unique += [
        index["column_names"] for index in indexes if index.get("unique") and index["column_names"] not in unique
    ]
    one_of_a_kind = {tuple(columns_) for columns_ in unique} | {tuple(primary)}
    references = {
        column: f"{key['referred_table']}.{referred}"
        for key in foreign
        for column, referred in zip(key["constrained_columns"], key["referred_columns"], strict=False)
    }
    rows, estimated = _row_count(connection, name, estimate)
    described = []
    for column in columns:
        entry: dict[str, Any] = {"name": column["name"], "type": str(column["type"]).lower()}
        if column["name"] in primary:
            entry["primary_key"] = True
        if column["name"] in references:
            entry["references"] = references[column["name"]]
        if detail:
            entry["nullable"] = bool(column.get("nullable", True))
        if rows and isinstance(column["type"], String | Enum) and (column["name"],) not in one_of_a_kind:
            values = _values(connection, name, column["name"])
            if values:
                entry["values"] = values
        described.append(entry)
    described_table: dict[str, Any] = {"name": name, "rows": rows}
    if estimated:
        described_table["rows_estimated"] = True
    described_table["columns"] = described
    if unique:
        described_table["unique"] = unique
    if detail:
        described_table["indexes"] = [
            {"name": index["name"], "columns": [c for c in index["column_names"] if c], "unique": bool(index["unique"])}
            for index in indexes
        ]
    return described_table


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _estimated_rows(connection: Connection, names: list[str]) -> dict[str, int]:
    """The database's own estimate of each table's rows, where it keeps one cheaply."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        found = connection.execute(text(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        ))  # fmt: skip
    elif dialect == "mysql":
        found = connection.execute(text(
            "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        ))  # fmt: skip
    else:  # SQLite: the largest rowid (exact until rows are deleted), read from the end of the b-tree
        estimates = {}
        for name in names:
            try:
                estimates[name] = connection.execute(
                    text(f"SELECT max(rowid) FROM {_quote(connection, name)}")
                ).scalar()
            except Exception:  # a WITHOUT ROWID table: counted
                continue
        return {name: int(value or 0) for name, value in estimates.items()}
    return {name: int(value) for name, value in found if value is not None and value >= 0}


def _row_count(connection: Connection, name: str, estimate: int | None) -> tuple[int, bool]:
    if estimate is not None and estimate >= EXACT_BELOW:
        return estimate, True
    return int(connection.execute(text(f"SELECT count(*) FROM {_quote(connection, name)}")).scalar() or 0), False


def _values(connection: Connection, table: str, column: str) -> list[Any] | None:
    """The distinct values of a column in its first SAMPLED_ROWS rows, when there are at most MAX_VALUES."""
    quoted = _quote(connection, column)
    found = connection.execute(text(
        f"SELECT DISTINCT {quoted} FROM (SELECT {quoted} FROM {_quote(connection, table)} LIMIT {SAMPLED_ROWS}) "
        f"sampled WHERE {quoted} IS NOT NULL LIMIT {MAX_VALUES + 1}"
    )).scalars().all()  # fmt: skip
    if len(found) > MAX_VALUES:
        return None
    return sorted(json_cell(value)[0] for value in found)

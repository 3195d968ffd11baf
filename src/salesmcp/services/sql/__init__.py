"""The read-only SQL tool: questions the metric catalogue does not foresee, asked in the database's own SQL.

``run_sql`` lets a statement through the parser's guard (``guard.py``), runs it read-only within SQL_TIMEOUT
(``store/read_only.py``) and shapes a small answer: rows as arrays, values as JSON, long values cut, at most
32 KB, ``truncated`` exactly when more rows existed than were returned. ``describe_schema`` says what there is to
ask. docs/sql.md explains the three guards.
"""

from salesmcp.services.sql.answer import MAX_ANSWER_BYTES, MAX_CELL, run_sql
from salesmcp.services.sql.guard import RefusedSql, check_query
from salesmcp.services.sql.schema import describe_schema

__all__ = ["MAX_ANSWER_BYTES", "MAX_CELL", "RefusedSql", "check_query", "describe_schema", "run_sql"]

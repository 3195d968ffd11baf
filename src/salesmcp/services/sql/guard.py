"""The SQL tool's first guard: a real parser (sqlglot, in the database's dialect) lets through exactly one
query and nothing in it that writes, locks, sleeps, reads files or reaches the network.

Comments and string literals are read by the parser, never matched as text: ``SELECT 'a; DROP TABLE x'`` is a
query that returns a string. The second guard is the database's own read-only transaction and timeout
(``store/read_only.py``), the third a login that can only read (``READ_DATABASE_URL``); each holds alone for the
cases it covers (docs/sql.md).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token

from salesmcp.errors import InvalidInput

# sqlglot logs "falling back to parsing as a Command" for statements it does not model; we refuse those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

MAX_SQL_LENGTH = 100_000
# sqlglot's dialect for each SQLAlchemy dialect name we serve (MariaDB speaks sqlglot's mysql).
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}
QUERY_KINDS = "SELECT, WITH … SELECT, UNION/INTERSECT/EXCEPT or VALUES"


class RefusedSql(InvalidInput):
    """The guard refused a statement: 400, ``field`` sql, the rule that refused it in the message."""

    code = "refused_sql"

    def __init__(self, rule: str) -> None:
        super().__init__("sql", rule)


def _node_kinds() -> dict[type[exp.Expr], str]:
    """Expressions that never belong in a read: what each is called in a refusal."""
    named = {
        "Insert": "INSERT", "Update": "UPDATE", "Delete": "DELETE", "Merge": "MERGE", "Create": "CREATE",
        "Drop": "DROP", "Alter": "ALTER", "TruncateTable": "TRUNCATE", "Set": "SET", "Transaction": "BEGIN",
        "Commit": "COMMIT", "Rollback": "ROLLBACK", "Pragma": "PRAGMA", "Copy": "COPY", "Use": "USE",
        "LoadData": "LOAD DATA", "Attach": "ATTACH", "Detach": "DETACH", "Grant": "GRANT", "Revoke": "REVOKE",
        "Kill": "KILL", "Analyze": "ANALYZE", "Cache": "CACHE", "Uncache": "UNCACHE", "Refresh": "REFRESH",
        "Into": "SELECT … INTO (it writes a table, a file or variables)",
        "Lock": "FOR UPDATE/FOR SHARE (it locks rows)",
        "PropertyEQ": "a variable assignment (:=)",
        "NextValueFor": "NEXT VALUE FOR (it advances a sequence)",
        "Hint": "an optimizer hint (/*+ … */: it could lift the statement's time limit)",
        "Command": "a statement the parser does not know",
    }  # fmt: skip
    return {getattr(exp, name): kind for name, kind in named.items() if hasattr(exp, name)}


DENIED_NODES = _node_kinds()

# Functions with side effects, file or network access, locks, sleeps or other sessions in their reach,
# by dialect: a name (lower case) or, ending in '*', a prefix.
DENIED_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "postgres": (
        "pg_sleep*", "pg_read_*", "pg_ls_*", "pg_stat_file", "lo_*", "loread", "lowrite", "dblink*",
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "set_config",
        "nextval", "setval", "pg_advisory*", "pg_try_advisory*", "pg_notify", "query_to_xml*", "cursor_to_xml*",
        "pg_file_*", "pg_logdir_ls", "pg_create_*", "pg_drop_*", "pg_replication_*", "pg_logical_*",
        "pg_switch_wal", "pg_promote", "pg_backup_*", "pg_start_backup", "pg_stop_backup", "pg_wal_replay_*",
        "pg_stat_reset*", "pg_stat_statements_reset", "pg_import_system_collations", "pg_log_backend_*",
        "txid_current", "pg_current_xact_id", "pg_export_snapshot",
        "ts_stat", "ts_rewrite",  # both run SQL given as a string, where no guard looks
    ),
    "mysql": (
        "load_file", "sleep", "benchmark", "get_lock", "release_lock", "release_all_locks", "is_free_lock",
        "is_used_lock", "master_pos_wait", "source_pos_wait", "master_gtid_wait", "wait_for_executed_gtid_set",
        "wait_until_sql_thread_after_gtids", "nextval", "setval", "sys_exec", "sys_eval", "sys_get", "sys_set",
        "last_insert_id",
    ),
    "sqlite": (
        "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "fsdir", "lsdir", "zipfile",
        "sqlite_dbpage", "sqlar_compress", "sqlar_uncompress",
    ),
}  # fmt: skip
# Tables that hold secrets or the server's own configuration files, by dialect (schema-qualified or not).
DENIED_TABLES: dict[str, tuple[str, ...]] = {
    "postgres": ("pg_authid", "pg_shadow", "pg_hba_file_rules", "pg_file_settings", "pg_ident_file_mappings",
                 "pg_user_mappings", "pg_config"),
    "mysql": ("mysql.*",),  # the accounts and their password hashes, the server's own tables
    "sqlite": (),
}  # fmt: skip
# Built-ins that make a value as long as an argument asks, and where that argument is (0-based; -1: the last).
# The count must be a constant, and what it builds at most MAX_BUILT_VALUE characters: a value that size costs
# the server memory, and a search over it time, before any timeout (MariaDB and SQLite check their limits
# between rows, not inside one function call).
SIZE_ARGUMENTS = {"repeat": 1, "replicate": 1, "lpad": 1, "rpad": 1, "space": 0, "randomblob": 0, "zeroblob": 0}
MAX_BUILT_VALUE = 100_000
_WIDTH = re.compile(r"%[-+ 0#,!']*(\*|\d+)?(?:\.(\*|\d+))?")


@dataclass(frozen=True)
class CheckedQuery:
    """A statement the guard let through: the text as given (what runs) and the dialect it was read in."""

    sql: str
    dialect: str


def _denied(name: str, dialect: str) -> bool:
    return any(name.startswith(rule[:-1]) if rule.endswith("*") else name == rule for rule in DENIED_FUNCTIONS[dialect])


def _function_names(node: exp.Func) -> set[str]:
    """Every name a function call goes by: as written (an unknown function) and sqlglot's own."""
    names = {node.sql_name().lower(), type(node).__name__.lower()}
    if isinstance(node, exp.Anonymous):
        names.add(node.name.lower())
    return names


def _statement_kind(statement: exp.Expr) -> str:
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    if type(statement) in DENIED_NODES:
        kind = DENIED_NODES[type(statement)]
        created = statement.args.get("kind")
        return f"{kind} {created}".upper() if isinstance(created, str) and kind in ("CREATE", "DROP") else kind
    return type(statement).__name__.upper()


def _is_query(statement: exp.Expr) -> bool:
    if isinstance(statement, exp.Subquery):
        return _is_query(statement.this)
    return isinstance(statement, (exp.Select, exp.SetOperation, exp.Values))


def _check_comments(tokens: list[Token], dialect: str) -> None:
    if dialect != "mysql":
        return
    for token in tokens:
        for comment in token.comments:
            if comment.startswith(("!", "M!")):
                raise RefusedSql("MySQL executable comments (/*! … */) are refused: MySQL runs what they hold as SQL")


def _constant(node: exp.Expr | None) -> float | None:
    """The value of a constant count (a number, or arithmetic on numbers); None when it is not constant."""
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    if isinstance(node, exp.Paren | exp.Cast):
        return _constant(node.this)
    if isinstance(node, exp.Neg):
        return 0.0
    if isinstance(node, exp.Binary) and isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
        left, right = _constant(node.this), _constant(node.expression)
        if left is None or right is None:
            return None
        if isinstance(node, exp.Mul):
            return left * right
        return left + right if isinstance(node, exp.Add) else left
    return None


def _size_parts(node: exp.Func, names: set[str]) -> tuple[str, exp.Expr | None, exp.Expr | None] | None:
    """(name, the count, the text it repeats or pads) of a value-building call; None for any other call."""
    if isinstance(node, exp.Repeat):
        return "repeat", node.args.get("times"), node.this
    if isinstance(node, exp.Pad):
        return ("lpad" if node.args.get("is_left") else "rpad"), node.args.get("expression"), node.this
    if isinstance(node, exp.Space):
        return "space", node.this, None
    if isinstance(node, exp.Anonymous) and node.name.lower() in SIZE_ARGUMENTS:
        name, arguments = node.name.lower(), node.expressions
        place = SIZE_ARGUMENTS[name]
        count = arguments[place] if len(arguments) > place else None
        return name, count, arguments[0] if place == 1 and arguments else None
    return None


def _built_size(node: exp.Expr | None) -> float:
    """How long a value a call builds, at most: its count times the length of what it repeats (itself built)."""
    if not isinstance(node, exp.Func):
        return float(len(node.this)) if isinstance(node, exp.Literal) and node.is_string else 1.0
    parts = _size_parts(node, _function_names(node))
    if parts is None:
        return 1.0
    name, count, text = parts
    bound = _constant(count)
    if bound is None:
        raise RefusedSql(f"{name}(): its length must be a constant number (at most {MAX_BUILT_VALUE:,})")
    return bound * (_built_size(text) if name in ("repeat", "replicate") else 1.0)


def _check_size(node: exp.Func, names: set[str]) -> None:
    if _size_parts(node, names) is not None:
        size = _built_size(node)
        if size > MAX_BUILT_VALUE:
            name = _size_parts(node, names)[0]  # type: ignore[index]
            raise RefusedSql(f"{name}() would build a value of {size:,.0f} characters (at most {MAX_BUILT_VALUE:,})")
    elif names & {"printf", "format"}:
        # The format string: printf's first argument (an unknown function to sqlglot), format's own ``this``.
        template = (node.expressions or [None])[0] if isinstance(node, exp.Anonymous) else node.this
        if isinstance(template, exp.Literal) and template.is_string:
            for width, precision in _WIDTH.findall(template.this):
                for part in (width, precision):
                    if part == "*" or (part and int(part) > MAX_BUILT_VALUE):
                        raise RefusedSql(
                            f"{sorted(names & {'printf', 'format'})[0]}(): a width must be a number of at most "
                            f"{MAX_BUILT_VALUE:,} written in the format"
                        )


def _check_table(table: exp.Table, dialect: str) -> None:
    name, schema = table.name.lower(), table.db.lower()
    for rule in DENIED_TABLES[dialect]:
        denied = schema == rule[:-2] if rule.endswith(".*") else name == rule
        if denied:
            shown = f"{schema}.{name}" if schema else name
            raise RefusedSql(f"{shown} is refused: it holds credentials or the server's own configuration")


def check_query(sql: str, database: str) -> CheckedQuery:
    """Let ``sql`` through when it is exactly one read-only query in the dialect of ``database`` (a SQLAlchemy
    dialect name); otherwise raise :class:`RefusedSql` naming what was found."""
    dialect = DIALECTS.get(database)
    if dialect is None:
        raise RefusedSql(f"the SQL tool does not serve {database} databases")
    if not sql.strip():
        raise RefusedSql("is empty: write one SELECT query")
    if len(sql) > MAX_SQL_LENGTH:
        raise RefusedSql(f"is {len(sql):,} characters long (at most {MAX_SQL_LENGTH:,})")
    if "\x00" in sql:
        raise RefusedSql("contains a NUL character")
    try:
        reader = Dialect.get_or_raise(dialect)
        tokens = reader.tokenize(sql)  # once: the comments are checked and the statements parsed from these
        _check_comments(tokens, dialect)
        statements = [statement for statement in reader.parser().parse(tokens, sql) if statement is not None]
    except RefusedSql:
        raise
    except Exception as exc:  # ParseError, TokenError, or the parser's own failure (too deep a nesting): refused
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise RefusedSql(f"could not be read as one {database} query ({reason})") from None
    if not statements:
        raise RefusedSql("holds no statement: write one SELECT query")
    if len(statements) > 1:
        kinds = ", ".join(_statement_kind(statement) for statement in statements[:5])
        raise RefusedSql(f"holds {len(statements)} statements ({kinds}); one query at a time")
    statement = statements[0]
    if not _is_query(statement):
        raise RefusedSql(f"only a query may run ({QUERY_KINDS}); this is {_statement_kind(statement)}")
    for node in statement.walk():
        kind = DENIED_NODES.get(type(node))
        if kind is not None:
            raise RefusedSql(f"a read-only query may not hold {kind}")
        if isinstance(node, exp.Table):
            _check_table(node, dialect)
        if isinstance(node, exp.Func):
            names = _function_names(node)
            denied = sorted(name for name in names if _denied(name, dialect))
            if denied:
                raise RefusedSql(
                    f"{denied[0]}() is refused: it has side effects, reaches files, the network, locks or other "
                    "sessions, or waits"
                )
            _check_size(node, names)
    return CheckedQuery(sql, dialect)

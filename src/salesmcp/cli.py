"""``salesmcp`` command line: thin wrappers that build settings, then call a server or a service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from salesmcp import __version__
from salesmcp.config import Settings
from salesmcp.errors import SalesmcpError
from salesmcp.logs import UP_CHILD_ENV, configure_logging
from salesmcp.memory import tune_allocator

ROOT_SCRIPT_HINT = "mcp_server.py"


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment and .env, with command-line flags (those given) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper()
        raise click.UsageError(f"{field}: {first['msg']}") from None


def _logging(settings: Settings) -> None:
    """Every command starts here: logs on stderr as LOG_FORMAT and LOG_LEVEL say (see salesmcp.logs), and
    the memory allocator set for long-running servers."""
    tune_allocator()
    configure_logging(settings)


class _Group(click.Group):
    """Turns our errors into a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SalesmcpError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="salesmcp")
def main() -> None:
    """salesmcp: ask an AI assistant about customers and sales (REST, MCP and CLI)."""


host_option = click.option("--host", help="Interface to bind (env HOST, default 127.0.0.1).")
database_option = click.option(
    "--database-url",
    help="Serve from this database (SQLAlchemy URL, e.g. sqlite:///data/customers.db) instead of the CSV file.",
)
main_database_option = click.option(
    "--database-url", help="SQLAlchemy URL (env DATABASE_URL; default: SQLite file DB_PATH)."
)


def _database_store(database_url: str | None, settings: Settings) -> Any:
    """The SQL store for --database-url, or None to keep the CSV file."""
    if not database_url:
        return None
    from salesmcp.store.sql_store import open_store

    return open_store(settings.model_copy(update={"database_url": database_url}))


@main.command("serve-customers")
@host_option
@click.option("--port", type=int, help="Port (env CUSTOMER_API_PORT, default 5001).")
@click.option("--customers-csv", type=click.Path(path_type=Path), help="customers.csv (env CUSTOMERS_CSV).")
@database_option
def serve_customers(host: str | None, port: int | None, customers_csv: Path | None, database_url: str | None) -> None:
    """Run seed 000's customer API (GET /customer/<custid>, GET /customers/city/<city>)."""
    from salesmcp.api import create_customer_app
    from salesmcp.servers import serve_wsgi

    settings = _settings(host=host, customer_api_port=port, customers_csv=customers_csv)
    _logging(settings)
    settings.check_exposure(token_supported=False)
    app = create_customer_app(settings, _database_store(database_url, settings))
    serve_wsgi(app, settings.host, settings.customer_api_port, settings.web_threads)


@main.command("serve-sales")
@host_option
@click.option("--port", type=int, help="Port (env SALES_API_PORT, default 5002).")
@click.option("--sales-csv", type=click.Path(path_type=Path), help="sales.csv (env SALES_CSV).")
@database_option
def serve_sales(host: str | None, port: int | None, sales_csv: Path | None, database_url: str | None) -> None:
    """Run seed 000's sales API (GET /sales?start_date=yyyymmdd&end_date=yyyymmdd)."""
    from salesmcp.api import create_sales_app
    from salesmcp.servers import serve_wsgi

    settings = _settings(host=host, sales_api_port=port, sales_csv=sales_csv)
    _logging(settings)
    settings.check_exposure(token_supported=False)
    app = create_sales_app(settings, _database_store(database_url, settings))
    serve_wsgi(app, settings.host, settings.sales_api_port, settings.web_threads)


@main.command("up")
@host_option
@click.option("--customer-port", type=int, help="Customer API port (default 5001).")
@click.option("--sales-port", type=int, help="Sales API port (default 5002).")
@click.option("--port", type=int, help="Main server port (env PORT, else API_PORT, default 8080).")
def up(host: str | None, customer_port: int | None, sales_port: int | None, port: int | None) -> None:
    """Start the whole system: customer API, sales API and the main server; Ctrl-C stops all."""
    from salesmcp.servers import is_listening, run_together

    settings = _settings(host=host, customer_api_port=customer_port, sales_api_port=sales_port, port=port)
    _logging(settings)
    settings.check_exposure(token_supported=False)
    probe = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    shared = ["--host", settings.host]
    commands = [
        (
            "customer API",
            ["serve-customers", *shared, "--port", str(settings.customer_api_port)],
            f"http://{probe}:{settings.customer_api_port}/health",
        ),
        (
            "sales API",
            ["serve-sales", *shared, "--port", str(settings.sales_api_port)],
            f"http://{probe}:{settings.sales_api_port}/health",
        ),
        (
            "main server",
            ["serve", *shared, "--port", str(settings.server_port)],
            f"http://{probe}:{settings.server_port}/health",
        ),
    ]
    for (name, args, _), flag in zip(commands, ("--customer-port", "--sales-port", "--port"), strict=True):
        if is_listening(probe, int(args[-1])):
            raise click.ClickException(
                f"port {args[-1]} ({name}) is already in use; is salesmcp already running? "
                f"Stop it, or choose another port with {flag}."
            )
    click.echo("Starting salesmcp (customer API, sales API, main server)...", err=True)
    code = run_together(
        commands,
        on_ready=lambda: click.echo(_connect_help(settings, probe), err=True),
        env={UP_CHILD_ENV: "1"},
    )
    sys.exit(code)


SEED_001_INITIALIZE = (
    '{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", '
    '"capabilities": {}, "clientInfo": {"name": "test-client", "version": "1.0.0"}}}'
)


def _connect_help(settings: Settings, probe: str) -> str:
    """The banner of `salesmcp up`: what runs where, how to connect each kind of client, how to stop."""
    from sqlalchemy.engine import make_url

    customers = f"http://{probe}:{settings.customer_api_port}"
    sales = f"http://{probe}:{settings.sales_api_port}"
    main_url = f"http://{probe}:{settings.server_port}"
    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    # Claude Desktop runs mcp_server.py elsewhere, with the default API URLs: name the APIs when they differ.
    api_env = {
        variable: url
        for variable, url in (("CUSTOMER_API_URL", customers), ("SALES_API_URL", sales))
        if url != Settings.model_fields[variable.lower()].default
    }
    claude = "salesmcp claude-config --write" + "".join(f" --env {k}={v}" for k, v in api_env.items())
    if not (Path.cwd() / ROOT_SCRIPT_HINT).is_file():
        claude += "   (in the salesmcp folder, where mcp_server.py is)"
    if sys.platform == "win32":  # cmd.exe: double quotes only; curl.exe, as PowerShell's curl is another tool
        curl, body = "curl.exe", '"' + SEED_001_INITIALIZE.replace('"', '\\"') + '"'
    else:
        curl, body = "curl", f"'{SEED_001_INITIALIZE}'"
    return "\n".join(
        [
            "",
            f"salesmcp {__version__} is running:",
            f"  customer API   {customers}   GET /customer/011, GET /customers/city/Eindhoven",
            f"  sales API      {sales}   GET /sales?start_date=20260101&end_date=20260131",
            f"  main server    {main_url}   REST, and MCP over Streamable HTTP at {main_url}/mcp",
            f"  database       {database}",
            "",
            "Connect a client:",
            f"  Claude Desktop   {claude}",
            "                   or salesmcp claude-config --database --write   (every tool, on the database)",
            "                   then quit Claude Desktop (tray icon > Quit), start it again and ask",
            '                   "What was the revenue of Eindhoven in January 2026?"',
            f"  MCP Inspector    npx @modelcontextprotocol/inspector --cli {main_url}/mcp --method tools/list",
            f"                   (without --cli: the web UI; transport Streamable HTTP, URL {main_url}/mcp)",
            f'  curl             {curl} "{sales}/sales?start_date=20260101&end_date=20260131"',
            f'                   {curl} -X POST {main_url}/mcp -H "Content-Type: application/json" -d {body}',
            "  How it works     docs/how-it-works.md",
            "",
            "One line per request below (LOG_LEVEL=DEBUG shows everything). Press Ctrl-C to stop.",
        ]
    )


@main.command("mcp-seed")
@click.option("--customer-api-url", help="Customer API base URL (env CUSTOMER_API_URL).")
@click.option("--sales-api-url", help="Sales API base URL (env SALES_API_URL).")
def mcp_seed(customer_api_url: str | None, sales_api_url: str | None) -> None:
    """Run seed 000's stdio MCP server: the two revenue tools, data from the two APIs over HTTP."""
    from salesmcp.mcp import build_server
    from salesmcp.store.api_source import ApiSource

    settings = _settings(customer_api_url=customer_api_url, sales_api_url=sales_api_url)
    _logging(settings)
    source = ApiSource(settings.customer_api_url, settings.sales_api_url, settings.api_timeout)
    try:
        build_server(source, name="sales-analysis", log_level=settings.log_level).run()
    finally:
        source.close()


def _env_pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE")
        pairs[key.strip()] = setting
    return pairs


@main.command("claude-config")
@click.option(
    "--name",
    help="Server name in Claude Desktop (default sales-analysis; salesmcp with --database, "
    "salesmcp-docker with --docker).",
)
@click.option(
    "--script",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The stdio server script (default: mcp_server.py in the current folder).",
)
@click.option(
    "--database",
    is_flag=True,
    help="Run `salesmcp mcp` (all tools, on the database of DATABASE_URL/DB_PATH) instead of mcp_server.py.",
)
@click.option(
    "--docker",
    is_flag=True,
    help="Run `salesmcp mcp` in the running compose service `api` (docker-compose.yml in the current folder).",
)
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_env_pairs,
    help="Put this variable in the entry's env (repeatable), e.g. --env CUSTOMER_API_URL=http://127.0.0.1:6001.",
)
@click.option("--write", is_flag=True, help="Merge the entry into Claude Desktop's config (a backup is kept).")
@click.option("--config-path", type=click.Path(path_type=Path, dir_okay=False), help="Config file to write.")
def claude_config(
    name: str | None,
    script: Path | None,
    database: bool,
    docker: bool,
    env: dict[str, str],
    write: bool,
    config_path: Path | None,
) -> None:
    """Print the Claude Desktop entry for this machine (absolute paths); --write merges it in."""
    from salesmcp import desktop

    if database and docker:
        raise click.UsageError("--database and --docker: choose one")
    settings = _settings()
    # Claude Desktop starts servers in a folder of its own, where this folder's .env is not read:
    # the entry carries what the server needs (an absolute database URL, API URLs set here).
    if database:
        entry = desktop.module_entry(["mcp"], env={"DATABASE_URL": settings.resolved_database_url, **env})
        name = name or "salesmcp"
    elif docker:
        compose_file = Path.cwd() / desktop.COMPOSE_FILE
        if not compose_file.is_file():
            raise click.UsageError(f"--docker: {compose_file} does not exist; run this in the salesmcp folder")
        entry = desktop.docker_entry(compose_file, env=env)
        name = name or "salesmcp-docker"
    else:
        script = script or Path.cwd() / ROOT_SCRIPT_HINT
        if not script.is_file():
            raise click.UsageError(f"--script: {script} does not exist; run this in the salesmcp folder")
        entry = desktop.server_entry(script, env={**desktop.api_urls(settings), **env})
        name = name or "sales-analysis"
    click.echo(json.dumps({"mcpServers": {name: entry}}, indent=2))
    if write:
        target = config_path or desktop.config_path()
        backup = desktop.merge_entry(target, name, entry)
        click.echo(f"wrote {target}" + (f" (backup: {backup})" if backup else ""), err=True)
        click.echo("Restart Claude Desktop (quit it from the tray/menu bar) to load the server.", err=True)
        click.echo("If it does not show up: salesmcp doctor", err=True)


@main.command("doctor")
@click.option("--config-path", type=click.Path(path_type=Path, dir_okay=False), help="Config file to check.")
@click.option(
    "--logs-dir", type=click.Path(path_type=Path, file_okay=False), help="Claude Desktop's logs folder to read."
)
@click.option("--timeout", type=click.FloatRange(min=1), default=20.0, show_default=True, help="Seconds per server.")
def doctor(config_path: Path | None, logs_dir: Path | None, timeout: float) -> None:
    """Check Claude Desktop's config and start each salesmcp server in it as the app does; name each fix."""
    from salesmcp import desktop
    from salesmcp.doctor import examine

    report = examine(config_path or desktop.config_path(), logs_dir or desktop.logs_dir(), timeout)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)


@main.command("serve")
@host_option
@click.option("--port", type=int, help="Port (env PORT, else API_PORT, default 8080).")
@main_database_option
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the main server: REST and MCP over Streamable HTTP (POST /mcp), on the database (WEB_CONCURRENCY
    worker processes)."""
    from salesmcp.web import serve as serve_main

    settings = _settings(host=host, port=port, database_url=database_url)
    _logging(settings)
    settings.check_exposure(token_supported=True)
    serve_main(settings)


def _open_database(database_url: str | None) -> tuple[Settings, Any]:
    """Settings (with --database-url on top), logging, and the migrated database's store."""
    from salesmcp.store.sql_store import open_store

    settings = _settings(database_url=database_url)
    _logging(settings)
    return settings, open_store(settings)


@main.command("mcp")
@main_database_option
def mcp_stdio(database_url: str | None) -> None:
    """Run the stdio MCP server with every tool, on the database in process (for Claude Desktop)."""
    from salesmcp.mcp import build_server

    settings, store = _open_database(database_url)
    build_server(store, name="salesmcp", log_level=settings.log_level, customers=store, settings=settings).run()


@main.command("migrate")
@main_database_option
def migrate(database_url: str | None) -> None:
    """Create or upgrade the database schema, and fill a new database with the demo data."""
    _, store = _open_database(database_url)
    click.echo(f"database ready: {store.engine.url.render_as_string(hide_password=True)}")


# The data commands (generate, reset, summary, export) live in their own module; importing it registers them.
from salesmcp import cli_data  # noqa: E402, F401

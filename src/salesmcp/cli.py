"""``salesmcp`` command line: thin wrappers that build settings, then call a server or a service."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from salesmcp import __version__
from salesmcp.config import Settings
from salesmcp.errors import SalesmcpError
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
    """Every command starts here: logs to stderr (stdout belongs to the MCP protocol in the stdio
    servers) and the memory allocator set for long-running servers."""
    tune_allocator()
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


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
    from salesmcp.web import open_store

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
    from salesmcp.servers import run_together

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
    click.echo("Starting salesmcp:", err=True)
    code = run_together(commands, on_ready=lambda: click.echo(_connect_help(settings, probe), err=True))
    sys.exit(code)


def _connect_help(settings: Settings, probe: str) -> str:
    script = Path.cwd() / ROOT_SCRIPT_HINT
    return (
        f"\nMCP over HTTP: http://{probe}:{settings.server_port}/mcp (all eight tools, on the database)\n"
        "Claude Desktop:\n"
        "  salesmcp claude-config --write              seed 000: mcp_server.py over the two APIs\n"
        "  salesmcp claude-config --database --write   all tools on the database, no server needed\n"
        f"MCP Inspector:  npx @modelcontextprotocol/inspector {sys.executable} {script}\n"
        "Press Ctrl-C to stop."
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


@main.command("claude-config")
@click.option("--name", help="Server name in Claude Desktop (default sales-analysis, or salesmcp with --database).")
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
@click.option("--write", is_flag=True, help="Merge the entry into Claude Desktop's config (a backup is kept).")
@click.option("--config-path", type=click.Path(path_type=Path, dir_okay=False), help="Config file to write.")
def claude_config(name: str | None, script: Path | None, database: bool, write: bool, config_path: Path | None) -> None:
    """Print the Claude Desktop entry for this machine (absolute paths); --write merges it in."""
    from salesmcp import desktop

    if database:
        # Claude Desktop starts servers in a folder of its own: hand over an absolute database URL.
        entry = desktop.module_entry(["mcp"], env={"DATABASE_URL": _settings().resolved_database_url})
        name = name or "salesmcp"
    else:
        script = script or Path.cwd() / ROOT_SCRIPT_HINT
        if not script.is_file():
            raise click.UsageError(f"--script: {script} does not exist; run this in the salesmcp folder")
        entry = desktop.server_entry(script)
        name = name or "sales-analysis"
    click.echo(json.dumps({"mcpServers": {name: entry}}, indent=2))
    if write:
        target = config_path or desktop.config_path()
        backup = desktop.merge_entry(target, name, entry)
        click.echo(f"wrote {target}" + (f" (backup: {backup})" if backup else ""), err=True)
        click.echo("Restart Claude Desktop (quit it from the tray/menu bar) to load the server.", err=True)


@main.command("serve")
@host_option
@click.option("--port", type=int, help="Port (env PORT, else API_PORT, default 8080).")
@main_database_option
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the main server: REST and MCP over Streamable HTTP (POST /mcp), on the database."""
    from salesmcp.web import serve as serve_main

    settings = _settings(host=host, port=port, database_url=database_url)
    _logging(settings)
    settings.check_exposure(token_supported=True)
    serve_main(settings)


def _open_database(database_url: str | None) -> tuple[Settings, Any]:
    """Settings (with --database-url on top), logging, and the migrated database's store."""
    from salesmcp.web import open_store

    settings = _settings(database_url=database_url)
    _logging(settings)
    return settings, open_store(settings)


@main.command("mcp")
@main_database_option
def mcp_stdio(database_url: str | None) -> None:
    """Run the stdio MCP server with every tool, on the database in process (for Claude Desktop)."""
    from salesmcp.mcp import build_server

    settings, store = _open_database(database_url)
    build_server(store, name="salesmcp", log_level=settings.log_level, customers=store).run()


@main.command("migrate")
@main_database_option
def migrate(database_url: str | None) -> None:
    """Create or upgrade the database schema, and fill a new database with the demo data."""
    _, store = _open_database(database_url)
    click.echo(f"database ready: {store.engine.url.render_as_string(hide_password=True)}")

"""``salesmcp`` commands that run servers: seed 000's two APIs and stdio MCP server, the main server, the
stdio MCP server on the database, all of them together (``up``), and the schema migration."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from salesmcp import __version__
from salesmcp.cli._common import (
    ROOT_SCRIPT_HINT,
    database_option,
    database_store,
    host_option,
    main_database_option,
    open_database,
    settings_from,
    start_logging,
)
from salesmcp.config import Settings
from salesmcp.logs import UP_CHILD_ENV


@click.command("serve-customers")
@host_option
@click.option("--port", type=int, help="Port (env CUSTOMER_API_PORT, default 5001).")
@click.option("--customers-csv", type=click.Path(path_type=Path), help="customers.csv (env CUSTOMERS_CSV).")
@database_option
def serve_customers(host: str | None, port: int | None, customers_csv: Path | None, database_url: str | None) -> None:
    """Run seed 000's customer API (GET /customer/<custid>, GET /customers/city/<city>)."""
    from salesmcp.api.seed000 import create_customer_app
    from salesmcp.web.wsgi import serve_wsgi

    settings = settings_from(host=host, customer_api_port=port, customers_csv=customers_csv)
    start_logging(settings)
    settings.check_exposure(token_supported=False)
    app = create_customer_app(settings, database_store(database_url, settings))
    serve_wsgi(app, settings.host, settings.customer_api_port, settings.web_threads)


@click.command("serve-sales")
@host_option
@click.option("--port", type=int, help="Port (env SALES_API_PORT, default 5002).")
@click.option("--sales-csv", type=click.Path(path_type=Path), help="sales.csv (env SALES_CSV).")
@database_option
def serve_sales(host: str | None, port: int | None, sales_csv: Path | None, database_url: str | None) -> None:
    """Run seed 000's sales API (GET /sales?start_date=yyyymmdd&end_date=yyyymmdd)."""
    from salesmcp.api.seed000 import create_sales_app
    from salesmcp.web.wsgi import serve_wsgi

    settings = settings_from(host=host, sales_api_port=port, sales_csv=sales_csv)
    start_logging(settings)
    settings.check_exposure(token_supported=False)
    app = create_sales_app(settings, database_store(database_url, settings))
    serve_wsgi(app, settings.host, settings.sales_api_port, settings.web_threads)


@click.command("up")
@host_option
@click.option("--customer-port", type=int, help="Customer API port (default 5001).")
@click.option("--sales-port", type=int, help="Sales API port (default 5002).")
@click.option("--port", type=int, help="Main server port (env PORT, else API_PORT, default 8080).")
def up(host: str | None, customer_port: int | None, sales_port: int | None, port: int | None) -> None:
    """Start the whole system: customer API, sales API and the main server; Ctrl-C stops all."""
    from salesmcp.cli.processes import is_listening, run_together

    settings = settings_from(host=host, customer_api_port=customer_port, sales_api_port=sales_port, port=port)
    start_logging(settings)
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


@click.command("mcp-seed")
@click.option("--customer-api-url", help="Customer API base URL (env CUSTOMER_API_URL).")
@click.option("--sales-api-url", help="Sales API base URL (env SALES_API_URL).")
def mcp_seed(customer_api_url: str | None, sales_api_url: str | None) -> None:
    """Run seed 000's stdio MCP server: the two revenue tools, data from the two APIs over HTTP."""
    from salesmcp.mcp import build_server
    from salesmcp.store.api_source import ApiSource

    settings = settings_from(customer_api_url=customer_api_url, sales_api_url=sales_api_url)
    start_logging(settings)
    source = ApiSource(settings.customer_api_url, settings.sales_api_url, settings.api_timeout)
    try:
        build_server(source, name="sales-analysis", log_level=settings.log_level).run()
    finally:
        source.close()


@click.command("serve")
@host_option
@click.option("--port", type=int, help="Port (env PORT, else API_PORT, default 8080).")
@main_database_option
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the main server: REST and MCP over Streamable HTTP (POST /mcp), on the database (WEB_CONCURRENCY
    worker processes)."""
    from salesmcp.web.app import serve as serve_main

    settings = settings_from(host=host, port=port, database_url=database_url)
    start_logging(settings)
    settings.check_exposure(token_supported=True)
    serve_main(settings)


@click.command("mcp")
@main_database_option
def mcp_stdio(database_url: str | None) -> None:
    """Run the stdio MCP server with every tool, on the database in process (for Claude Desktop)."""
    from salesmcp.mcp import build_server

    settings, store = open_database(database_url)
    if store.replica is not None:
        store.replica.warm()  # the columnar copy is made (or caught up) before the first question
    try:
        build_server(store, name="salesmcp", log_level=settings.log_level, customers=store, settings=settings).run()
    finally:
        store.close()


@click.command("migrate")
@main_database_option
def migrate(database_url: str | None) -> None:
    """Create or upgrade the database schema, and fill a new database with the demo data."""
    _, store = open_database(database_url)
    click.echo(f"database ready: {store.engine.url.render_as_string(hide_password=True)}")

"""``salesmcp`` commands for Claude Desktop: write its config entry, and check that its servers start."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from salesmcp.cli._common import ROOT_SCRIPT_HINT, settings_from
from salesmcp.keyvalue import split_pair


def _env_pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """The --env values as a dict (a later KEY wins); values are kept exactly as written."""
    try:
        return dict(split_pair(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("claude-config")
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
    from salesmcp.desktop import config as desktop

    if database and docker:
        raise click.UsageError("--database and --docker: choose one")
    settings = settings_from()
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


@click.command("doctor")
@click.option("--config-path", type=click.Path(path_type=Path, dir_okay=False), help="Config file to check.")
@click.option(
    "--logs-dir", type=click.Path(path_type=Path, file_okay=False), help="Claude Desktop's logs folder to read."
)
@click.option("--timeout", type=click.FloatRange(min=1), default=20.0, show_default=True, help="Seconds per server.")
def doctor(config_path: Path | None, logs_dir: Path | None, timeout: float) -> None:
    """Check Claude Desktop's config and start each salesmcp server in it as the app does; name each fix."""
    from salesmcp.desktop import config as desktop
    from salesmcp.desktop.doctor import examine

    report = examine(config_path or desktop.config_path(), logs_dir or desktop.logs_dir(), timeout)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)

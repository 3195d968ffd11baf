"""``salesmcp`` command line: thin wrappers that build settings, then call a server or a service.

One module per command group: ``serve`` (servers), ``data`` (the generator and exports), ``desktop`` (Claude
Desktop); each command is added to the group here.
"""

from __future__ import annotations

from typing import Any

import click

from salesmcp import __version__
from salesmcp.cli import analytics, data, desktop, serve, sql
from salesmcp.errors import SalesmcpError


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


for command in (
    serve.serve_customers, serve.serve_sales, serve.up, serve.serve, serve.mcp_stdio, serve.mcp_seed, serve.migrate,
    data.generate, data.reset, data.summary, data.export, analytics.query, sql.sql,
    desktop.claude_config, desktop.doctor,
):  # fmt: skip
    main.add_command(command)

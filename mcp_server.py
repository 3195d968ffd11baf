"""Seed 000 stdio MCP server for Claude Desktop: ``python mcp_server.py``.

Its two revenue tools read the customer API (:5001) and the sales API (:5002) over HTTP; start
them first with ``salesmcp up``. Only MCP protocol goes to stdout; logs go to stderr.
"""

import sys

from salesmcp.cli import main

if __name__ == "__main__":
    main(["mcp-seed", *sys.argv[1:]])

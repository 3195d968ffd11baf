"""Seed 001's main server: ``python app.py`` — REST and MCP over HTTP on http://localhost:8080."""

import sys

from salesmcp.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])

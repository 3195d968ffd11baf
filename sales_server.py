"""Seed 000 sales API on http://localhost:5002: ``python sales_server.py [--port N] [--sales-csv F]``."""

import sys

from salesmcp.cli import main

if __name__ == "__main__":
    main(["serve-sales", *sys.argv[1:]])

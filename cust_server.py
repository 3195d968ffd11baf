"""Seed 000 customer API on http://localhost:5001: ``python cust_server.py [--port N]``."""

import sys

from salesmcp.cli import main

if __name__ == "__main__":
    main(["serve-customers", *sys.argv[1:]])

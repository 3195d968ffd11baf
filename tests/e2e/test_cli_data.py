"""``salesmcp generate``, ``reset`` and ``summary`` as a user types them, on a SQLite file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from salesmcp.cli import main
from salesmcp.services import generator
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url

EMPTY = dict.fromkeys(
    ("products", "customers", "orders", "order_items", "payments", "shipments", "returns", "generation_runs"), 0
)


@pytest.fixture
def database(tmp_path, monkeypatch):
    """An empty, migrated SQLite file (no demo data) and its URL; the working folder has no .env."""
    monkeypatch.chdir(tmp_path)
    url = sqlite_url(tmp_path / "cli.db")
    with scratch_store(url) as store:
        yield url, store


def run(url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(main, [*args, "--database-url", url], input=input)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--rows", "0"], "rows"),
        (["--rows", "-1"], "rows"),
        (["--rows", "abc"], "--rows"),
        (["--rows", "10000001"], "rows"),  # over GENERATE_MAX_ROWS
        (["--start-date", "2025-02-30"], "start_date"),
        (["--start-date", "2025-03-01", "--end-date", "2025-02-01"], "start_date"),
        (["--locale", "xx_XX"], "locale"),
        (["--set", "payment_methods=card:-1"], "payment_methods"),
        (["--set", "carriers=DHL:abc"], "carriers"),
        (["--set", "colour=red"], "colour"),
        (["--partition", "0/2"], "partition"),
        (["--partition", "3/2"], "partition"),
        (["--partition", "x"], "partition"),
        (["--partition", "1/2", "--mode", "replace"], "--mode"),
    ],
)
def test_generate_with_a_bad_parameter_says_so_in_one_line_naming_it_and_writes_nothing(database, args, named):
    url, store = database
    result = run(url, "generate", "--rows", "50", *args)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if lines and lines[0].startswith("Usage:"):  # click's own usage errors add two lines of usage first
        lines = lines[2:]
    assert len(lines) == 1 and lines[0].startswith("Error:") and named in lines[0], result.stderr
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert generator.table_counts(store) == EMPTY


def test_generate_prints_its_run_and_the_same_command_again_makes_nothing_new(database):
    url, store = database
    args = ("generate", "--rows", "300", "--seed", "5", "--start-date", "20250101", "--end-date", "20250331")
    first = run(url, *args)
    assert first.exit_code == 0, first.output
    made = json.loads(first.stdout)
    assert (made["id"], made["state"], made["progress"], made["counts"]["orders"]) == (1, "done", 300, 300)
    counts = generator.table_counts(store)

    again = run(url, *args, "--quiet")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["id"] == 1 and "nothing to do" in again.stderr
    assert generator.table_counts(store) == counts


def test_reset_asks_first_and_keeps_everything_when_told_no(database):
    url, store = database
    generate(store, rows=200)
    counts = generator.table_counts(store)
    result = run(url, "reset", input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output
    assert "Delete every row" in result.stderr
    assert generator.table_counts(store) == counts and counts["orders"] == 200


def test_reset_with_yes_empties_every_table_without_asking(database):
    url, store = database
    generate(store, rows=200)
    result = run(url, "reset", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("reset_complete") and "orders 0" in result.stdout
    assert "Delete every row" not in result.output
    assert generator.table_counts(store) == EMPTY


def test_summary_prints_the_counts_the_last_window_and_the_last_run(database):
    url, store = database
    generate(store, rows=200, start_date="2025-01-01", end_date="2025-01-31")
    result = run(url, "summary")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == generator.table_counts(store)
    assert summary["counts"]["orders"] == 200 and summary["counts"]["generation_runs"] == 1
    assert summary["last_window"] == {"start_date": "2025-01-01", "end_date": "2025-01-31"}
    assert (summary["last_run"]["id"], summary["last_run"]["state"]) == (1, "done")

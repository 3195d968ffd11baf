"""A generation straight to files (``write_files``): the same rows a database run holds, as its export writes
them, in Parquet and CSV, whole or in partitions; bad parameters are refused naming the field."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services import generator
from salesmcp.services.exports import export_database
from salesmcp.services.generator.files import write_files
from salesmcp.services.generator.make import ORDER_BLOCK
from tests.integration.services.generator.tables import DEFAULT_SEED, MAX_ROWS, generate, scratch_store, sqlite_url

TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments", "returns")
# Two blocks of orders, the second short; a few defects on purpose, so the flawed text travels too.
REQUEST = {"rows": ORDER_BLOCK + 1_500, "seed": 7, "start_date": "2025-01-01", "end_date": "2025-12-31",
           "flaws": 0.05}  # fmt: skip


def _request(**changes: Any) -> generator.GenerationRequest:
    return generator.build_request({**REQUEST, **changes}, DEFAULT_SEED, MAX_ROWS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same request run into a SQLite database, then exported as Parquet and as CSV."""
    folder = tmp_path_factory.mktemp("database")
    with scratch_store(sqlite_url(folder / "run.db")) as store:
        run = generate(store, **REQUEST)
        assert run.state == "done", run
        export_database(store, "parquet", folder / "parquet")
        export_database(store, "csv", folder / "csv")
    return {"parquet": folder / "parquet", "csv": folder / "csv"}


def _parquet_folder(folder: Path) -> pa.Table:
    parts = sorted(folder.glob("part-*.parquet"))
    assert parts, folder
    return pa.concat_tables([pq.read_table(part) for part in parts]).sort_by("id")


def _csv_rows(paths: list[Path]) -> tuple[list[str], list[list[str]]]:
    header: list[str] = []
    rows: list[list[str]] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows.extend(reader)
    return header, sorted(rows, key=lambda row: int(row[0]))


def test_parquet_files_hold_exactly_what_the_export_of_a_database_run_holds(exported, tmp_path):
    made = write_files(_request(), str(tmp_path), "parquet")
    assert made.finished is True
    for name in TABLES:
        files = _parquet_folder(tmp_path / name)
        export = pq.read_table(exported["parquet"] / f"{name}.parquet")
        assert files.schema.equals(export.schema), name
        assert files.equals(export), name
    run = json.loads((tmp_path / "_run.json").read_text())
    assert run["counts"] == {name: pq.read_table(exported["parquet"] / f"{name}.parquet").num_rows for name in TABLES}
    assert run["flaws"] and sum(run["flaws"].values()) > 0
    assert len(list((tmp_path / "orders").glob("*.parquet"))) == 2  # a file per block


def test_csv_files_read_as_the_export_of_a_database_run_reads(exported, tmp_path):
    write_files(_request(), str(tmp_path), "csv")
    for name in TABLES:
        header, rows = _csv_rows(sorted((tmp_path / name).glob("part-*.csv")))
        export_header, export_rows = _csv_rows([exported["csv"] / f"{name}.csv"])
        assert header == export_header, name
        assert rows == export_rows, name


def test_partitions_written_apart_make_the_same_files_and_the_last_one_finishes(tmp_path):
    whole, apart = tmp_path / "whole", tmp_path / "apart"
    write_files(_request(), str(whole), "parquet")
    first = write_files(_request(), str(apart), "parquet", partition=(2, 2))
    assert first.finished is False and not (apart / "products").exists() and not (apart / "_run.json").exists()
    assert first.counts["orders"] == 1_500  # the second, short block
    second = write_files(_request(), str(apart), "parquet", partition=(1, 2))
    assert second.finished is True and second.counts["orders"] == ORDER_BLOCK
    for name in TABLES:
        assert _parquet_folder(apart / name).equals(_parquet_folder(whole / name)), name
    assert (
        json.loads((apart / "_run.json").read_text())["counts"]
        == json.loads((whole / "_run.json").read_text())["counts"]
    )


def test_the_same_request_again_rewrites_the_same_files(tmp_path):
    write_files(_request(), str(tmp_path), "parquet")
    before = _parquet_folder(tmp_path / "returns")
    again = write_files(_request(), str(tmp_path), "parquet")
    assert again.finished is True and _parquet_folder(tmp_path / "returns").equals(before)
    assert not list(tmp_path.rglob("*.part"))  # no half-written file left behind


@pytest.mark.parametrize(
    ("out", "fmt", "field", "words"),
    [
        ("{tmp}", "xlsx", "format", "parquet, csv"),
        ("   ", "parquet", "out", "name a folder"),
        ("nosuchprotocol://bucket/x", "parquet", "out", "cannot write"),
        ("{tmp}/a-file/below", "parquet", "out", "cannot create"),
    ],
)
def test_bad_files_parameters_name_the_field(tmp_path, out, fmt, field, words):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(InvalidInput) as refused:
        write_files(_request(rows=10), out.format(tmp=tmp_path), fmt)
    assert refused.value.field == field and words in refused.value.message


def test_a_folder_holding_another_generation_is_refused_and_left_as_it_was(tmp_path):
    write_files(_request(rows=50), str(tmp_path), "parquet")
    before = sorted(path.name for path in tmp_path.rglob("*"))
    with pytest.raises(InvalidInput) as refused:
        write_files(_request(rows=60), str(tmp_path), "parquet")
    assert refused.value.field == "out" and "another generation" in refused.value.message
    assert sorted(path.name for path in tmp_path.rglob("*")) == before


def test_a_folder_where_another_generation_left_only_a_partition_is_refused_too(tmp_path):
    write_files(_request(rows=ORDER_BLOCK + 10), str(tmp_path), "parquet", partition=(1, 2))  # not finished
    assert not (tmp_path / "_run.json").exists()
    with pytest.raises(InvalidInput) as refused:
        write_files(_request(rows=60), str(tmp_path), "parquet")
    assert refused.value.field == "out" and "another generation" in refused.value.message
    finishing = write_files(_request(rows=ORDER_BLOCK + 10), str(tmp_path), "parquet", partition=(2, 2))
    assert finishing.finished is True  # the same request's other partition is welcome

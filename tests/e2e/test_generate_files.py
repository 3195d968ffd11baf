"""``salesmcp generate --out`` as real processes: to a local folder, and to S3 — a moto S3 server this test
starts on loopback, reached through fsspec/s3fs as a user's bucket would be — whole and as a task array."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from salesmcp.cli import main
from salesmcp.cli.processes import free_port, stop_process
from salesmcp.services.generator.files import write_files
from tests.integration.services.generator.tables import DEFAULT_SEED, MAX_ROWS, finished, salesmcp

TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments", "returns")
ARGS = ("--rows", "12000", "--seed", "3", "--start-date", "2025-01-01", "--end-date", "2025-06-30")
REQUEST = {"rows": 12000, "seed": 3, "start_date": "2025-01-01", "end_date": "2025-06-30"}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
START_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same request written in this process to a local folder: what every other way must equal."""
    from salesmcp.services import generator

    folder = tmp_path_factory.mktemp("local")
    write_files(generator.build_request(REQUEST, DEFAULT_SEED, MAX_ROWS), str(folder), "parquet")
    return folder


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port, with a bucket; its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDENTIALS},
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "moto's S3 server did not start"
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _bucket_store(endpoint).mkdir("salesmcp-test")
        yield endpoint
    finally:
        stop_process(process)


def _bucket_store(endpoint: str):
    import s3fs

    return s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=endpoint, use_listings_cache=False)


def _tables_at(fs, root: str) -> dict[str, pa.Table]:
    tables = {}
    for name in TABLES:
        parts = sorted(path for path in fs.ls(f"{root}/{name}") if path.endswith(".parquet"))
        tables[name] = pa.concat_tables([pq.read_table(fs.open(part, "rb")) for part in parts]).sort_by("id")
    return tables


def _local_tables(folder: Path) -> dict[str, pa.Table]:
    return {
        name: pa.concat_tables([pq.read_table(part) for part in sorted((folder / name).glob("*.parquet"))]).sort_by(
            "id"
        )
        for name in TABLES
    }


def test_generate_out_to_s3_writes_the_same_tables_as_to_a_folder(s3_server, local_run, tmp_path):
    environment = {**CREDENTIALS, "FSSPEC_S3_ENDPOINT_URL": s3_server}
    out, _ = finished(salesmcp("generate", *ARGS, "--out", "s3://salesmcp-test/whole", "--quiet", cwd=tmp_path,
                               env=environment))  # fmt: skip
    made = json.loads(out)
    assert (made["finished"], made["partition"], made["counts"]["orders"]) == (True, "1/1", 12000)
    fs = _bucket_store(s3_server)
    expected = _local_tables(local_run)
    assert {name: table.num_rows for name, table in _tables_at(fs, "salesmcp-test/whole").items()} == {
        name: table.num_rows for name, table in expected.items()
    }
    for name, table in _tables_at(fs, "salesmcp-test/whole").items():
        assert table.equals(expected[name]), name
    run = json.loads(fs.cat("salesmcp-test/whole/_run.json"))
    assert run["counts"] == {name: table.num_rows for name, table in expected.items()}


def test_a_task_array_writing_to_s3_adds_up_to_the_whole_run(s3_server, local_run, tmp_path):
    """Two tasks of a Cloud Run Jobs array (index and count from the environment), the second first."""
    results = []
    for index in ("1", "0"):
        environment = {**CREDENTIALS, "FSSPEC_S3_ENDPOINT_URL": s3_server, "CLOUD_RUN_TASK_INDEX": index,
                       "CLOUD_RUN_TASK_COUNT": "2"}  # fmt: skip
        out, _ = finished(salesmcp("generate", *ARGS, "--out", "s3://salesmcp-test/tasks", "--quiet", cwd=tmp_path,
                                   env=environment))  # fmt: skip
        results.append(json.loads(out))
    assert [(r["partition"], r["finished"]) for r in results] == [("2/2", False), ("1/2", True)]
    expected = _local_tables(local_run)
    for name, table in _tables_at(_bucket_store(s3_server), "salesmcp-test/tasks").items():
        assert table.equals(expected[name]), name


def test_generate_out_with_workers_writes_the_same_tables_from_that_many_processes(local_run, tmp_path):
    out, _ = finished(salesmcp("generate", *ARGS, "--out", str(tmp_path / "two"), "--workers", "2", cwd=tmp_path))
    made = json.loads(out)
    expected = _local_tables(local_run)
    assert (made["finished"], made["workers"], made["counts"]["orders"]) == (True, 2, 12000)
    assert sorted(path.name for path in (tmp_path / "two" / "_partitions").iterdir()) == [
        "part-00001-of-00002.json", "part-00002-of-00002.json"]  # fmt: skip
    tables = _local_tables(tmp_path / "two")
    for name, table in tables.items():
        assert table.equals(expected[name]), name
    run = json.loads((tmp_path / "two" / "_run.json").read_text())
    assert run["counts"] == {name: table.num_rows for name, table in expected.items()}
    assert {name: made["counts"][name] for name in made["counts"]} == {
        name: table.num_rows for name, table in expected.items() if name != "products"}  # fmt: skip


def test_workers_are_given_every_parameter_of_the_request(tmp_path):
    settings = {"rows": 3000, "seed": 8, "locale": "de_DE:1,nl_NL:2", "seasonality": False, "flaws": 0.1,
                "growth": 0.2, "carriers": "DHL:1,PostNL:3"}  # fmt: skip
    from salesmcp.services import generator

    write_files(generator.build_request(settings, DEFAULT_SEED, MAX_ROWS), str(tmp_path / "one"), "parquet")
    sets = [part for name, value in settings.items() if name not in ("rows", "seed")
            for part in ("--set", f"{name}={str(value).lower() if isinstance(value, bool) else value}")]  # fmt: skip
    finished(salesmcp("generate", "--rows", "3000", "--seed", "8", *sets, "--out", str(tmp_path / "two"),
                      "--workers", "2", "--quiet", cwd=tmp_path))  # fmt: skip
    one, two = (json.loads((tmp_path / name / "_run.json").read_text()) for name in ("one", "two"))
    assert two["request"] == one["request"] and two["flaws"] == one["flaws"] and two["partitions"] == 2
    expected = _local_tables(tmp_path / "one")
    for name, table in _local_tables(tmp_path / "two").items():
        assert table.equals(expected[name]), name


def test_generate_out_to_a_folder_in_csv_prints_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", *ARGS, "--out", "files", "--format", "csv", "--quiet"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["finished"] is True and made["format"] == "csv"
    assert sorted(path.name for path in (tmp_path / "files").iterdir()) == sorted([*TABLES, "_partitions", "_run.json"])
    header = (tmp_path / "files" / "orders" / "part-00000.csv").read_text().splitlines()[0]
    assert header == "id,customer_id,order_date,status,subtotal,tax,shipping_fee,total"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--out", "files", "--mode", "append"], "--mode"),
        (["--out", "files", "--workers", "2", "--partition", "1/2"], "--workers"),
        (["--out", "files", "--workers", "0"], "--workers"),
        (["--out", "files", "--workers", "2", "--format", "xlsx"], "format"),
        (["--out", "files", "--run-id", "1"], "--run-id"),
        (["--out", "files", "--database-url", "sqlite:///x.db"], "--database-url"),
        (["--format", "csv"], "--format"),
        (["--out", "files", "--format", "xlsx"], "--format"),
        (["--out", "files", "--rows", "0"], "rows"),
        (["--out", "files", "--partition", "3/2"], "partition"),
    ],
)
def test_generate_out_refuses_what_does_not_fit_in_one_line_naming_it_and_writes_nothing(
    tmp_path, monkeypatch, args, named
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", *args, "--quiet"])
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and named in result.stderr, result.stderr
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert not (tmp_path / "files").exists()

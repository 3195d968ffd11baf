"""Partitioned and parallel generation: the union of the partitions is exactly one single run.

Three blocks of orders (ORDER_BLOCK is 10_000), so that each of three partitions has a block of
its own. The partitions run as real ``salesmcp generate`` processes, at the same time, as they
would on several machines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesmcp.services import generator
from salesmcp.services.generator.make import ORDER_BLOCK
from tests.integration.services.generator.tables import (
    DEFAULT_SEED,
    MAX_ROWS,
    finished,
    generate,
    salesmcp,
    scratch_store,
    sqlite_url,
    table_digests,
)

ROWS = 2 * ORDER_BLOCK + 1_000
ARGS = ("--rows", str(ROWS), "--seed", "7", "--start-date", "2025-06-01", "--end-date", "2026-05-31")
REQUEST = {"rows": ROWS, "seed": 7, "start_date": "2025-06-01", "end_date": "2026-05-31"}


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The digests of the request made in one go, in this process, into a fresh SQLite file."""
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("single") / "single.db")) as store:
        run = generate(store, **REQUEST)
        assert run.state == "done"
        return table_digests(store)


def test_three_partition_processes_at_once_make_exactly_the_single_run(postgres_url, single_run, tmp_path):
    with scratch_store(postgres_url) as store:
        processes = [
            salesmcp("generate", *ARGS, f"--partition={k}/3", "--quiet", f"--database-url={postgres_url}", cwd=tmp_path)
            for k in (1, 2, 3)
        ]
        outputs = [json.loads(finished(process)[0].splitlines()[-1]) for process in processes]
        assert {output["id"] for output in outputs} == {1}  # all three joined one run
        run = generator.get_run(store, 1)
        assert (run.state, run.progress, run.counts["orders"]) == ("done", ROWS, ROWS)
        assert table_digests(store) == single_run


def test_three_partitions_one_after_another_make_exactly_the_single_run(single_run, tmp_path):
    with scratch_store(sqlite_url(tmp_path / "partitions.db")) as store:
        request = generator.build_request(REQUEST, DEFAULT_SEED, MAX_ROWS)
        states = []
        for k in (3, 1, 2):  # any order
            run, todo = generator.prepare_run(store, request, join=True)
            assert todo
            states.append(generator.run_generation(store, run.id, 1000, partition=(k, 3)).state)
        assert states[-1] == "done" and "done" not in states[:-1]
        assert table_digests(store) == single_run


def test_two_workers_make_exactly_the_single_run(mysql_url, single_run, tmp_path):
    with scratch_store(mysql_url) as store:
        out, _ = finished(salesmcp("generate", *ARGS, "--workers", "2", "--quiet", "--database-url", mysql_url,
                                   cwd=tmp_path))  # fmt: skip
        assert json.loads(out.splitlines()[-1])["state"] == "done"
        assert table_digests(store) == single_run


def test_another_seed_makes_other_data(tmp_path: Path):
    digests = []
    for seed in (7, 8):
        with scratch_store(sqlite_url(tmp_path / f"seed{seed}.db")) as store:
            generate(store, **{**REQUEST, "rows": 1_500, "seed": seed})
            digests.append(table_digests(store))
    first, second = digests
    assert all(first[name] != second[name] for name in first), (first, second)
    assert {name: digest.split(":")[0] for name, digest in first.items()}["orders"] == "1500"

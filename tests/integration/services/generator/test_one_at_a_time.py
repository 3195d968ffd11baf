"""One generation at a time per database, even when several start at the same moment."""

import threading

from salesmcp.errors import Conflict
from salesmcp.services import generator
from salesmcp.store.schema import generation_runs


def test_of_runs_started_at_the_same_moment_exactly_one_is_created(sql_store):
    generator.reset(sql_store)
    outcomes: list[object] = []
    barrier = threading.Barrier(6)

    def start(seed: int) -> None:
        request = generator.build_request({"rows": 10, "seed": seed}, default_seed=1, max_rows=100)
        barrier.wait(timeout=30)
        try:
            outcomes.append(generator.prepare_run(sql_store, request)[0].id)
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=start, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = [outcome for outcome in outcomes if isinstance(outcome, int)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(created) == 1 and len(refused) == 5
    assert all(f"generation run {created[0]} is queued" in exc.message for exc in refused)
    assert generator.summary(sql_store).counts["generation_runs"] == 1
    with sql_store.transaction() as connection:  # never started: leave no queued run for the next test
        connection.execute(generation_runs.delete())

"""Finishing a run: the process that wrote every order reports from what it committed; reading the database
(as partitions and resumed runs do) gives the same counts and stock."""

from sqlalchemy import func, select

from salesmcp.services import generator
from salesmcp.services.generator import worker
from salesmcp.services.generator.runs import fetch_run, plan_of
from salesmcp.store.schema import metadata


def test_a_run_finished_from_its_own_tally_reports_what_the_database_holds(sql_store):
    generator.reset(sql_store)
    request = generator.build_request({"rows": 2500, "seed": 5}, default_seed=1, max_rows=10**6)
    run, _ = generator.prepare_run(sql_store, request)
    done = generator.run_generation(sql_store, run.id, 700)
    assert done.state == "done"
    with sql_store.reading() as connection:
        held = {
            name: connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one()
            for name in done.counts
        }
        stock = [row.stock for row in connection.execute(select(metadata.tables["products"]).order_by("id"))]
        plan = plan_of(fetch_run(connection, run.id))
        sold = worker._sold_in_database(connection, plan)
    assert done.counts == held and held["orders"] == 2500 and held["returns"] > 0
    assert worker._counts(sql_store, plan) == done.counts
    assert stock == (plan.initial_stock - sold).tolist() and sold.sum() > 0

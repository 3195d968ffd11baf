"""Where a generation starts: find or create its run (one at a time), and decide what the request asks of
the database first (mode replace empties it; a large load defers the order tables' indexes)."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from salesmcp.services.generator.contents import reset
from salesmcp.services.generator.make import Plan
from salesmcp.services.generator.params import GenerationRequest
from salesmcp.services.generator.runs import (
    RunOut,
    active_run,
    busy,
    current_bases,
    fetch_run,
    get_run,
    run_out,
    starting,
    state_of,
)
from salesmcp.store.maintenance import drop_order_indexes
from salesmcp.store.schema import generation_runs as runs
from salesmcp.store.schema import metadata
from salesmcp.store.sql_store import SqlStore, utcnow

# Loads of this many orders, ten times what is there or more, build the secondary indexes afterwards.
DEFER_INDEXES_FROM = 100_000


def prepare_run(store: SqlStore, request: GenerationRequest, join: bool = False) -> tuple[RunOut, bool]:
    """Find or create the run for ``request``; returns it and whether work remains to be done.

    Mode once: an identical request already done is returned as it is; one that failed or was
    interrupted is taken up again (its worker skips what is written). Mode replace resets first (so
    it always makes the data anew). A run in progress makes this a Conflict, unless ``join`` (a
    partition joining its own run).
    """
    key = None if request.mode == "append" else request.fingerprint()
    if request.mode == "replace":
        reset(store)  # a Conflict while a run is in progress; empties generation_runs too
    with starting(store) as connection:  # check and create as one step: one generation at a time
        running = active_run(connection)
        if running is not None and not (join and key is not None and running.run_key == key):
            raise busy(running)
        if key is not None:
            existing = connection.execute(select(runs).where(runs.c.run_key == key)).first()
            if existing is not None:
                if existing.status == "done":
                    return run_out(existing), False
                if existing.status == "failed" or state_of(existing, utcnow()) == "interrupted":
                    connection.execute(
                        update(runs).where(runs.c.id == existing.id)
                        .values(status="queued", error=None, heartbeat_at=utcnow())
                    )  # fmt: skip
                return run_out(fetch_run(connection, existing.id)), True
        bases = current_bases(connection)
        there = connection.execute(select(func.count()).select_from(metadata.tables["orders"])).scalar_one()
        defer = (
            request.rows >= DEFER_INDEXES_FROM
            and request.rows >= 10 * there  # building them afresh costs less than keeping them up to date
        )
        now = utcnow()
        values = {
            "run_key": key, "mode": request.mode, "seed": request.seed, "rows_requested": request.rows,
            "start_date": request.start_date, "end_date": request.end_date, "locale": request.locale,
            "status": "queued", "progress": 0, "params": request.model_dump(mode="json"), "bases": bases.as_dict(),
            "deferred_indexes": defer, "started_at": now, "heartbeat_at": now,
            "flaws": Plan(request).flaw_counts(),  # what a QA test should find, per kind
        }  # fmt: skip
        inserted = connection.execute(insert(runs).values(**values)).inserted_primary_key
        assert inserted is not None  # a single-row INSERT has one
        run_id = inserted[0]
    if defer:
        drop_order_indexes(store)
    return get_run(store, int(run_id)), True

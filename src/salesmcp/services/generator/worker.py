"""Doing a run's work: its customers and products, its blocks of orders, then finishing it.

Every batch is one transaction of whole orders (lines, payment and shipment with them) plus the
run's progress, so a crash leaves only whole orders and a progress that matches them. Running the
same run again skips what is there: a dimension block whose first row exists, and in each block
of orders the orders up to the largest id already written.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from salesmcp.errors import SalesmcpError
from salesmcp.services.generator.load import Prepared, Writer, bulk_session, prepare
from salesmcp.services.generator.make import CUSTOMER_BLOCK, ORDER_BLOCK, ORDER_TABLES, PRODUCT_BLOCK, Chunk, Plan
from salesmcp.services.generator.runs import (
    RunOut,
    add_progress,
    claim,
    fetch_run,
    get_run,
    is_interrupted,
    plan_of,
    set_status,
    this_worker,
)
from salesmcp.store import maintenance
from salesmcp.store.schema import (
    counted_orders,
    customers,
    order_items,
    orders,
    payments,
    products,
    returns,
    shipments,
)
from salesmcp.store.sql_store import SqlStore, utcnow

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class Batch:
    """Whole orders ready to write: how many orders and rows, each table's rows in bulk form, units sold."""

    orders: int
    rows: int
    prepared: list[Prepared]
    counts: dict[str, int]
    sold: np.ndarray


@dataclass
class Tally:
    """What this process committed of a run's orders: orders, rows per table, units sold per product.

    When it holds every order of the run, finishing takes the counts and the stock from it instead of
    reading them back (a scan of every order table); otherwise (partitions, a resumed run) it reads them.
    """

    orders: int
    counts: dict[str, int]
    sold: np.ndarray

    def add(self, made: Batch) -> None:
        self.orders += made.orders
        for table, rows in made.counts.items():
            self.counts[table] = self.counts.get(table, 0) + rows
        self.sold += made.sold


def run_generation(
    store: SqlStore,
    run_id: int,
    batch_size: int,
    partition: tuple[int, int] = (1, 1),
    on_progress: Progress | None = None,
) -> RunOut:
    """Do (or finish) run ``run_id``'s share ``partition``; the last share to end finishes the run."""
    with store.transaction() as connection:
        row = fetch_run(connection, run_id)
        if row.status == "done" or (row.status == "finishing" and not is_interrupted(row)):
            return get_run(store, run_id)  # done, or being finished by another process
        # One worker per run is recorded; partitions of a run started elsewhere keep whoever started it.
        worker = {"worker": this_worker()} if partition == (1, 1) or not row.worker else {}
        set_status(connection, run_id, "running", error=None, **worker)
    plan = plan_of(row)
    batch = int((row.params or {}).get("batch_size") or batch_size)
    try:
        _dimensions(store, plan, run_id)
        k, n = partition
        tally = _write_orders(store, plan, run_id, range(k - 1, plan.order_blocks, n), batch, on_progress)
        finish(store, run_id, plan, tally)
    except Exception as exc:
        message = exc.message if isinstance(exc, SalesmcpError) else f"{type(exc).__name__}: {exc}"
        log.error("generation run %d failed: %s", run_id, message)
        with store.transaction() as connection:
            set_status(connection, run_id, "failed", error=message[:2000])
        raise
    return get_run(store, run_id)


def _write_once(store: SqlStore, chunk: Chunk, first_id: int, table: Table) -> None:
    """Write a dimension block unless it is there (it commits whole, so its first row tells)."""
    with store.reading() as connection:
        if connection.execute(select(table.c.id).where(table.c.id == first_id)).first():
            return
    # The bulk paths use the driver's own cursor, whose errors SQLAlchemy does not wrap.
    duplicate = (IntegrityError, store.engine.dialect.loaded_dbapi.IntegrityError)
    try:
        with store.transaction() as connection:
            Writer(connection).write([chunk])
    except duplicate:
        with store.reading() as connection:  # a partition wrote it at the same moment: fine if it is whole
            if not connection.execute(select(table.c.id).where(table.c.id == first_id)).first():
                raise


def _dimensions(store: SqlStore, plan: Plan, run_id: int) -> None:
    for block in range(plan.product_blocks):
        _write_once(store, plan.product_chunk(block), plan.bases.products + 1 + block * PRODUCT_BLOCK, products)
    for block in range(plan.customer_blocks):
        _write_once(store, plan.customer_chunk(block), plan.bases.customers + 1 + block * CUSTOMER_BLOCK, customers)
    with store.transaction() as connection:
        add_progress(connection, run_id, 0)  # a heartbeat


def _batches(store: SqlStore, plan: Plan, blocks: Iterable[int], batch: int) -> Iterator[Batch]:
    """The batches still to write, made and put in their bulk form (skipping orders already written)."""
    dialect = store.engine.dialect.name
    for block in blocks:
        first = plan.bases.orders + 1 + block * ORDER_BLOCK
        last = first + plan.block_length(block) - 1
        with store.reading() as connection:
            written = connection.execute(select(func.max(orders.c.id)).where(orders.c.id.between(first, last))).scalar()
        if written == last:
            continue
        for part in plan.order_block(block).split(batch, skip_through=int(written or 0)):
            chunks = part.chunks()
            yield Batch(
                len(part.orders),
                part.rows(),
                [prepare(dialect, chunk) for chunk in chunks if len(chunk)],
                {chunk.table: len(chunk) for chunk in chunks},
                plan.sold(part),
            )


def _write_orders(
    store: SqlStore, plan: Plan, run_id: int, blocks: Iterable[int], batch: int, on_progress: Progress | None
) -> Tally:
    """Write the blocks' orders, one transaction per batch, while a thread makes the next batches; what was
    committed is tallied.

    Making rows and their text is Python work; writing them is mostly the database's. Overlapping
    the two (a queue of two batches: memory stays flat) uses both cores.
    """
    ahead: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for made in _batches(store, plan, blocks, batch):
                if not hand_over(made):
                    return
        except BaseException as exc:  # handed to the writing thread, which raises it
            hand_over(exc)
        else:
            hand_over(None)

    tally = Tally(0, {}, np.zeros(plan.n_products, dtype=np.int64))
    maker = threading.Thread(target=produce, name="salesmcp-generate-maker", daemon=True)
    maker.start()
    try:
        while (made := ahead.get()) is not None:
            if isinstance(made, BaseException):
                raise made
            with store.transaction() as connection, bulk_session(connection):
                Writer(connection).write_prepared(made.prepared)
                add_progress(connection, run_id, made.orders)
            tally.add(made)
            if on_progress is not None:
                on_progress(made.orders, made.rows)
    finally:
        stop.set()
        maker.join(timeout=60)
    return tally


def finish(store: SqlStore, run_id: int, plan: Plan, tally: Tally | None = None) -> bool:
    """Once every order is written: indexes, stock, sequences, statistics, counts; then done.

    Only the process that moves the run to 'finishing' does it (True); it is safe to repeat. ``tally``:
    what this process committed; when it is every order of the run, the stock and counts come from it.
    """
    whole = tally if tally is not None and tally.orders == plan.rows else None
    with store.transaction() as connection:
        row = fetch_run(connection, run_id)
        if row.status == "done" or row.progress < row.rows_requested:
            return False
        if not claim(connection, run_id, ("running",), "finishing"):
            return False  # another partition is finishing it

    def beat() -> None:
        with store.transaction() as connection:
            set_status(connection, run_id, "finishing")

    if row.deferred_indexes:
        maintenance.create_order_indexes(store, beat)
    if store.engine.dialect.name == "mysql":
        _check_references(store, plan)  # written without per-row foreign-key checks (see load.bulk_session)
    _settle_stock(store, plan, None if whole is None else whole.sold)
    beat()
    with store.transaction() as connection:
        maintenance.advance_sequences(connection)
    maintenance.analyze(store)
    counts = _counts(store, plan) if whole is None else _tallied_counts(plan, whole)
    with store.transaction() as connection:
        set_status(connection, run_id, "done", counts=counts, finished_at=utcnow())
    log.info("generation run %d done: %s", run_id, counts)
    return True


def _check_references(store: SqlStore, plan: Plan) -> None:
    """Every row the run wrote refers to one of the run's own parents (written whole before any order).

    The parents are id ranges that exist in full (the dimension blocks and the counts say so), so one
    scan of each child's id range, checking that its references fall inside them, is enough: no join.
    """
    b, lines = plan.bases, plan.rows * plan.request.max_items_per_order
    customer_ids = (b.customers + 1, b.customers + plan.n_customers)
    product_ids = (b.products + 1, b.products + plan.n_products)
    order_ids = (b.orders + 1, b.orders + plan.rows)
    children = (
        (orders, (b.orders, plan.rows), ((orders.c.customer_id, customer_ids),)),
        (order_items, (b.order_items, lines),
         ((order_items.c.order_id, order_ids), (order_items.c.product_id, product_ids))),
        (payments, (b.payments, plan.rows), ((payments.c.order_id, order_ids),)),
        (shipments, (b.shipments, plan.rows), ((shipments.c.order_id, order_ids),)),
        (returns, (b.returns, lines), ((returns.c.order_id, order_ids), (returns.c.product_id, product_ids),
                                       (returns.c.order_item_id, (b.order_items + 1, b.order_items + lines)))),
    )  # fmt: skip
    with store.reading() as connection:
        for child, (base, size), references in children:
            outside = or_(*(~column.between(lo, hi) for column, (lo, hi) in references))
            orphans = connection.execute(
                select(func.count()).select_from(child).where(child.c.id.between(base + 1, base + size), outside)
            ).scalar_one()
            if orphans:
                raise RuntimeError(f"{orphans} rows of {child.name} refer to rows the run did not write")


def _settle_stock(store: SqlStore, plan: Plan, sold: np.ndarray | None = None) -> None:
    """Each product's stock: what it had before the run, less what the run's orders sold (not cancelled):
    ``sold`` when the caller knows it, else read from the database."""
    lo = plan.bases.products + 1
    with store.transaction() as connection:
        stock = plan.initial_stock - (_sold_in_database(connection, plan) if sold is None else sold)
        if (stock < 0).any():
            raise RuntimeError("stock would go negative; the run's orders do not match its plan")
        connection.execute(
            update(products).where(products.c.id == bindparam("pid")).values(stock=bindparam("new_stock")),
            [{"pid": lo + i, "new_stock": int(s)} for i, s in enumerate(stock.tolist())],
        )


def _sold_in_database(connection: Connection, plan: Plan) -> np.ndarray:
    """Units of each of the run's products its orders in the database sold (not cancelled)."""
    lo = plan.bases.products + 1
    sold = np.zeros(plan.n_products, dtype=np.int64)
    # All lines of the run's products, less those of cancelled orders (few: no join over every line).
    # The run's lines are one id range: read it in key order (not by the product index, row by row).
    first_line = plan.bases.order_items + 1
    last_line = plan.bases.order_items + plan.rows * plan.request.max_items_per_order
    every_line = (
        select(order_items.c.product_id, func.sum(order_items.c.quantity))
        .where(order_items.c.id.between(first_line, last_line))
        .group_by(order_items.c.product_id)
    )
    cancelled_lines = (
        select(order_items.c.product_id, func.sum(order_items.c.quantity))
        .join(orders, orders.c.id == order_items.c.order_id)
        .where(~counted_orders(), orders.c.id.between(plan.bases.orders + 1, plan.bases.orders + plan.rows))
        .group_by(order_items.c.product_id)
    )
    for query, sign in ((every_line, 1), (cancelled_lines, -1)):
        for product_id, quantity in connection.execute(query):
            sold[int(product_id) - lo] += sign * int(quantity)
    return sold


def _tallied_counts(plan: Plan, tally: Tally) -> dict[str, int]:
    """The run's rows per table when this process wrote all its orders (the dimensions are written whole)."""
    made = {"customers": plan.n_customers, "products": plan.n_products, **dict.fromkeys(ORDER_TABLES, 0)}
    return made | tally.counts


def _counts(store: SqlStore, plan: Plan) -> dict[str, int]:
    """Rows this run made, per table (its id ranges)."""
    b, rows = plan.bases, plan.rows
    ranges = {
        "customers": (customers, b.customers, plan.n_customers),
        "products": (products, b.products, plan.n_products),
        "orders": (orders, b.orders, rows),
        "order_items": (order_items, b.order_items, rows * plan.request.max_items_per_order),
        "payments": (payments, b.payments, rows),
        "shipments": (shipments, b.shipments, rows),
        "returns": (returns, b.returns, rows * plan.request.max_items_per_order),
    }
    with store.reading() as connection:
        return {
            name: int(connection.execute(
                select(func.count()).select_from(table).where(table.c.id.between(base + 1, base + size))
            ).scalar_one())
            for name, (table, base, size) in ranges.items()
        }  # fmt: skip

"""Blocks of orders: each drawn from its own stream, so any block made alone comes out the same."""

from __future__ import annotations

import numpy as np

from salesmcp.services.generator import build_request
from salesmcp.services.generator.make import ORDER_BLOCK, Bases, Plan, _joined, _padded

ROWS = ORDER_BLOCK + 700


def _plan(seed: int = 3, bases: Bases | None = None) -> Plan:
    return Plan(build_request({"rows": ROWS, "seed": seed}, 42, 10**7), bases or Bases())


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.columns, b.columns, strict=True))


def test_a_block_made_alone_equals_the_block_made_after_the_others():
    in_order = _plan()
    blocks = [in_order.order_block(b) for b in range(in_order.order_blocks)]
    alone = _plan().order_block(1)
    assert in_order.order_blocks == 2 and len(alone.orders) == 700
    assert all(_same(x, y) for x, y in zip(blocks[1].chunks(), alone.chunks(), strict=True))
    assert not _same(_plan(seed=4).order_block(1).orders, alone.orders)


def test_ids_follow_the_bases_and_rise_with_time():
    block = _plan(bases=Bases(customers=50, products=9, orders=1000)).order_block(0)
    ids, customer, day = block.orders.columns[:3]
    assert ids[0] == 1001 and np.all(np.diff(ids) == 1) and np.all(np.diff(day) >= 0)
    assert customer.min() > 50 and block.items.columns[2].min() > 9


def test_batches_hold_whole_orders_and_skip_what_is_written():
    block = _plan().order_block(0)
    parts = block.split(333, skip_through=int(block.orders.columns[0][99]))  # the first 100 orders are there
    assert sum(len(part.orders) for part in parts) == len(block.orders) - 100
    assert max(len(part.orders) for part in parts) == 333
    for part in parts:
        orders = set(part.orders.columns[0].tolist())
        for child in (part.items, part.payments, part.shipments):
            assert set(child.columns[1].tolist()) <= orders
        assert set(part.items.columns[1].tolist()) == orders  # every order with all its lines
    assert sum(len(part.items) for part in parts) == int(np.sum(block.items.columns[1] > block.orders.columns[0][99]))


def test_padded_numbers_are_what_zfill_writes_whatever_their_widths():
    rng = np.random.default_rng(5)
    for width in (1, 3, 7, 10):
        for high in (9, 1_000, 10**7, 10**12):
            numbers = np.concatenate(([0, high - 1, 10**width - 1, 10**width], rng.integers(0, high, 2_000)))
            made = _padded(numbers, width)
            assert made.tolist() == [str(int(number)).zfill(width) for number in numbers]
    assert _padded(np.array([-5, 3]), 3).tolist() == ["-05", "003"]
    assert _padded(np.array([], dtype=np.int64), 3).tolist() == []


def test_joined_text_is_each_rows_parts_one_after_another():
    digits = _padded(np.array([7, 12_345]), 4)
    assert _joined("T", digits, np.array(["ab", "cd"])).tolist() == ["T0007ab", "T12345cd"]  # 12345: wider
    assert _joined(np.array(["DH", "X"]), "-", _padded(np.array([5, 6]), 3)).tolist() == ["DH-005", "X-006"]
    assert _joined("T", _padded(np.array([], dtype=np.int64), 3)).tolist() == []


def test_a_block_with_no_paid_or_shipped_order_is_made_with_empty_payments_and_shipments():
    plan = Plan(build_request({"rows": 1, "seed": 3}, 42, 10**7))  # its one order is not paid
    block = plan.order_block(0)
    assert len(block.orders) == 1 and len(block.payments) == 0 and len(block.shipments) == 0
    assert block.orders.columns[3][0] in ("PLACED", "CANCELLED")

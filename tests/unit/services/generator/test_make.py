"""Blocks of orders: each drawn from its own stream, so any block made alone comes out the same."""

from __future__ import annotations

import numpy as np

from salesmcp.services.generator import build_request
from salesmcp.services.generator.make import ORDER_BLOCK, Bases, Plan

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

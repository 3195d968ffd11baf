"""A small catalogue on top of the demo data, written with plain inserts: three products and three
orders of 2023 (one whole: items, payment, shipment, a line partly returned; one bare; one cancelled) besides
the demo's twelve orders of 2026 (501-512, without items)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert

from salesmcp.store.schema import order_items, orders, payments, products, returns, shipments
from salesmcp.store.sql_store import SqlStore

CREATED = dt.datetime(2025, 12, 1, 8, 0, 0)
DEMO_ORDER_IDS = list(range(501, 513))
WHOLE_ORDER, BARE_ORDER, CANCELLED_ORDER = 601, 602, 603
ORDERS_2023 = [WHOLE_ORDER, BARE_ORDER, CANCELLED_ORDER]


def add_catalogue(store: SqlStore) -> None:
    with store.transaction() as connection:
        connection.execute(
            insert(products),
            [
                {"id": 1, "sku": "KIT-001", "name": "Kettle", "category": "Kitchen", "price": Decimal("19.99"),
                 "stock": 5, "active": True, "created_at": CREATED},
                {"id": 2, "sku": "KIT-002", "name": "Mug", "category": "Kitchen", "price": Decimal("4.50"),
                 "stock": 40, "active": True, "created_at": CREATED},
                {"id": 3, "sku": "LIV-001", "name": "Lamp", "category": "Living", "price": Decimal("35.00"),
                 "stock": 0, "active": False, "created_at": CREATED},
            ],
        )  # fmt: skip
        connection.execute(
            insert(orders),
            [
                {"id": WHOLE_ORDER, "customer_id": 11, "order_date": dt.date(2023, 6, 15), "status": "DELIVERED",
                 "subtotal": Decimal("43.98"), "tax": Decimal("9.24"), "shipping_fee": Decimal("4.95"),
                 "total": Decimal("58.17")},
                {"id": BARE_ORDER, "customer_id": 12, "order_date": dt.date(2023, 12, 31), "status": "PLACED",
                 "subtotal": Decimal("4.50"), "tax": Decimal("0.95"), "shipping_fee": Decimal("0"),
                 "total": Decimal("5.45")},
                {"id": CANCELLED_ORDER, "customer_id": 11, "order_date": dt.date(2023, 1, 1), "status": "CANCELLED",
                 "subtotal": Decimal("35.00"), "tax": Decimal("7.35"), "shipping_fee": Decimal("0"),
                 "total": Decimal("42.35")},
            ],
        )  # fmt: skip
        connection.execute(
            insert(order_items),
            [
                {"id": 1, "order_id": WHOLE_ORDER, "product_id": 1, "quantity": 2, "unit_price": Decimal("19.99"),
                 "line_total": Decimal("39.98")},
                {"id": 2, "order_id": WHOLE_ORDER, "product_id": 2, "quantity": 1, "unit_price": Decimal("4.00"),
                 "line_total": Decimal("4.00")},
            ],
        )  # fmt: skip
        connection.execute(
            insert(payments),
            {"id": 1, "order_id": WHOLE_ORDER, "method": "card", "amount": Decimal("58.17"), "currency": "EUR",
             "paid_at": dt.datetime(2023, 6, 15, 10, 30), "txn_ref": "TXN-601"},
        )  # fmt: skip
        connection.execute(
            insert(shipments),
            {"id": 1, "order_id": WHOLE_ORDER, "carrier": "PostNL", "tracking_no": "3SABC601",
             "shipped_at": dt.datetime(2023, 6, 16, 9, 0), "delivered_at": dt.datetime(2023, 6, 18, 14, 5),
             "status": "DELIVERED"},
        )  # fmt: skip
        connection.execute(
            insert(returns),
            {"id": 1, "order_id": WHOLE_ORDER, "order_item_id": 1, "product_id": 1, "quantity": 1,
             "refund": Decimal("24.18"), "reason": "damaged", "returned_at": dt.datetime(2023, 6, 25, 10, 0),
             "refunded_at": dt.datetime(2023, 6, 27, 9, 0)},
        )  # fmt: skip

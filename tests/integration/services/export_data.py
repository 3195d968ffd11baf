"""A few hundred orders with their items, payments, shipments and returns, written with plain inserts on top
of the demo data: enough for exports to span several batches, with cents, cancelled orders, NULLs
and names that CSV must quote."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import insert

from salesmcp.store.schema import customers, order_items, orders, payments, products, returns, shipments
from salesmcp.store.sql_store import SqlStore

CENT = Decimal("0.01")
CITIES = ("Eindhoven", "Tilburg", "'s-Hertogenbosch", "Zürich", "Den Haag, Zuid-Holland", "Helmond")
STATUSES = ("PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")
FIRST_ORDER_ID = 10_000


def add_orders(store: SqlStore, count: int = 300, seed: int = 7) -> None:
    """``count`` whole orders in 2025-2026 by the demo customers and 30 more, over 25 products."""
    rng = random.Random(seed)
    created = dt.datetime(2025, 1, 1, 9, 30, 0)
    new_customers = [
        {"id": 100 + i, "custid": f"C{100 + i}", "name": f'Klant {i} "de" Vries, jr.' if i % 7 == 0 else f"Klant {i}",
         "email": None if i % 5 == 0 else f"klant{i}@example.com", "phone": None,
         "city": None if i == 29 else CITIES[i % len(CITIES)], "country": "Netherlands",
         "status": "disabled" if i % 9 == 0 else "active", "created_at": created, "updated_at": created}
        for i in range(30)
    ]  # fmt: skip
    product_rows = [
        {"id": i, "sku": f"SKU-{i:03d}", "name": f"Product {i}", "category": ("Kitchen", "Garden", None)[i % 3],
         "price": Decimal(rng.randint(99, 25_000)) * CENT, "stock": rng.randint(0, 500), "active": i % 4 != 0,
         "created_at": created}
        for i in range(1, 26)
    ]  # fmt: skip
    customer_ids = list(range(11, 21)) + [row["id"] for row in new_customers]
    order_rows, item_rows, payment_rows, shipment_rows, return_rows = [], [], [], [], []
    for n in range(count):
        order_id = FIRST_ORDER_ID + n
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(455))
        status = STATUSES[n % len(STATUSES)]
        subtotal = Decimal(0)
        for _ in range(rng.randint(1, 3)):
            product = rng.choice(product_rows)
            quantity = rng.randint(1, 4)
            line_total = product["price"] * quantity
            subtotal += line_total
            item_rows.append(
                dict(id=len(item_rows) + 1, order_id=order_id, product_id=product["id"], quantity=quantity,
                     unit_price=product["price"], line_total=line_total)
            )  # fmt: skip
        tax = (subtotal * Decimal("0.21")).quantize(CENT)
        shipping = Decimal("4.95") if subtotal < 50 else Decimal(0)
        total = subtotal + tax + shipping
        order_rows.append(
            dict(id=order_id, customer_id=rng.choice(customer_ids), order_date=day, status=status,
                 subtotal=subtotal, tax=tax, shipping_fee=shipping, total=total)
        )  # fmt: skip
        ordered = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60)))
        if status in ("PAID", "SHIPPED", "DELIVERED"):
            payment_rows.append(
                dict(id=len(payment_rows) + 1, order_id=order_id, method=rng.choice(("card", "ideal")), amount=total,
                     currency="EUR", paid_at=ordered + dt.timedelta(minutes=5),
                     txn_ref=None if n % 11 == 0 else f"TXN-{order_id}")
            )  # fmt: skip
        if status in ("SHIPPED", "DELIVERED"):
            shipped = ordered + dt.timedelta(days=1)
            shipment_rows.append(
                dict(id=len(shipment_rows) + 1, order_id=order_id, carrier="PostNL", tracking_no=f"3S{order_id}",
                     shipped_at=shipped, delivered_at=shipped + dt.timedelta(days=2) if status == "DELIVERED" else None,
                     status=status)
            )  # fmt: skip
        if status == "DELIVERED" and n % 3 == 0:  # its last line comes back; every other return is not refunded yet
            line = item_rows[-1]
            returned = shipped + dt.timedelta(days=10)
            return_rows.append(
                dict(id=len(return_rows) + 1, order_id=order_id, order_item_id=line["id"],
                     product_id=line["product_id"], quantity=1, refund=line["unit_price"], reason="damaged",
                     returned_at=returned, refunded_at=returned + dt.timedelta(days=2) if n % 2 else None)
            )  # fmt: skip
    with store.transaction() as connection:
        connection.execute(insert(customers), new_customers)
        connection.execute(insert(products), product_rows)
        connection.execute(insert(orders), order_rows)
        connection.execute(insert(order_items), item_rows)
        connection.execute(insert(payments), payment_rows)
        connection.execute(insert(shipments), shipment_rows)
        connection.execute(insert(returns), return_rows)

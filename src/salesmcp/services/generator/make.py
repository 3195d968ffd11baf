"""Making the rows: a plan derived from the request, and blocks drawn from their own random streams.

Every block (of customers, products or orders) is drawn from a numpy generator seeded with
``(seed, kind, block number)``, so any block can be made alone, by any process, in any order, and
comes out the same. Ids are computed, not assigned by the database: an order's id is its run's
base plus its index; its lines, payment and shipment have ids derived from that index. Values
are kept as numpy columns (money in integer cents, dates as days and timestamps as seconds since
1970, naive UTC) until a loader writes them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from salesmcp.services.generator.calendar import calendar_factors
from salesmcp.services.generator.codes import decimal_matrix
from salesmcp.services.generator.flaws import flaw_counts, flaw_customers, flaw_products
from salesmcp.services.generator.params import GenerationRequest, parse_weights
from salesmcp.services.generator.pools import (
    CATEGORIES,
    CATEGORY_WEIGHTS,
    locale_pool,
)
from salesmcp.store.schema import RETURN_REASONS

ORDER_BLOCK = 10_000
CUSTOMER_BLOCK = 10_000
PRODUCT_BLOCK = 10_000
DAY = 86_400
EPOCH = dt.date(1970, 1, 1)
STREAM_CUSTOMERS, STREAM_PRODUCTS, STREAM_ORDERS, STREAM_CUSTOMER_WEIGHTS, STREAM_PRODUCT_WEIGHTS = 1, 2, 3, 4, 5
STREAM_RETURNS = 8  # (6 and 7: flaws.py)
RETURN_WINDOW_DAYS = 30  # lines come back within this many days of delivery
REFUND_DAYS = (1, 6)  # the refund follows the return by 1 to 5 days
FULL_RETURN = 0.8  # share of returns that send back the line's whole quantity (the others: part of it)
# How often each reason is given (schema.RETURN_REASONS' order).
REASON_WEIGHTS = np.array([0.32, 0.08, 0.14, 0.24, 0.07, 0.15])
# Orders by hour of the day (local shop time): quiet nights, an evening peak.
HOUR_WEIGHTS = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.2, 3.5, 3.6, 3.8, 3.6, 3.4, 3.4, 3.6, 4.0,
                         4.6, 5.2, 5.5, 5.0, 3.6, 2.0])  # fmt: skip
MONTH_WEIGHTS = np.array([0.9, 0.85, 0.95, 0.95, 1.0, 0.9, 0.85, 0.85, 1.0, 1.05, 1.35, 1.45])

# The kinds of column a loader converts: int, money (cents), date (days), ts (seconds, -1 = NULL),
# str, opt (str, NULL_TEXT = NULL), bool.
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (("id", "int"), ("custid", "str"), ("name", "str"), ("first_name", "str"), ("last_name", "str"),
                  ("email", "str"), ("phone", "opt"), ("city", "str"), ("country", "str"), ("status", "str"),
                  ("created_at", "ts"), ("updated_at", "ts")),
    "products": (("id", "int"), ("sku", "str"), ("name", "str"), ("category", "str"), ("price", "money"),
                 ("stock", "int"), ("active", "bool"), ("created_at", "ts")),
    "orders": (("id", "int"), ("customer_id", "int"), ("order_date", "date"), ("status", "str"),
               ("subtotal", "money"), ("tax", "money"), ("shipping_fee", "money"), ("total", "money")),
    "order_items": (("id", "int"), ("order_id", "int"), ("product_id", "int"), ("quantity", "int"),
                    ("unit_price", "money"), ("line_total", "money")),
    "payments": (("id", "int"), ("order_id", "int"), ("method", "str"), ("amount", "money"), ("currency", "str"),
                 ("paid_at", "ts"), ("txn_ref", "str")),
    "shipments": (("id", "int"), ("order_id", "int"), ("carrier", "str"), ("tracking_no", "str"),
                  ("shipped_at", "ts"), ("delivered_at", "ts"), ("status", "str")),
    "returns": (("id", "int"), ("order_id", "int"), ("order_item_id", "int"), ("product_id", "int"),
                ("quantity", "int"), ("refund", "money"), ("reason", "str"), ("returned_at", "ts"),
                ("refunded_at", "ts")),
}  # fmt: skip
ORDER_TABLES = ("orders", "order_items", "payments", "shipments", "returns")
ID_TABLES = ("customers", "products", *ORDER_TABLES)


@dataclass
class Chunk:
    """Rows of one table as columns (in TABLE_COLUMNS order)."""

    table: str
    columns: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.columns[0])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in TABLE_COLUMNS[self.table])

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in TABLE_COLUMNS[self.table])

    def take(self, selector: slice | np.ndarray) -> Chunk:
        return Chunk(self.table, [column[selector] for column in self.columns])


@dataclass
class OrderBlock:
    """One block of orders with their lines, payments, shipments and returns (children sorted by order id)."""

    number: int
    orders: Chunk
    items: Chunk
    payments: Chunk
    shipments: Chunk
    returns: Chunk

    def chunks(self) -> tuple[Chunk, ...]:
        return (self.orders, self.items, self.payments, self.shipments, self.returns)

    def rows(self) -> int:
        return sum(len(chunk) for chunk in self.chunks())

    def split(self, batch: int, skip_through: int = 0) -> list[OrderBlock]:
        """Sub-blocks of at most ``batch`` whole orders; orders with id ≤ ``skip_through`` left out."""
        order_ids = self.orders.columns[0]
        start = int(np.searchsorted(order_ids, skip_through, side="right"))
        parts = []
        for first in range(start, len(order_ids), batch):
            lo, hi = order_ids[first], order_ids[min(first + batch, len(order_ids)) - 1]

            def within(chunk: Chunk, lo: int = lo, hi: int = hi) -> Chunk:
                owner = chunk.columns[1]
                return chunk.take(slice(np.searchsorted(owner, lo), np.searchsorted(owner, hi, side="right")))

            parts.append(
                OrderBlock(self.number, self.orders.take(slice(first, first + batch)), within(self.items),
                           within(self.payments), within(self.shipments), within(self.returns))
            )  # fmt: skip
        return parts


def _rng(seed: int, stream: int, block: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, block])


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=float)
    return cdf / cdf[-1]


def _draw(cdf: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return _pick(cdf, rng.random(size))


def _pick(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The index each uniform draw in [0, 1) falls on in ``cdf``."""
    return np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1)


def _text(values: np.ndarray | Sequence[str]) -> np.ndarray:
    return np.asarray(values, dtype=np.str_)


def _padded(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as decimal text zero-padded to at least ``width`` digits (what ``str.zfill`` gives),
    built as code points (``codes``), not a Python string per number."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return np.empty(0, dtype=f"<U{width}")
    if numbers.min() < 0:
        return np.strings.zfill(numbers.astype(np.str_), width)
    digits = decimal_matrix(numbers, width).astype(np.uint32)
    widest = digits.shape[1]
    if widest > width:  # wider numbers among narrower ones: each moved left, its NULs after it (no text)
        shifted = np.arange(widest) + (widest - np.count_nonzero(digits, axis=1))[:, None]
        digits = np.where(shifted < widest, np.take_along_axis(digits, np.minimum(shifted, widest - 1), axis=1), 0)
    return _from_codes(digits)


def _joined(*parts: np.ndarray | str) -> np.ndarray:
    """Text columns (or constants) joined element-wise. Where every part is fixed-width (each value as wide as its
    column, as ``_padded``'s and codes' are) they are joined as code points in one copy; otherwise part by part."""
    columns = []
    rows = max((len(part) for part in parts if isinstance(part, np.ndarray) and part.ndim), default=1)
    for part in parts:
        text = np.asarray(part, dtype=np.str_)
        width = text.dtype.itemsize // 4
        codes = np.ascontiguousarray(text).reshape(-1).view(np.uint32).reshape(-1, width)
        if width == 0 or (codes[:, -1] == 0).any():  # a value shorter than its column
            joined = np.asarray(parts[0], dtype=np.str_)
            for more in parts[1:]:
                joined = np.strings.add(joined, more)
            return joined
        columns.append(codes)
    return _from_codes(np.concatenate([np.broadcast_to(codes, (rows, codes.shape[1])) for codes in columns], axis=1))


def _from_codes(codes: np.ndarray) -> np.ndarray:
    """Rows of code points (NUL-padded on the right) as a numpy text column."""
    return np.ascontiguousarray(codes, dtype=np.uint32).view(f"<U{codes.shape[1]}").reshape(-1)


def _days(date: dt.date) -> int:
    return (date - EPOCH).days


@dataclass(frozen=True)
class Bases:
    """The largest id of each table before the run: the run's ids start just above."""

    customers: int = 0
    products: int = 0
    orders: int = 0
    order_items: int = 0
    payments: int = 0
    shipments: int = 0
    returns: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ID_TABLES}


@dataclass
class Plan:
    """Everything derived from a request and its id bases; cheap to build, shared by all blocks."""

    request: GenerationRequest
    bases: Bases = field(default_factory=Bases)

    def __post_init__(self) -> None:
        r = self.request
        self.seed = int(r.seed or 0)
        self.rows = r.rows
        self.n_customers = r.n_customers
        self.n_products = r.n_products
        self.order_blocks = math.ceil(self.rows / ORDER_BLOCK)
        self.customer_blocks = math.ceil(self.n_customers / CUSTOMER_BLOCK)
        self.product_blocks = math.ceil(self.n_products / PRODUCT_BLOCK)
        self.first_day = _days(r.start_date)
        self.n_days = (r.end_date - r.start_date).days + 1
        self.window_start = self.first_day * DAY
        self.as_of = (self.first_day + self.n_days) * DAY - 1  # the end date's last second
        self.locales = r.locales
        self.methods = parse_weights(r.payment_methods, "payment_methods")
        self.carriers = parse_weights(r.carriers, "carriers")

    def flaw_counts(self) -> dict[str, int] | None:
        """The defects this run makes on purpose, per kind (None for clean data)."""
        if not self.request.flaws:
            return None
        customers = [min(CUSTOMER_BLOCK, self.n_customers - first) for first in range(0, self.n_customers,
                                                                                        CUSTOMER_BLOCK)]  # fmt: skip
        products = [min(PRODUCT_BLOCK, self.n_products - first) for first in range(0, self.n_products, PRODUCT_BLOCK)]
        return flaw_counts(self.seed, self.request.flaws, customers, products)

    # -- shapes of the data -------------------------------------------------------------------------

    @cached_property
    def day_cdf(self) -> np.ndarray:
        days = np.arange(self.n_days) + self.first_day
        dates = days.astype("datetime64[D]")
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        weights = np.where(weekday >= 5, self.request.weekend_factor, 1.0)
        if self.request.seasonality:
            months = dates.astype("datetime64[M]").astype(int) % 12
            weights = weights * MONTH_WEIGHTS[months]
        weights = weights * calendar_factors(self.request, dates, self.seed)
        return _cdf(weights)

    @cached_property
    def customer_cdf(self) -> np.ndarray:
        """A few customers order much more than most: log-normal weights (the top 20% place about 60%)."""
        rng = _rng(self.seed, STREAM_CUSTOMER_WEIGHTS)
        return _cdf(rng.lognormal(0.0, self.request.customer_skew, self.n_customers))

    @cached_property
    def product_weights(self) -> np.ndarray:
        rng = _rng(self.seed, STREAM_PRODUCT_WEIGHTS)
        weights = rng.lognormal(0.0, self.request.product_skew, self.n_products)
        return weights / weights.sum()

    @cached_property
    def product_cdf(self) -> np.ndarray:
        return _cdf(self.product_weights)

    def block_length(self, block: int) -> int:
        return min(ORDER_BLOCK, self.rows - block * ORDER_BLOCK)

    def block_caps(self, length: int) -> np.ndarray:
        """Stock each product may sell within one block of ``length`` orders: about twice its expected demand.

        Fixed per block, so blocks made apart (partitions) never oversell together.
        """
        expected = length * self.request.items_per_order * self.request.quantity_mean * self.product_weights
        return (np.ceil(2 * expected + 3 * np.sqrt(expected)) + 5).astype(np.int64)

    @cached_property
    def _products(self) -> list[Chunk]:
        return [self._product_block(b) for b in range(self.product_blocks)]

    @cached_property
    def return_chance(self) -> np.ndarray:
        """Each product's chance that a delivered line of it comes back: its category's factor, scaled so that
        the share of all lines returned is ``return_rate`` (weighted by how often each product sells)."""
        factors = {c.name: c.returns for c in CATEGORIES}
        factor = np.array([factors[name] for chunk in self._products for name in chunk.columns[3].tolist()])
        mean = float((self.product_weights * factor).sum())
        return np.minimum(1.0, self.request.return_rate * factor / mean)

    @cached_property
    def product_prices(self) -> np.ndarray:
        return np.concatenate([chunk.columns[4] for chunk in self._products])

    @cached_property
    def initial_stock(self) -> np.ndarray:
        """Each product's stock before the run's orders: every block's allowance plus a remainder."""
        return np.concatenate([chunk.columns[5] for chunk in self._products])

    def sold(self, made: OrderBlock) -> np.ndarray:
        """Units of each of the run's products that ``made``'s counted (not cancelled) orders sold."""
        orders, items = made.orders, made.items
        counted = (orders.columns[3] != "CANCELLED")[items.columns[1] - orders.columns[0][0]]  # ids are a range
        product = items.columns[2] - self.bases.products - 1
        sold = np.bincount(product[counted], weights=items.columns[3][counted], minlength=self.n_products)
        return sold.astype(np.int64)

    # -- blocks -------------------------------------------------------------------------------------

    def product_chunk(self, block: int) -> Chunk:
        return self._products[block]

    def _product_block(self, block: int) -> Chunk:
        rng = _rng(self.seed, STREAM_PRODUCTS, block)
        first = block * PRODUCT_BLOCK
        n = min(PRODUCT_BLOCK, self.n_products - first)
        index = np.arange(first, first + n)
        ids = self.bases.products + 1 + index
        category = _draw(_cdf(CATEGORY_WEIGHTS), rng, n)
        medians = np.array([c.median_price for c in CATEGORIES])[category]
        sigmas = np.array([c.sigma for c in CATEGORIES])[category]
        euros = np.floor(medians * np.exp(sigmas * rng.standard_normal(n)))
        price = (np.maximum(euros, 0) * 100 + 99).astype(np.int64)  # shop prices end in .99
        words = rng.random((3, n))  # noun, adjective, variant: each from the product's own category
        leftover = rng.integers(0, 40, n)
        active = rng.random(n) >= 0.03
        created = self.window_start - rng.integers(30 * DAY, 1000 * DAY, n)
        noun, adjective, variant = (_category_words(kind, category, words[i])
                                    for i, kind in enumerate(("nouns", "adjectives", "variants")))  # fmt: skip
        names = np.strings.add(np.strings.add(np.strings.add(adjective, " "), noun), np.strings.add(" - ", variant))
        if self.request.flaws:
            flawed_names = names.astype(object)
            flaw_products(flawed_names, self.seed, block, self.request.flaws)
            names = _text(flawed_names)
        prefixes = _text([c.prefix for c in CATEGORIES])[category]
        sku = _joined(prefixes, "-", _padded(ids, 7))
        full_blocks, last = divmod(self.rows, ORDER_BLOCK)
        stock = self.block_caps(ORDER_BLOCK)[index] * full_blocks + leftover
        if last:
            stock = stock + self.block_caps(last)[index]
        return Chunk(
            "products",
            [ids, sku, names, _text([c.name for c in CATEGORIES])[category], price, stock, active, created],
        )

    def customer_chunk(self, block: int) -> Chunk:
        rng = _rng(self.seed, STREAM_CUSTOMERS, block)
        first = block * CUSTOMER_BLOCK
        n = min(CUSTOMER_BLOCK, self.n_customers - first)
        ids = self.bases.customers + 1 + np.arange(first, first + n)
        locale_of = _draw(_cdf(np.array([w for _, w in self.locales])), rng, n)
        picks = rng.random((6, n))  # first, last, city, phone, domain, (spare): one draw, any number of locales
        columns = {key: np.empty(n, dtype=object) for key in ("first", "last", "fa", "la", "city", "phone", "dom", "c")}
        for number, (locale, _) in enumerate(self.locales):
            pool = locale_pool(locale, self.seed % 2**32)
            rows = locale_of == number
            if not rows.any():
                continue

            def pick(values: np.ndarray, row: int, rows: np.ndarray = rows) -> np.ndarray:
                return values[(picks[row, rows] * len(values)).astype(np.int64)]

            first_i = (picks[0, rows] * len(pool.first_names)).astype(np.int64)
            last_i = (picks[1, rows] * len(pool.last_names)).astype(np.int64)
            columns["first"][rows] = pool.first_names[first_i]
            columns["last"][rows] = pool.last_names[last_i]
            columns["fa"][rows] = pool.first_ascii[first_i]
            columns["la"][rows] = pool.last_ascii[last_i]
            city = np.minimum(np.searchsorted(pool.city_cdf, picks[2, rows], side="right"),
                              len(pool.cities) - 1)  # fmt: skip
            columns["city"][rows] = pool.cities[city]
            columns["phone"][rows] = pick(pool.phones, 3)
            columns["dom"][rows] = pick(pool.domains, 4)
            columns["c"][rows] = pool.country
        first_names, last_names = _text(columns["first"]), _text(columns["last"])
        id_text = _padded(ids, 1)
        email = np.strings.add(np.strings.add(np.strings.add(_text(columns["fa"]), "."), _text(columns["la"])), id_text)
        email = np.strings.add(np.strings.add(email, "@"), _text(columns["dom"]))
        created = self.window_start - rng.integers(0, 730 * DAY, n)
        text = {"name": np.strings.add(np.strings.add(first_names, " "), last_names), "first_name": first_names,
                "last_name": last_names, "email": email, "phone": _text(columns["phone"]),
                "city": _text(columns["city"])}  # fmt: skip
        if self.request.flaws:
            text = {field: values.astype(object) for field, values in text.items()}
            flaw_customers({**text, "custid": _padded(ids, 3)}, self.seed, block, self.request.flaws)
            text = {field: _text(values) for field, values in text.items()}
        return Chunk(
            "customers",
            [ids, _padded(ids, 3), text["name"], text["first_name"], text["last_name"], text["email"],
             text["phone"], text["city"], _text(columns["c"]), np.full(n, "active"), created, created],
        )  # fmt: skip

    def order_block(self, block: int) -> OrderBlock:
        r = self.request
        rng = _rng(self.seed, STREAM_ORDERS, block)
        first = block * ORDER_BLOCK
        n = self.block_length(block)
        index = np.arange(first, first + n)  # the orders' places in the run
        order_ids = self.bases.orders + 1 + index

        # When: this block's slice of the window's distribution, so ids rise with time.
        quantile = (first + n * rng.random(n)) / self.rows
        day = np.minimum(np.searchsorted(self.day_cdf, quantile, side="right"), self.n_days - 1)
        hour = _draw(_cdf(HOUR_WEIGHTS), rng, n)
        placed = np.sort((self.first_day + day) * DAY + hour * 3600 + rng.integers(0, 3600, n))
        customer = self.bases.customers + 1 + _draw(self.customer_cdf, rng, n)

        # What: lines of heavy-tailed products, within each product's stock allowance for this block.
        lines = 1 + np.minimum(rng.poisson(r.items_per_order - 1, n), r.max_items_per_order - 1)
        owner = np.repeat(np.arange(n), lines)
        starts = np.concatenate(([0], np.cumsum(lines)[:-1]))
        line_no = np.arange(len(owner)) - np.repeat(starts, lines)
        product = _draw(self.product_cdf, rng, len(owner))
        quantity = np.minimum(rng.geometric(1 / r.quantity_mean, len(owner)), r.max_quantity)
        product, quantity = _within_stock(product, quantity, self.block_caps(n))
        unit_price = self.product_prices[product]
        line_total = unit_price * quantity
        subtotal = np.add.reduceat(line_total, starts)
        tax = (subtotal * round(r.tax_rate * 10_000) + 5_000) // 10_000
        shipping = np.where(subtotal >= round(r.free_shipping_from * 100), 0, round(r.shipping_fee * 100))
        total = subtotal + tax + shipping

        # How it went: PLACED -> PAID -> SHIPPED -> DELIVERED, as of the window's last second.
        outcome = rng.random(n)
        paid_at = placed + 60 + rng.exponential(1200, n).astype(np.int64)
        shipped_at = paid_at + rng.integers(4 * 3600, 72 * 3600, n)
        delivered_at = shipped_at + rng.integers(18 * 3600, 96 * 3600, n)
        method = _draw(_cdf(np.array([w for _, w in self.methods])), rng, n)
        carrier = _draw(_cdf(np.array([w for _, w in self.carriers])), rng, n)
        reference = rng.integers(0, 10**7, n)
        cancelled = outcome < r.cancel_rate
        paid = ~cancelled & (outcome >= r.cancel_rate + r.unpaid_rate) & (paid_at <= self.as_of)
        shipped = paid & (shipped_at <= self.as_of)
        delivered = shipped & (delivered_at <= self.as_of)
        status = np.full(n, "PLACED", dtype="<U9")
        status[cancelled] = "CANCELLED"
        status[paid] = "PAID"
        status[shipped] = "SHIPPED"
        status[delivered] = "DELIVERED"

        orders = Chunk("orders", [order_ids, customer, placed // DAY, status, subtotal, tax, shipping, total])
        item_ids = self.bases.order_items + (first + owner) * r.max_items_per_order + line_no + 1
        items = Chunk(
            "order_items",
            [item_ids, order_ids[owner], self.bases.products + 1 + product, quantity, unit_price, line_total],
        )
        p = np.flatnonzero(paid)
        payment_ids = self.bases.payments + 1 + index[p]
        payments = Chunk(
            "payments",
            [payment_ids, order_ids[p], _text([m for m, _ in self.methods])[method[p]], total[p],
             np.full(len(p), r.currency), paid_at[p],
             _joined("T", _padded(reference[p], 7), _padded(payment_ids, 10))],
        )  # fmt: skip
        s = np.flatnonzero(shipped)
        shipment_ids = self.bases.shipments + 1 + index[s]
        carrier_names = _text([c for c, _ in self.carriers])
        prefix = _text(np.strings.upper(np.strings.slice(carrier_names, 0, 2)).tolist())[carrier[s]]  # compact
        tracking = _joined(prefix, _padded(shipment_ids, 10), _padded(reference[s] % 1000, 3))
        shipments = Chunk(
            "shipments",
            [shipment_ids, order_ids[s], carrier_names[carrier[s]], tracking, shipped_at[s],
             np.where(delivered[s], delivered_at[s], -1), np.where(delivered[s], "DELIVERED", "IN_TRANSIT")],
        )  # fmt: skip
        line_delivered = np.where(delivered[owner], delivered_at[owner], -1)
        returns = self._returns(block, items, line_delivered)
        return OrderBlock(block, orders, items, payments, shipments, returns)

    def _returns(self, block: int, items: Chunk, delivered_at: np.ndarray) -> Chunk:
        """Lines of delivered orders sent back within the window after delivery, and their refunds.

        A line comes back at most once: its return's id is the line's place in the run, as its own id is. The
        refund is the goods returned (units × unit price) plus the tax on them rounded down to the cent, never
        the shipping fee: an order's refunds never exceed what was paid for it. A return after the window's end
        is not made; one whose refund would fall after it is received but not refunded (``refunded_at`` NULL).
        """
        rng = _rng(self.seed, STREAM_RETURNS, block)
        chance, whole, part, reason, back, refund_after = rng.random((6, len(items)))
        product = items.columns[2] - self.bases.products - 1
        returned_at = delivered_at + DAY + (back * (RETURN_WINDOW_DAYS - 1) * DAY).astype(np.int64)
        kept = (delivered_at >= 0) & (chance < self.return_chance[product]) & (returned_at <= self.as_of)
        r = np.flatnonzero(kept)
        quantity = items.columns[3][r]
        partly = 1 + (part[r] * np.maximum(quantity - 1, 1)).astype(np.int64)  # 1 … quantity - 1
        quantity = np.where((whole[r] < FULL_RETURN) | (quantity == 1), quantity, np.minimum(partly, quantity))
        goods = quantity * items.columns[4][r]
        refund = goods + goods * round(self.request.tax_rate * 10_000) // 10_000
        low, high = REFUND_DAYS
        refunded_at = returned_at[r] + ((low + refund_after[r] * (high - low)) * DAY).astype(np.int64)
        return_ids = items.columns[0][r] - self.bases.order_items + self.bases.returns  # the line's place in the run
        return Chunk(
            "returns",
            [return_ids, items.columns[1][r], items.columns[0][r], items.columns[2][r], quantity, refund,
             _text(RETURN_REASONS)[_pick(_cdf(REASON_WEIGHTS), reason[r])],
             returned_at[r], np.where(refunded_at <= self.as_of, refunded_at, -1)],
        )  # fmt: skip


def _category_words(kind: str, category: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """For each product, one of its category's ``kind`` of words (nouns, adjectives or variants), chosen by a
    uniform draw in [0, 1)."""
    lists = [getattr(c, kind) for c in CATEGORIES]
    offsets = np.cumsum([0, *(len(words) for words in lists)])
    sizes = np.diff(offsets)
    flat = _text([word for words in lists for word in words])
    return flat[offsets[category] + np.minimum((draws * sizes[category]).astype(np.int64), sizes[category] - 1)]


def _within_stock(product: np.ndarray, quantity: np.ndarray, caps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lines that would sell a product past its allowance move to the product with most left (rare)."""
    demand = np.bincount(product, weights=quantity, minlength=len(caps))
    if not (demand > caps).any():
        return product, quantity
    product, quantity = product.copy(), quantity.copy()
    order = np.argsort(product, kind="stable")
    sorted_product = product[order]
    running = np.cumsum(quantity[order])
    group_start = np.searchsorted(sorted_product, sorted_product)  # first position of each line's product
    before = np.concatenate(([0], running))[group_start]
    over = order[(running - before) > caps[sorted_product]]
    kept = np.ones(len(product), dtype=bool)
    kept[over] = False
    left = caps - np.bincount(product[kept], weights=quantity[kept], minlength=len(caps)).astype(np.int64)
    for line in np.sort(over):
        target = int(np.argmax(left))
        quantity[line] = min(int(quantity[line]), int(left[target]))
        if quantity[line] <= 0:
            raise RuntimeError("the products' stock allowance is exhausted")  # caps are ~2x demand
        product[line] = target
        left[target] -= quantity[line]
    return product, quantity

"""The read questions every data source answers (CSV in memory, the seed 000 APIs, SQL).

The revenue services and the MCP tools depend only on these protocols, so the same tool code
reads the bundled CSV files, the two REST APIs over HTTP, or a database in process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal, NamedTuple, Protocol, get_args, runtime_checkable

from salesmcp.models import CityRevenuePage, Customer, Revenue, Sale

OrderKey = Literal["custid", "revenue", "sales_count"]
ORDER_KEYS: tuple[OrderKey, ...] = get_args(OrderKey)


def city_key(city: str) -> str:
    """Cities match case-insensitively (Unicode lower case, as SQL's lower()) ignoring surrounding spaces."""
    return city.strip().lower()


class CustomerOrder(NamedTuple):
    """The order of a city's customer list: by custid, revenue or sales_count, ascending or descending;
    customers that tie are listed by custid."""

    key: OrderKey = "custid"
    descending: bool = False

    def sort(self, rows: Iterable[tuple[Customer, Revenue]]) -> list[tuple[Customer, Revenue]]:
        """``rows`` in this order (what a database's ORDER BY does, for sources that have no database)."""
        by_custid = sorted(rows, key=lambda row: row[0].custid, reverse=self.key == "custid" and self.descending)
        if self.key == "revenue":
            by_custid.sort(key=lambda row: row[1].amount, reverse=self.descending)  # stable: ties stay by custid
        elif self.key == "sales_count":
            by_custid.sort(key=lambda row: row[1].count, reverse=self.descending)
        return by_custid


BY_CUSTID = CustomerOrder()


@runtime_checkable
class CustomerReader(Protocol):
    def customer(self, custid: str) -> Customer | None:
        """The customer with this custid, or None."""
        ...

    def customers_in_city(self, city: str) -> list[Customer]:
        """Customers of a city (see ``city_key``), sorted by custid."""
        ...


@runtime_checkable
class SalesReader(Protocol):
    def sales_between(self, start: dt.date, end: dt.date, custids: Sequence[str] | None = None) -> Iterable[Sale]:
        """Sales with start <= date <= end, sorted by date then ordid; only ``custids`` if given.

        May be produced lazily (a large range is never held in memory at once): iterate it once.
        """
        ...

    def revenue_by_customer(self, start: dt.date, end: dt.date, custids: Sequence[str]) -> dict[str, Revenue]:
        """Sum and count of the sales of each given customer in the period (absent: no sales)."""
        ...


@runtime_checkable
class RevenueSource(CustomerReader, SalesReader, Protocol):
    """Everything the revenue tools need."""

    def city_revenue(
        self,
        city: str,
        start: dt.date,
        end: dt.date,
        order: CustomerOrder = BY_CUSTID,
        limit: int | None = None,
        offset: int = 0,
    ) -> CityRevenuePage:
        """The city's customer count and revenue in the period, and its customers in ``order`` with their
        revenue (no sales: zero): ``limit`` of them (None: all) after the first ``offset``."""
        ...


class _CustomersAndSales(CustomerReader, SalesReader, Protocol):
    """What CityRevenueFromParts needs of the class it is mixed into."""


class CityRevenueFromParts:
    """``city_revenue`` answered by the two questions every source has; a database does it in SQL.

    The totals need every customer's revenue, so all of them are asked for (for the APIs: the city's
    customers, and one summary row per customer with sales, never the sales themselves), then ordered and cut.
    """

    def city_revenue(
        self: _CustomersAndSales,
        city: str,
        start: dt.date,
        end: dt.date,
        order: CustomerOrder = BY_CUSTID,
        limit: int | None = None,
        offset: int = 0,
    ) -> CityRevenuePage:
        customers = sorted(self.customers_in_city(city), key=lambda c: c.custid)
        if not customers:
            return CityRevenuePage(None, 0, Revenue(), [])
        revenues = self.revenue_by_customer(start, end, [c.custid for c in customers])
        rows = [(c, revenues.get(c.custid, Revenue())) for c in customers]
        total = Revenue(sum((r.amount for _, r in rows), Decimal(0)), sum(r.count for _, r in rows))
        end_at = None if limit is None else offset + limit
        return CityRevenuePage(customers[0].city, len(rows), total, order.sort(rows)[offset:end_at])

"""The read questions every data source answers (CSV in memory, the seed 000 APIs, SQL).

The revenue services and the MCP tools depend only on these protocols, so the same tool code
reads the bundled CSV files, the two REST APIs over HTTP, or a database in process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from salesmcp.models import Customer, Revenue, Sale


def city_key(city: str) -> str:
    """Cities match case-insensitively (Unicode lower case, as SQL's lower()) ignoring surrounding spaces."""
    return city.strip().lower()


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

    def city_revenue(self, city: str, start: dt.date, end: dt.date) -> list[tuple[Customer, Revenue]]:
        """Every customer of a city, sorted by custid, with its revenue in the period (no sales: zero)."""
        ...


class _CustomersAndSales(CustomerReader, SalesReader, Protocol):
    """What CityRevenueFromParts needs of the class it is mixed into."""


class CityRevenueFromParts:
    """``city_revenue`` answered by the two questions every source has; a database does it in one query."""

    def city_revenue(
        self: _CustomersAndSales, city: str, start: dt.date, end: dt.date
    ) -> list[tuple[Customer, Revenue]]:
        customers = self.customers_in_city(city)
        if not customers:
            return []
        revenues = self.revenue_by_customer(start, end, [c.custid for c in customers])
        return [(c, revenues.get(c.custid, Revenue())) for c in sorted(customers, key=lambda c: c.custid)]

"""Revenue rules of seed 000: one customer, or every customer of a city, over an inclusive period."""

from __future__ import annotations

from decimal import Decimal

from salesmcp.dates import parse_period
from salesmcp.errors import InvalidInput
from salesmcp.models import CityRevenue, CustomerRevenue, CustomerRevenueLine, Revenue
from salesmcp.store.base import RevenueSource

NO_SALES = Revenue()


def customer_revenue(source: RevenueSource, custid: str, start: object, end: object) -> CustomerRevenue:
    """Revenue and number of sales of one customer; ``{}`` when the customer is unknown."""
    first, last = parse_period(start, end)
    custid = _required(custid, "cust_id")
    customer = source.customer(custid)
    if customer is None:
        return {}
    revenue = source.revenue_by_customer(first, last, [custid]).get(custid, NO_SALES)
    return {
        "custid": customer.custid,
        "custname": customer.custname,
        "city": customer.city,
        "revenue": revenue.amount,
        "sales_count": revenue.count,
    }


def city_revenue(source: RevenueSource, city: str, start: object, end: object) -> CityRevenue:
    """Revenue of every customer of a city, customers without sales included with 0, sorted by custid.

    An unknown city gives zero totals and no customers.
    """
    first, last = parse_period(start, end)
    city = _required(city, "city")
    rows = source.city_revenue(city, first, last)
    lines: list[CustomerRevenueLine] = []
    for customer, revenue in rows:
        lines.append(
            {
                "custid": customer.custid,
                "custname": customer.custname,
                "revenue": revenue.amount,
                "sales_count": revenue.count,
            }
        )
    return {
        "city": rows[0][0].city if rows else city.strip(),
        "total_revenue": sum((line["revenue"] for line in lines), Decimal(0)),
        "customer_count": len(lines),
        "customers": lines,
    }


def _required(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required and must be a non-empty string")
    return value.strip()

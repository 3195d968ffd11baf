"""Revenue rules of seed 000: one customer, or every customer of a city, over an inclusive period."""

from __future__ import annotations

from salesmcp.dates import parse_period
from salesmcp.errors import InvalidInput
from salesmcp.models import CityRevenue, CustomerRevenue, CustomerRevenueLine, Revenue, compact_json, json_ready
from salesmcp.paging import page_window
from salesmcp.store.base import ORDER_KEYS, CustomerOrder, RevenueSource

NO_SALES = Revenue()
# A city's answer is read by a model: its customer list is cut so that the text stays within 32 KB.
DEFAULT_CITY_LIMIT = 200  # customers listed by default: about 16 KB of text with names as the generator makes
MAX_CITY_LIMIT = 300  # about 25 KB of such text
ANSWER_BYTES = 30_000  # and whatever the names, the whole answer's text (compact JSON, UTF-8) stays within this
# "custid" (the seed's order), "-revenue" (highest first), ...: a name, or "-" and a name for descending.
CITY_ORDERS = {f"{sign}{key}": CustomerOrder(key, sign == "-") for key in ORDER_KEYS for sign in ("", "-")}


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


def city_revenue(
    source: RevenueSource,
    city: str,
    start: object,
    end: object,
    limit: int = DEFAULT_CITY_LIMIT,
    order_by: str = "custid",
    offset: int = 0,
) -> CityRevenue:
    """Revenue of the customers of a city, customers without sales included with 0, sorted by custid
    (or ``order_by``); an unknown city gives zero totals and no customers.

    ``total_revenue`` and ``customer_count`` cover the whole city; the list holds at most ``limit``
    customers after the first ``offset``, fewer if its text would pass ANSWER_BYTES. A list that does
    not hold the whole city says so: ``truncated``, ``shown`` and ``offset``.
    """
    first, last = parse_period(start, end)
    city = _required(city, "city")
    limit = _limit(limit)
    order = _order(order_by)
    offset = page_window(offset=offset).offset  # the offset rule of every list
    page = source.city_revenue(city, first, last, order, limit, offset)
    lines: list[CustomerRevenueLine] = [
        {
            "custid": customer.custid,
            "custname": customer.custname,
            "revenue": revenue.amount,
            "sales_count": revenue.count,
        }
        for customer, revenue in page.lines
    ]
    answer: CityRevenue = {
        "city": page.city if page.city is not None else city,
        "total_revenue": page.total.amount,
        "customer_count": page.customer_count,
        "customers": lines,
    }
    shown = _lines_that_fit(answer, offset)
    if shown < page.customer_count:
        answer = {
            "city": answer["city"],
            "total_revenue": answer["total_revenue"],
            "customer_count": answer["customer_count"],
            "truncated": True,
            "shown": shown,
            "offset": offset,
            "customers": lines[:shown],
        }
    return answer


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("limit", "must be a whole number")
    if not 1 <= value <= MAX_CITY_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_CITY_LIMIT}; got {value}")
    return value


def _order(value: object) -> CustomerOrder:
    order = CITY_ORDERS.get(value) if isinstance(value, str) else None
    if order is None:
        raise InvalidInput("order_by", f"must be one of {', '.join(CITY_ORDERS)}; got {value!r}")
    return order


def _lines_that_fit(answer: CityRevenue, offset: int) -> int:
    """How many of the answer's customers fit in its text (compact JSON, UTF-8) of at most ANSWER_BYTES.

    Measured with the keys of a cut answer, so that adding them can never push it over.
    """
    lines = answer["customers"]
    head: CityRevenue = {**answer, "truncated": True, "shown": len(lines), "offset": offset, "customers": []}
    room = ANSWER_BYTES - _size(json_ready(CityRevenue, head))
    texts = json_ready(list[CustomerRevenueLine], lines)
    if _size(texts) - len("[]") <= room:
        return len(lines)
    used = -1  # no comma before the first line
    for shown, line in enumerate(texts):
        used += 1 + _size(line)
        if used > room:
            return shown
    return len(lines)


def _size(data: object) -> int:
    return len(compact_json(data).encode())


def _required(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required and must be a non-empty string")
    return value.strip()

"""Seed 000's topology: customers and sales read from the two REST APIs over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from salesmcp.dates import from_compact
from salesmcp.errors import Unavailable
from salesmcp.models import Customer, Revenue, Sale, compact_date
from salesmcp.store.base import CityRevenueFromParts

CUSTIDS_PER_REQUEST = 500


class ApiSource(CityRevenueFromParts):
    """A RevenueSource backed by cust_server (customers) and sales_server (sales)."""

    def __init__(self, customer_api_url: str, sales_api_url: str, timeout: float = 10.0) -> None:
        self.customer_api_url = customer_api_url.rstrip("/")
        self.sales_api_url = sales_api_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _get(self, base: str, path: str, params: Any, starter: str) -> Any:
        url = base + path
        try:
            response = self._http.get(url, params=params)
        except httpx.TimeoutException:
            raise Unavailable(f"{base} did not answer in time ({url}); is `{starter}` running?") from None
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach {base} ({type(exc).__name__}); start it with `{starter}` "
                "(or `salesmcp up` for both APIs)"
            ) from None
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            raise Unavailable(f"{url} answered HTTP {response.status_code}: {message}")
        # Money stays exact: JSON numbers with a fraction are read as Decimal, not float.
        return json.loads(response.content, parse_float=Decimal)

    def _customers_api(self, path: str) -> Any:
        return self._get(self.customer_api_url, path, None, "python cust_server.py")

    def _sales_api(self, path: str, params: dict[str, str]) -> Any:
        return self._get(self.sales_api_url, path, params, "python sales_server.py")

    def customer(self, custid: str) -> Customer | None:
        data = self._customers_api(f"/customer/{quote(custid, safe='')}")
        return Customer(data["custid"], data["custname"], data["city"]) if data else None

    def customers_in_city(self, city: str) -> list[Customer]:
        data = self._customers_api(f"/customers/city/{quote(city, safe='')}")
        return [Customer(d["custid"], d["custname"], d["city"]) for d in data]

    @staticmethod
    def _period(start: dt.date, end: dt.date) -> dict[str, str]:
        return {"start_date": compact_date(start), "end_date": compact_date(end)}

    def sales_between(self, start: dt.date, end: dt.date, custids: Sequence[str] | None = None) -> list[Sale]:
        params = self._period(start, end)
        if custids is not None:
            if not custids:
                return []
            params["custid"] = ",".join(custids)
        return [
            Sale(
                int(d["ordid"]),
                d["custid"],
                from_compact(d["orddate"]),
                Decimal(d["ordamount"]),
            )
            for d in self._sales_api("/sales", params)
        ]

    def revenue_by_customer(self, start: dt.date, end: dt.date, custids: Sequence[str]) -> dict[str, Revenue]:
        """Asks the sales API to sum per customer, so only one row per customer crosses the wire."""
        result: dict[str, Revenue] = {}
        unique = list(dict.fromkeys(custids))
        for i in range(0, len(unique), CUSTIDS_PER_REQUEST):
            params = self._period(start, end) | {"custid": ",".join(unique[i : i + CUSTIDS_PER_REQUEST])}
            for row in self._sales_api("/sales/revenue", params):
                result[row["custid"]] = Revenue(Decimal(row["revenue"]), int(row["sales_count"]))
        return result

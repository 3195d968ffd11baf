"""The seed 000 CSV files, loaded once and held in memory with indexes.

Customers are few and kept as records indexed by custid and by city. Sales can be millions,
so they are kept as numpy columns sorted by (date, ordid): a date range is two binary searches,
and a per-customer copy of the dates with running sums of the amounts answers one customer's
revenue over any period in O(log n) without touching its sales one by one.
"""

from __future__ import annotations

import csv
import datetime as dt
from array import array
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from salesmcp.dates import from_compact
from salesmcp.errors import DataFileError
from salesmcp.malloc_tuning import release_free_memory
from salesmcp.models import Customer, Revenue, Sale
from salesmcp.store.base import CityRevenueFromParts, city_key

CUSTOMER_COLUMNS = ("custid", "custname", "city")
SALES_COLUMNS = ("ordid", "custid", "orddate", "ordamount")
AMOUNT_SCALE = 4  # amounts are held as integers of 1/10_000: exact, like DECIMAL(19, 4)
_UNIT = 10**AMOUNT_SCALE
CHUNK = 10_000  # sales made into objects at a time


def _rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, values in ``columns`` order) for each data row of a CSV file."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataFileError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in columns if name not in header]
        if missing:
            raise DataFileError(f"{path}: header must name {', '.join(columns)}; missing {', '.join(missing)}")
        where = [header.index(name) for name in columns]
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                yield lineno, [row[i].strip() for i in where]
            except IndexError:
                raise DataFileError(f"{path}, line {lineno}: expected {len(header)} fields") from None


class CsvCustomers:
    """customers.csv in memory, indexed by custid and by city."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_id: dict[str, Customer] = {}
        self._by_city: dict[str, list[Customer]] = {}
        for lineno, (custid, custname, city) in _rows(path, CUSTOMER_COLUMNS):
            if not custid:
                raise DataFileError(f"{path}, line {lineno}: custid is empty")
            if custid in self._by_id:
                raise DataFileError(f"{path}, line {lineno}: custid {custid!r} appears twice")
            customer = Customer(custid, custname, city)
            self._by_id[custid] = customer
            self._by_city.setdefault(city_key(city), []).append(customer)
        for members in self._by_city.values():
            members.sort(key=lambda c: c.custid)

    def __len__(self) -> int:
        return len(self._by_id)

    def customer(self, custid: str) -> Customer | None:
        return self._by_id.get(custid)

    def customers_in_city(self, city: str) -> list[Customer]:
        return list(self._by_city.get(city_key(city), ()))


def _parse_amount(text: str, path: Path, lineno: int) -> int:
    """An amount as an integer of 1/10_000; plain decimals take a fast path, anything else Decimal."""
    whole, dot, fraction = text.partition(".")
    digits = whole[1:] if whole[:1] in "+-" else whole
    if (digits.isdigit() or (dot and not digits)) and (not dot or (fraction.isdigit() and len(fraction) <= 4)):
        value = int(digits or 0) * _UNIT + (int(fraction.ljust(AMOUNT_SCALE, "0")) if fraction else 0)
        return -value if whole[:1] == "-" else value
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DataFileError(f"{path}, line {lineno}: ordamount {text!r} is not a number") from None
    exponent = amount.as_tuple().exponent  # a letter (n, N or F) for NaN and infinity
    if not isinstance(exponent, int) or exponent < -AMOUNT_SCALE:
        raise DataFileError(f"{path}, line {lineno}: ordamount {text!r} has more than 4 decimals")
    return int(amount.scaleb(AMOUNT_SCALE))


def _narrow(column: np.ndarray) -> np.ndarray:
    """int32 instead of int64 when every value fits: ids and amounts usually do (half the memory)."""
    info = np.iinfo(np.int32)
    if len(column) == 0 or (info.min <= column.min() and column.max() <= info.max):
        return column.astype(np.int32)
    return column


def _date_number(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


class CsvSales:
    """sales.csv in memory as sorted numpy columns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ordids, cust, dates, amounts = array("q"), array("i"), array("i"), array("q")
        self._custids: list[str] = []
        index: dict[str, int] = {}
        checked_dates: dict[str, int] = {}
        for lineno, (ordid, custid, orddate, amount) in _rows(path, SALES_COLUMNS):
            day = checked_dates.get(orddate)
            if day is None:
                day = checked_dates[orddate] = self._check_date(orddate, path, lineno)
            if not ordid.isdigit():
                raise DataFileError(f"{path}, line {lineno}: ordid {ordid!r} is not a whole number")
            position = index.get(custid)
            if position is None:
                position = index[custid] = len(self._custids)
                self._custids.append(custid)
            ordids.append(int(ordid))
            cust.append(position)
            dates.append(day)
            amounts.append(_parse_amount(amount, path, lineno))
        self._index = index

        order = np.lexsort((np.frombuffer(ordids, np.int64), np.frombuffer(dates, np.int32)))
        self._ordid = _narrow(np.frombuffer(ordids, np.int64)[order])
        self._cust = np.frombuffer(cust, np.int32)[order]
        self._date = np.frombuffer(dates, np.int32)[order]
        self._amount = _narrow(np.frombuffer(amounts, np.int64)[order])
        del ordids, cust, dates, amounts, order

        # The rows again, ordered by (customer, date): _by_cust[i] is a row, _cust_key[i] its
        # customer << 32 | date, so one customer's rows in a period are one binary search away,
        # for any number of customers at once; _cust_running holds running sums of the amounts.
        self._by_cust = np.argsort(self._cust, kind="stable").astype(np.int32)
        self._cust_key = (self._cust[self._by_cust].astype(np.int64) << 32) | self._date[self._by_cust]
        self._cust_running = np.concatenate(([0], np.cumsum(self._amount[self._by_cust], dtype=np.int64)))
        release_free_memory()  # the load's temporary arrays
        self._day_cache: dict[int, dt.date] = {}

    @staticmethod
    def _check_date(text: str, path: Path, lineno: int) -> int:
        try:
            day = from_compact(text)
        except ValueError:
            raise DataFileError(f"{path}, line {lineno}: orddate {text!r} is not a yyyymmdd date") from None
        return _date_number(day)

    def __len__(self) -> int:
        return len(self._ordid)

    def _day(self, number: int) -> dt.date:
        day = self._day_cache.get(number)
        if day is None:
            day = self._day_cache[number] = dt.date(number // 10_000, number // 100 % 100, number % 100)
        return day

    def _bounds(self, custids: Sequence[str], first: int, last: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """For the known custids: where their rows dated first..last start and end in the _by_cust order."""
        known = [custid for custid in dict.fromkeys(custids) if custid in self._index]
        positions = np.fromiter((self._index[c] for c in known), np.int64, len(known)) << 32
        lo = np.searchsorted(self._cust_key, positions | first, "left")
        hi = np.searchsorted(self._cust_key, positions | last, "right")
        return known, lo, hi

    def sales_between(self, start: dt.date, end: dt.date, custids: Sequence[str] | None = None) -> Iterator[Sale]:
        """The sales, made CHUNK rows at a time: a year of a million sales never sits in memory as objects."""
        first, last = _date_number(start), _date_number(end)
        if custids is None:
            lo = int(np.searchsorted(self._date, first, "left"))
            hi = int(np.searchsorted(self._date, last, "right"))
            rows = np.arange(lo, hi)
        else:
            _, starts, ends = self._bounds(custids, first, last)
            parts = [self._by_cust[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b > a]
            rows = np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int32)
        return self._sales_at(rows)

    def _sales_at(self, rows: np.ndarray) -> Iterator[Sale]:
        custids_by_position, day = self._custids, self._day
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i : i + CHUNK]
            yield from (
                Sale(ordid, custids_by_position[c], day(d), Decimal(a).scaleb(-AMOUNT_SCALE))
                for ordid, c, d, a in zip(
                    self._ordid[chunk].tolist(),
                    self._cust[chunk].tolist(),
                    self._date[chunk].tolist(),
                    self._amount[chunk].tolist(),
                    strict=True,
                )
            )

    def revenue_by_customer(self, start: dt.date, end: dt.date, custids: Sequence[str]) -> dict[str, Revenue]:
        known, lo, hi = self._bounds(custids, _date_number(start), _date_number(end))
        totals = (self._cust_running[hi] - self._cust_running[lo]).tolist()
        counts = (hi - lo).tolist()
        return {
            custid: Revenue(Decimal(total).scaleb(-AMOUNT_SCALE), count)
            for custid, total, count in zip(known, totals, counts, strict=True)
            if count
        }


class CsvStore(CityRevenueFromParts):
    """Both CSV files: the in-process source for the revenue tools."""

    def __init__(self, customers_csv: Path, sales_csv: Path) -> None:
        self.customers = CsvCustomers(customers_csv)
        self.sales = CsvSales(sales_csv)

    def customer(self, custid: str) -> Customer | None:
        return self.customers.customer(custid)

    def customers_in_city(self, city: str) -> list[Customer]:
        return self.customers.customers_in_city(city)

    def sales_between(self, start: dt.date, end: dt.date, custids: Sequence[str] | None = None) -> Iterator[Sale]:
        return self.sales.sales_between(start, end, custids)

    def revenue_by_customer(self, start: dt.date, end: dt.date, custids: Sequence[str]) -> dict[str, Revenue]:
        return self.sales.revenue_by_customer(start, end, custids)

"""``query_metrics`` and ``dimension_values``: questions asked of the catalogue, answered exactly by the database,
bounded for a model (every default answer ≤ 32 KB of text, with an honest ``truncated``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from salesmcp.dates import check_period, parse_optional_date
from salesmcp.errors import InvalidInput
from salesmcp.models import money_json
from salesmcp.services.analytics import sql
from salesmcp.services.analytics.catalogue import (
    DIMENSIONS,
    ITEM,
    ITEM_METRICS,
    METRICS,
    ORDER,
    WEEKDAYS,
    Level,
    Metric,
)
from salesmcp.store.replica import Reading
from salesmcp.store.schema import orders
from salesmcp.store.sql_store import SqlStore

MAX_TEXT = 32 * 1024  # the most text one answer may hold
DEFAULT_LIMIT = 100  # groups in an answer unless asked otherwise
MAX_LIMIT = 1000
MAX_FILTER_VALUES = 100
COMPARES = ("previous_period", "previous_year")
# The parts that add up over groups (a customer may be counted in several groups: "customers" does not).
ADDITIVE_PARTS = frozenset(sql.PARTS) - {"customers"}


def _names(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(field, "must be a name or a list of names")
    return value


def _limit(value: object) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return value


class Plan:
    """A checked question: which metrics, grouped and filtered how, over which window, in which order."""

    def __init__(
        self,
        metrics: object,
        group_by: object = None,
        filters: object = None,
        start_date: object = None,
        end_date: object = None,
        order_by: object = None,
        limit: object = None,
        compare: object = None,
        show_sql: object = False,
    ) -> None:
        self.metrics = _names(metrics, "metrics")
        if not self.metrics:
            raise InvalidInput("metrics", f"name at least one metric: {', '.join(METRICS)}")
        for name in self.metrics:
            if name not in METRICS:
                raise InvalidInput("metrics", f"unknown metric {name!r}; the metrics are {', '.join(METRICS)}")
        levels = {METRICS[name].level for name in self.metrics}
        if len(levels) > 1:
            items = [name for name in self.metrics if METRICS[name].level == ITEM]
            raise InvalidInput("metrics", f"{', '.join(items)} count order lines and the others count orders: "
                               "ask for them in separate queries")  # fmt: skip
        self.level: Level = levels.pop()
        self.group_by = _names(group_by, "group_by")
        if len(set(self.group_by)) != len(self.group_by) or len(self.group_by) > 3:
            raise InvalidInput("group_by", "name at most three different dimensions")
        self.filters = self._filters(filters)
        for name in [*self.group_by, *self.filters]:
            field = "group_by" if name in self.group_by else "filters"
            self._check_dimension(name, field)
        self.start = parse_optional_date(start_date, "start_date")
        self.end = parse_optional_date(end_date, "end_date")
        check_period(self.start, self.end)
        self.order_by, self.descending = self._order(order_by)
        self.limit = _limit(limit)
        if compare is not None and compare not in COMPARES:
            raise InvalidInput("compare", f"must be one of {', '.join(COMPARES)}")
        if compare is not None and (self.start is None or self.end is None):
            raise InvalidInput("compare", "needs start_date and end_date: the window to compare")
        self.compare = compare
        if not isinstance(show_sql, bool):
            raise InvalidInput("show_sql", "must be true or false")
        self.show_sql = show_sql

    def _check_dimension(self, name: str, field: str) -> None:
        dimension = DIMENSIONS.get(name)
        if dimension is None:
            raise InvalidInput(field, f"unknown dimension {name!r}; the dimensions are {', '.join(DIMENSIONS)}")
        if self.level not in dimension.levels:
            order_metrics = ", ".join(m for m in self.metrics if METRICS[m].level == ORDER)
            raise InvalidInput(field, f"{order_metrics} cannot be split by {name}: an order has lines of many "
                               f"{name} values; ask for {' or '.join(ITEM_METRICS)} by {name} instead")  # fmt: skip

    @staticmethod
    def _filters(value: object) -> dict[str, list[str | None]]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise InvalidInput("filters", "must be an object mapping a dimension to a value or a list of values")
        found: dict[str, list[str | None]] = {}
        for name, wanted in value.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if not values or len(values) > MAX_FILTER_VALUES:
                raise InvalidInput("filters", f"{name}: give 1 to {MAX_FILTER_VALUES} values")
            if not all(item is None or isinstance(item, str | int) and not isinstance(item, bool) for item in values):
                raise InvalidInput("filters", f"{name}: values must be text (or null for 'none')")
            found[str(name)] = [None if item is None else str(item) for item in values]
        return found

    def _order(self, value: object) -> tuple[str | None, bool]:
        if value is None:
            return None, False
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput("order_by", "must be a metric or dimension name, with '-' in front for descending")
        name = value.strip()
        descending = name.startswith("-")
        name = name.lstrip("-")
        if name not in self.metrics and name not in self.group_by:
            raise InvalidInput("order_by", f"{name!r} is not one of this query's metrics or group_by dimensions")
        return name, descending


def _decimal(raw: object) -> Decimal:
    if raw is None:
        return Decimal(0)
    return raw if isinstance(raw, Decimal) else Decimal(str(raw))


def metric_value(metric: Metric, parts: Mapping[str, Any]) -> Decimal | int | None:
    """A metric from its parts: exact sums, ratios rounded half up; None for a ratio over nothing."""
    numerator = _decimal(parts[metric.numerator]) * metric.scale
    if metric.denominator is not None:
        denominator = _decimal(parts[metric.denominator])
        if denominator == 0:
            return None
        numerator = numerator / denominator
    if metric.decimals is None:
        return int(numerator)
    return numerator.quantize(Decimal(1).scaleb(-metric.decimals), rounding=ROUND_HALF_UP)


def _json_number(value: Decimal | int | None) -> float | int | None:
    if isinstance(value, Decimal):
        return money_json(value)
    return value


def _sort_key(metric: Metric, parts: Mapping[str, ColumnElement]) -> ColumnElement:
    if metric.denominator is None:
        return parts[metric.numerator]
    return parts[metric.numerator] * 1.0 / func.nullif(parts[metric.denominator], 0)


def _dimension_value(name: str, raw: object) -> object:
    if raw is None:
        return None
    if name == "weekday":
        return WEEKDAYS[int(str(raw))]
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw)


def _filter_condition(name: str, expression: ColumnElement, values: list[str | None]) -> ColumnElement[bool]:
    given = [value for value in values if value is not None]
    conditions: list[ColumnElement[bool]] = []
    if name == "weekday":
        lowered = [day.lower() for day in WEEKDAYS]
        unknown = [value for value in given if value.strip().lower() not in lowered]
        if unknown:
            raise InvalidInput("filters", f"weekday: {unknown[0]!r} is not a day name (Monday … Sunday)")
        conditions.append(expression.in_([lowered.index(value.strip().lower()) for value in given]))
    elif name == "day":
        days = [parse_optional_date(value, "filters") for value in given]
        conditions.append(expression.in_([day for day in days if day is not None]))
    elif given:
        conditions.append(func.lower(expression).in_([value.strip().lower() for value in given]))
    if None in values:
        conditions.append(expression.is_(None))
    return or_(*conditions)


class Compiled:
    """The SELECT of a plan on one dialect: one row per group, with every part and the number of groups."""

    def __init__(self, plan: Plan, dialect: str, count_apart: bool = False) -> None:
        source = sql.From(plan.level, dialect=dialect)
        for name in [*plan.group_by, *plan.filters]:
            source.needs |= sql.DIMENSION_SQL[name].needs
        part_names = sorted({part for m in plan.metrics for part in _parts_of(METRICS[m])})
        for part in part_names:
            source.needs |= sql.PARTS[part].needs
        clause = source.clause()
        self.parts = {name: sql.PARTS[name].build(dialect, source.firsts).label(name) for name in part_names}
        self.dimensions: dict[str, ColumnElement] = {}
        names: dict[str, ColumnElement] = {}
        for name in plan.group_by:
            spec = sql.DIMENSION_SQL[name]
            self.dimensions[name] = spec.value(dialect).label(f"d_{name}")
            if spec.name is not None and DIMENSIONS[name].name_field:
                names[DIMENSIONS[name].name_field or name] = spec.name.label(f"n_{name}")
        window: list[ColumnElement[bool]] = []
        if plan.start is not None:
            window.append(orders.c.order_date >= plan.start)
        if plan.end is not None:
            window.append(orders.c.order_date <= plan.end)
        filtered: list[tuple[str | None, ColumnElement[bool]]] = [
            (name, _filter_condition(name, sql.DIMENSION_SQL[name].value(dialect), values))
            for name, values in plan.filters.items()
        ]
        where = [*window, *(condition for _, condition in filtered)]
        self.two_step = dialect == "duckdb" and "customers" not in part_names
        if self.two_step:
            conditions: list[tuple[str | None, ColumnElement[bool]]] = [(None, condition) for condition in window]
            split = sql.pre_aggregated(plan.level, plan.group_by, part_names, source.needs, conditions + filtered)
            clause, self.parts, where = split.clause, split.parts, []
            self.dimensions = {name: sql.moved_to(value, split.moved) for name, value in self.dimensions.items()}
            names = {name: sql.moved_to(value, split.moved) for name, value in names.items()}
        self.names = names
        keys = [sql.DIMENSION_SQL[name].key(dialect) for name in plan.group_by]
        if self.two_step:
            keys = [None if key is None else sql.moved_to(key, split.moved) for key in keys]
        group_columns = [
            *(key if key is not None else value for key, value in zip(keys, self.dimensions.values(), strict=True)),
            *names.values(),
        ]
        columns: list[ColumnElement] = [*self.dimensions.values(), *names.values(), *self.parts.values()]
        # The number of groups: a window over the groups (one pass). DuckDB holds such a window in memory, and
        # millions of groups outgrew 1 GB: then the groups are counted apart, when the answer is cut.
        self.count_apart = count_apart and bool(plan.group_by)
        if plan.group_by and not self.count_apart:
            columns.append(func.count().over().label("total_groups"))
        statement: Select = select(*columns).select_from(clause).where(*where)
        if group_columns:
            statement = statement.group_by(*group_columns)
        self.groups: Select = select(func.count()).select_from(statement.subquery("groups"))
        self.totals: Select = select(*self.parts.values()).select_from(clause).where(*where)
        order: list[Any] = []
        if plan.order_by in METRICS:
            key = _sort_key(METRICS[plan.order_by], self.parts)
            order += [key.is_(None), key.desc() if plan.descending else key]
        elif plan.order_by is not None:
            dimension = self.dimensions[plan.order_by]
            order += [dimension.is_(None), dimension.desc() if plan.descending else dimension]
        for dimension in self.dimensions.values():  # "none" last on every database (they disagree by default)
            order += [dimension.is_(None), dimension]
        if order:
            statement = statement.order_by(*order)
        self.statement = statement.limit(plan.limit) if plan.group_by else statement
        if dialect == "duckdb" and not self.two_step:
            self.statement = sql.on_copy(self.statement, plan.level)
            self.totals = sql.on_copy(self.totals, plan.level)
            self.groups = sql.on_copy(self.groups, plan.level)


def _parts_of(metric: Metric) -> list[str]:
    return [metric.numerator, *([metric.denominator] if metric.denominator else [])]


def _row(plan: Plan, compiled: Compiled, row: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in plan.group_by:
        out[name] = _dimension_value(name, row[f"d_{name}"])
        field = DIMENSIONS[name].name_field
        if field:
            out[field] = row.get(f"n_{name}")
    for name in plan.metrics:
        out[name] = _json_number(metric_value(METRICS[name], row))
    return out


def previous_window(start: dt.date, end: dt.date, compare: str) -> tuple[dt.date, dt.date]:
    """The window a comparison looks at: the same length just before, or one year earlier."""
    try:
        if compare == "previous_year":
            return _year_earlier(start), _year_earlier(end)
        days = (end - start).days + 1
        return start - dt.timedelta(days=days), start - dt.timedelta(days=1)
    except (OverflowError, ValueError):
        raise InvalidInput(
            "compare", "the earlier window would begin before the year 1: choose a later window"
        ) from None


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def time_key(dimension: str, day: dt.date) -> str:
    """A day's value of a time dimension, as the SQL gives it."""
    if dimension == "day":
        return day.isoformat()
    if dimension == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if dimension == "month":
        return f"{day.year}-{day.month:02d}"
    if dimension == "quarter":
        return f"{day.year}-Q{(day.month + 2) // 3}"
    return str(day.year)


def _buckets(dimension: str, start: dt.date, end: dt.date) -> list[str]:
    """The time dimension's values over a window, in order."""
    seen: dict[str, None] = {}
    day = start
    while day <= end:
        seen.setdefault(time_key(dimension, day))
        day += dt.timedelta(days=1)
    return list(seen)


def _change_pct(current: object, previous: object) -> float | None:
    if not isinstance(current, int | float) or not isinstance(previous, int | float) or previous == 0:
        return None
    change = (Decimal(str(current)) - Decimal(str(previous))) / Decimal(str(previous)) * 100
    return float(change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _compared(plan: Plan, store: SqlStore, answer: dict[str, Any]) -> None:
    """Each metric of each row and of the totals gains ``<metric>_previous`` and ``<metric>_change_pct``: a row
    is compared with the row of the same values in the earlier window, time values at the same position."""
    assert plan.start is not None and plan.end is not None and plan.compare is not None
    first, last = previous_window(plan.start, plan.end, plan.compare)
    arguments = {"metrics": plan.metrics, "group_by": plan.group_by, "filters": plan.filters or None,
                 "start_date": first.isoformat(), "end_date": last.isoformat(), "limit": MAX_LIMIT}  # fmt: skip
    earlier: dict[str, Any] = query_metrics(store, **arguments)
    moved = {
        name: dict(zip(_buckets(name, first, last), _buckets(name, plan.start, plan.end), strict=False))
        for name in plan.group_by
        if DIMENSIONS[name].time
    }

    def key(row: Mapping[str, Any], shift: bool) -> tuple[object, ...]:
        return tuple(moved[name].get(row[name]) if shift and name in moved else row[name] for name in plan.group_by)

    previous_rows = {key(row, True): row for row in earlier["rows"]}
    for row, before in [(row, previous_rows.get(key(row, False), {})) for row in answer["rows"]] + [
        (answer["totals"], earlier["totals"])
    ]:
        for name in plan.metrics:
            row[f"{name}_previous"] = before.get(name)
            row[f"{name}_change_pct"] = _change_pct(row[name], before.get(name))
    answer["compare"] = {"with": plan.compare, "start_date": first.isoformat(), "end_date": last.isoformat()}


def _plain(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in row.items()}


def _text_size(answer: Mapping[str, object]) -> int:
    return len(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode())


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def query_metrics(store: SqlStore, **arguments: object) -> dict[str, Any]:
    """Ask the catalogue: ``metrics``, ``group_by``, ``filters``, ``start_date``, ``end_date``, ``order_by``,
    ``limit``, ``compare``, ``show_sql`` (see the tool's description). Raises InvalidInput naming the field."""
    plan = Plan(**arguments)
    with store.analytic_reading() as reading:
        connection = reading.connection
        compiled = Compiled(plan, reading.dialect)
        try:
            fetched = [_plain(row._mapping) for row in connection.execute(compiled.statement)]
        except DBAPIError as exc:
            if reading.dialect != "duckdb" or "out of memory" not in str(exc.orig).lower():
                raise
            connection.rollback()
            compiled = Compiled(plan, reading.dialect, count_apart=True)
            fetched = [_plain(row._mapping) for row in connection.execute(compiled.statement)]
        if compiled.count_apart and fetched:
            cut = len(fetched) >= plan.limit
            groups = int(connection.execute(compiled.groups).scalar_one()) if cut else len(fetched)
            for row in fetched:
                row["total_groups"] = groups
        every_group = plan.group_by and (not fetched or len(fetched) == int(fetched[0]["total_groups"]))
        if every_group and all(part in ADDITIVE_PARTS for part in compiled.parts):
            # Every group is here and each part adds up over groups: the totals are their sums (one scan, not two).
            totals_row = {part: sum((_decimal(row[part]) for row in fetched), Decimal(0)) for part in compiled.parts}
        else:
            totals_row = _plain(connection.execute(compiled.totals).one()._mapping)
        newest = connection.execute(select(func.max(orders.c.order_date))).scalar()
        if plan.show_sql:
            shown = str(compiled.statement.compile(connection, compile_kwargs={"literal_binds": True}))
    rows = [_row(plan, compiled, row) for row in fetched]
    total_rows = int(fetched[0]["total_groups"]) if plan.group_by and fetched else (0 if plan.group_by else 1)
    if not plan.group_by:
        rows = [{name: _json_number(metric_value(METRICS[name], totals_row)) for name in plan.metrics}]
    answer: dict[str, Any] = {
        "metrics": plan.metrics,
        "group_by": plan.group_by,
        "rows": rows,
        "totals": {name: _json_number(metric_value(METRICS[name], totals_row)) for name in plan.metrics},
        "total_rows": total_rows,
        "truncated": len(rows) < total_rows,
        "as_of": {
            "newest_order_date": newest.isoformat() if isinstance(newest, dt.date) else newest,
            "computed_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "live": True,
            "engine": reading.engine,
            **({"synced_at": _utc_text(reading.synced_at)} if reading.synced_at else {}),
        },
        "units": {name: METRICS[name].unit for name in plan.metrics},
    }
    if plan.compare is not None:
        _compared(plan, store, answer)
    if plan.show_sql:
        answer["sql"] = shown
    while _text_size(answer) > MAX_TEXT and len(rows) > 1:  # long names: fewer groups, said so
        rows = rows[: len(rows) // 2]
        answer["rows"] = rows
        answer["truncated"] = True
    return answer


def dimension_values(
    store: SqlStore, dimension: object, search: object = None, limit: object = None
) -> dict[str, object]:
    """The values a dimension has in the data, with their number of orders, most orders first; ``search``
    keeps those containing it (ignoring case)."""
    if not isinstance(dimension, str) or dimension not in DIMENSIONS:
        raise InvalidInput("dimension", f"unknown dimension {dimension!r}; the dimensions are {', '.join(DIMENSIONS)}")
    if search is not None and (not isinstance(search, str) or len(search) > 100):
        raise InvalidInput("search", "must be text of at most 100 characters")
    count = _limit(limit)
    with store.analytic_reading() as reading:
        rows = _values(reading, dimension, search, count)
    total = int(rows[0]["total"]) if rows else 0
    values = [{"value": _dimension_value(dimension, row["value"]), "orders": int(row["orders"])} for row in rows]
    return {"dimension": dimension, "values": values, "total_values": total, "truncated": len(values) < total}


def _values(reading: Reading, dimension: str, search: str | None, count: int) -> list[Mapping[str, Any]]:
    dialect = reading.dialect
    level = ITEM if ORDER not in DIMENSIONS[dimension].levels else ORDER
    spec = sql.DIMENSION_SQL[dimension]
    source = sql.From(level, set(spec.needs), dialect=dialect)
    value = spec.value(dialect).label("value")
    orders_count = func.count(func.distinct(orders.c.id)) if level == ITEM else func.count()
    columns: list[ColumnElement] = [value, orders_count.label("orders"), func.count().over().label("total")]
    statement = select(*columns).select_from(source.clause()).group_by(value)
    if search and dimension == "weekday":  # the days are numbers in the SQL: match their names here
        wanted = [index for index, day in enumerate(WEEKDAYS) if search.strip().lower() in day.lower()]
        statement = statement.where(spec.value(dialect).in_(wanted))
    elif search:
        text = cast(spec.value(dialect), String)  # a day is a DATE: searched as its text
        statement = statement.where(func.lower(text).contains(search.strip().lower(), autoescape=True))
    statement = statement.order_by(orders_count.desc(), value).limit(count)
    if dialect == "duckdb":
        statement = sql.on_copy(statement, level)
    return [dict(row._mapping) for row in reading.connection.execute(statement)]

"""Charts of a metrics answer: a PNG for people, a Vega-Lite spec for any client, the rows as text for the model.

``render_chart`` takes the dict ``query_metrics`` answers. A time dimension gives a line chart (one line per
metric, or per value of a second dimension), other dimensions give bars; metrics of two units get two y axes
(lines) or one panel per unit. The PNG is drawn with matplotlib's object-oriented API on an Agg canvas (no
pyplot state, no display): thread-safe, fine on Windows, and the same answer always gives the same bytes.
matplotlib is imported by the first chart, so importing this module stays cheap for the CLI and servers.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from salesmcp.errors import InvalidInput
from salesmcp.services.analytics.catalogue import DIMENSIONS, METRICS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ChartKind = Literal["line", "bar"]
MAX_SERIES = 10  # lines or coloured bars in one legend: the rest are left out, and the title says so
MAX_BARS = 40  # bars in a chart of a categorical dimension: the rest are left out, and the title says so
MAX_PERIODS = 2000  # a time axis is laid out period by period (missing ones show as gaps) up to this many
SUMMARY_ROWS = 30
NONE_LABEL = "(none)"
DPI = 100
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# matplotlib's "tab10", spelled out so that the PNG and the Vega-Lite spec colour the series alike.
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass(frozen=True)
class Chart:
    """One chart three ways: ``png`` (at least 1200x600 px), ``vega_lite`` (a v5 spec with the data inline)
    and ``summary`` (the charted rows as short text)."""

    png: bytes
    vega_lite: dict[str, Any]
    summary: str


@dataclass(frozen=True)
class _Series:
    name: str
    color: str
    values: list[float]  # one per x position; NaN where there is no value


@dataclass(frozen=True)
class _Panel:
    metrics: list[str]
    series: list[_Series]
    right: _Panel | None = None  # a second y axis, for a second unit


@dataclass(frozen=True)
class _Names:
    """How metrics and dimensions are called and measured: the answer's ``labels``/``units``, else the catalogue's."""

    labels: Mapping[str, str]
    units: Mapping[str, str]

    def label(self, name: str) -> str:
        return self.labels.get(name) or (METRICS[name].label if name in METRICS else None) or _default_label(name)

    def unit(self, metric: str) -> str:
        return self.units.get(metric) or (METRICS[metric].unit if metric in METRICS else "")

    def axis_title(self, metrics: Sequence[str]) -> str:
        names = " / ".join(self.label(m) for m in metrics)
        unit = self.unit(metrics[0])
        if unit == "fraction":
            return f"{names} (%)"
        return names if not unit or unit.lower() in names.lower() else f"{names} ({unit})"

    def is_fraction(self, metric: str) -> bool:
        return self.unit(metric) == "fraction"


@dataclass(frozen=True)
class _Plan(_Names):
    """What one chart shows, worked out once and drawn twice (PNG and Vega-Lite)."""

    kind: ChartKind
    metrics: list[str]
    x_dim: str | None
    split_dim: str | None
    x_labels: list[str]
    series_labels: list[str]  # the split dimension's values shown, largest first
    panels: list[_Panel]
    horizontal: bool
    title: str
    notes: list[str]
    rows: list[Mapping[str, Any]]  # the rows shown


def render_chart(result: Mapping[str, Any], chart: ChartKind | None = None, title: str | None = None) -> Chart:
    """Chart a ``query_metrics`` answer. ``chart`` is "line" or "bar", or None to choose by the first
    dimension (a line over time, bars otherwise); ``title`` replaces the one made from the labels."""
    if chart not in (None, "line", "bar"):
        raise InvalidInput("chart", "must be 'line' or 'bar'")
    group_by = list(result.get("group_by") or [])
    if len(group_by) > 2:
        raise InvalidInput("group_by", "a chart shows at most two dimensions (one on the x axis, one as series)")
    plan = _plan(result, group_by, chart, title)
    return Chart(
        png=_draw(plan),
        vega_lite=_vega_lite(plan, list(result.get("rows") or [])),
        summary=_summary(plan, result.get("totals") or {}),
    )


# --- what to draw ------------------------------------------------------------------------------------------


def _plan(result: Mapping[str, Any], group_by: list[str], chart: ChartKind | None, title: str | None) -> _Plan:
    metrics = [str(m) for m in result.get("metrics") or []]
    rows: list[Mapping[str, Any]] = list(result.get("rows") or [])
    times = [d for d in group_by if _is_time(d)]
    x_dim = times[0] if times else (group_by[0] if group_by else None)
    split_dim = next((d for d in group_by if d != x_dim), None)
    kind: ChartKind = chart or ("line" if x_dim is not None and _is_time(x_dim) else "bar")
    if x_dim is None:
        kind = "bar"
    base = _Names(result.get("labels") or {}, result.get("units") or {})
    notes: list[str] = []
    if result.get("truncated"):
        notes.append(f"the query returned {len(rows)} of {result.get('total_rows', '?')} groups")
    series_labels: list[str] = []
    if split_dim is not None and metrics:
        series_labels, count = _largest_series(rows, split_dim, metrics[0])
        if count > len(series_labels):
            cut = f"top {len(series_labels)} of {count} {_plural(base.label(split_dim))}"
            notes.append(f"{cut} by {_lower(base.label(metrics[0]))}")
            rows = [r for r in rows if _value_label(r, split_dim) in series_labels]
    groups = _unit_groups(base, metrics)
    x_labels = _x_labels(rows, x_dim) if x_dim is not None else []
    if x_dim is not None and not _is_time(x_dim):
        per_group = len(series_labels) if split_dim else max(len(g) for g in groups) if groups else 1
        most = max(5, MAX_BARS // max(per_group, 1))
        if len(x_labels) > most:
            notes.append(f"first {most} of {len(x_labels)} {_plural(base.label(x_dim))}")
            x_labels = x_labels[:most]
            rows = [r for r in rows if _value_label(r, x_dim) in x_labels]
    horizontal = kind == "bar" and x_dim is not None and not _is_time(x_dim)
    horizontal = horizontal and (len(x_labels) > 12 or max(map(len, x_labels), default=0) > 12)
    panels = _panels(base, rows, metrics, groups, x_dim, split_dim, x_labels, series_labels, kind)
    made_title = " and ".join([", ".join(_lower(base.label(m)) for m in metrics[:-1]), _lower(base.label(metrics[-1]))]
                              if len(metrics) > 1 else [base.label(m) for m in metrics]) or "Metrics"  # fmt: skip
    made_title = made_title[0].upper() + made_title[1:]
    if group_by:
        made_title += " by " + " and ".join(_lower(base.label(d)) for d in group_by)
    return _Plan(base.labels, base.units, kind, metrics, x_dim, split_dim, x_labels, series_labels, panels,
                 horizontal, title or made_title, notes, rows)  # fmt: skip


def _panels(plan: _Names, rows: list[Mapping[str, Any]], metrics: list[str], groups: list[list[str]],
            x_dim: str | None, split_dim: str | None, x_labels: list[str], series_labels: list[str],
            kind: ChartKind) -> list[_Panel]:  # fmt: skip
    if x_dim is None:  # one bar per metric, from the single row
        row = rows[0] if rows else {}
        return [_Panel(g, [_Series(plan.label(m), COLORS[metrics.index(m) % 10], [_number(row.get(m))]) for m in g])
                for g in groups]  # fmt: skip
    if split_dim is not None:  # one panel per metric, one series per value of the second dimension
        return [
            _Panel([m], [_Series(s, COLORS[i % 10], _values([r for r in rows if _value_label(r, split_dim) == s],
                                                               x_dim, x_labels, m))
                         for i, s in enumerate(series_labels)])
            for m in metrics
        ]  # fmt: skip

    def panel(group: list[str]) -> _Panel:
        return _Panel(group, [_Series(plan.label(m), COLORS[metrics.index(m) % 10], _values(rows, x_dim, x_labels, m))
                              for m in group])  # fmt: skip

    if kind == "line" and len(groups) == 2:
        return [_Panel(groups[0], panel(groups[0]).series, right=panel(groups[1]))]
    return [panel(g) for g in groups]


def _unit_groups(plan: _Names, metrics: list[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        groups.setdefault(plan.unit(metric), []).append(metric)
    return list(groups.values())


def _largest_series(rows: list[Mapping[str, Any]], dim: str, metric: str) -> tuple[list[str], int]:
    size: dict[str, float] = {}
    for row in rows:
        value = _number(row.get(metric))
        size[_value_label(row, dim)] = size.get(_value_label(row, dim), 0.0) + (
            0.0 if math.isnan(value) else abs(value)
        )
    ranked = sorted(size, key=lambda s: -size[s])  # stable: ties keep the answer's order
    return ranked[:MAX_SERIES], len(ranked)


def _x_labels(rows: list[Mapping[str, Any]], dim: str) -> list[str]:
    labels = list(dict.fromkeys(_value_label(r, dim) for r in rows))
    if not _is_time(dim):
        return labels  # as the answer orders them
    present = sorted(label for label in labels if label != NONE_LABEL)
    filled = _period_range(dim, present[0], present[-1]) if present else None
    if filled is None or not set(present) <= set(filled):
        filled = present
    return filled + ([NONE_LABEL] if NONE_LABEL in labels else [])


def _values(rows: list[Mapping[str, Any]], dim: str, x_labels: list[str], metric: str) -> list[float]:
    by_x = {_value_label(r, dim): r.get(metric) for r in rows}
    return [_number(by_x.get(x)) for x in x_labels]


def _period_range(dim: str, first: str, last: str) -> list[str] | None:
    """Every period from ``first`` to ``last`` (``2025-01``, ``2025-02`` …), or None when they do not parse."""
    try:
        start, end = _period_start(dim, first), _period_start(dim, last)
    except ValueError:
        return None
    labels: list[str] = []
    while start <= end and len(labels) < MAX_PERIODS:
        iso = start.isocalendar()
        labels.append({"day": start.isoformat(), "week": f"{iso.year}-W{iso.week:02d}",
                       "month": f"{start:%Y-%m}", "quarter": f"{start.year}-Q{(start.month - 1) // 3 + 1}",
                       "year": str(start.year)}[dim])  # fmt: skip
        if dim in ("day", "week"):
            start += timedelta(days=1 if dim == "day" else 7)
        else:
            months = start.year * 12 + start.month - 1 + {"month": 1, "quarter": 3, "year": 12}[dim]
            start = date(months // 12, months % 12 + 1, 1)
    return labels if start > end else None


def _period_start(dim: str, label: str) -> date:
    if dim == "day":
        return date.fromisoformat(label)
    if dim == "week":
        year, week = label.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    if dim == "month":
        year, month = label.split("-")
        return date(int(year), int(month), 1)
    if dim == "quarter":
        year, quarter = label.split("-Q")
        return date(int(year), 3 * int(quarter) - 2, 1)
    return date(int(label), 1, 1)


def _is_time(dim: str) -> bool:
    return dim in DIMENSIONS and DIMENSIONS[dim].time


def _value_label(row: Mapping[str, Any], dim: str) -> str:
    value = row.get(dim)
    if value is None:
        return NONE_LABEL
    name = row.get(f"{dim}_name")
    return f"{name} ({value})" if name else str(value)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _default_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _lower(label: str) -> str:
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _plural(label: str) -> str:
    word = _lower(label)
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith("s") else "s")


# --- the PNG -----------------------------------------------------------------------------------------------


def _draw(plan: _Plan) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = [v for p in plan.panels for s in p.series + (p.right.series if p.right else []) for v in s.values]
    empty = not any(not math.isnan(v) for v in values)
    many = len(plan.panels) if not empty else 1
    if plan.horizontal:
        size = (12.0, min(max(6.0, 0.3 * len(plan.x_labels) * max(1, len(plan.panels[0].series)) ** 0.5 + 2), 16))
    else:
        size = (12.0, 6.0 if many == 1 or plan.x_dim is None else min(2.0 + 3.2 * many, 16.0))
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    figure.suptitle(plan.title, fontsize=16, fontweight="bold")
    if empty:
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.55, "No data", ha="center", va="center", fontsize=24, color="#555555")
        axes.text(0.5, 0.42, "Nothing matched these metrics, filters and dates.", ha="center", va="center",
                  fontsize=13, color="#777777")  # fmt: skip
    else:
        _draw_panels(figure, plan)
    buffer = io.BytesIO()
    canvas.print_png(buffer, metadata={"Software": None})  # one draw (savefig makes two); no version stamp
    return buffer.getvalue()


def _draw_panels(figure: Figure, plan: _Plan) -> None:
    side_by_side = plan.horizontal or plan.x_dim is None
    grid = figure.subplots(*((1, len(plan.panels)) if side_by_side else (len(plan.panels), 1)), squeeze=False,
                           sharex=not side_by_side, sharey=plan.horizontal)  # fmt: skip
    all_axes: list[Axes] = list(grid.ravel())
    for index, (axes, panel) in enumerate(zip(all_axes, plan.panels, strict=True)):
        axes.tick_params(labelsize=11)
        axes.grid(axis="x" if plan.horizontal else "y", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        handles = _plot(axes, plan, panel)
        if panel.right is not None:
            right = axes.twinx()
            right.tick_params(labelsize=11)
            right.spines[["top"]].set_visible(False)
            handles += _plot(right, plan, panel.right)
            for side, drawn in ((axes, panel), (right, panel.right)):
                if len(drawn.series) == 1:  # which axis is whose: the label takes its line's colour
                    side.yaxis.label.set_color(drawn.series[0].color)
        if index == 0 and plan.notes:
            axes.set_title("; ".join(plan.notes), loc="left", fontsize=11, color="#555555")
        if plan.split_dim is not None and index == 0:
            axes.legend(handles=handles, title=plan.label(plan.split_dim), fontsize=10, title_fontsize=11,
                        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # fmt: skip
        elif len(handles) > 1 and plan.x_dim is not None and plan.split_dim is None:
            axes.legend(handles=handles, fontsize=11, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                        ncols=len(handles), frameon=False)  # fmt: skip
    _category_axis(all_axes, plan)


def _plot(axes: Axes, plan: _Plan, panel: _Panel) -> list[Any]:
    from matplotlib.ticker import FuncFormatter

    count = len(plan.x_labels) if plan.x_dim is not None else len(panel.series)
    handles: list[Any] = []
    value_axis = axes.xaxis if plan.horizontal else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(_tick_format(plan.is_fraction(panel.metrics[0]))))
    (axes.set_xlabel if plan.horizontal else axes.set_ylabel)(plan.axis_title(panel.metrics), fontsize=12)
    width = 0.8 / (len(panel.series) if plan.x_dim is not None else 1)
    for index, series in enumerate(panel.series):
        if plan.x_dim is None:  # one bar per metric
            container = axes.bar([index], series.values, 0.6, color=series.color, label=series.name)
        elif plan.kind == "line":
            marker = "o" if count <= 60 else None
            (line,) = axes.plot(range(count), series.values, color=series.color, linewidth=2.2, marker=marker,
                                markersize=5, label=series.name)  # fmt: skip
            handles.append(line)
            if len(panel.series) == 1 and panel.right is None and plan.split_dim is None:  # a lone line: shade below
                axes.fill_between(range(count), series.values, color=series.color, alpha=0.1, linewidth=0)
            continue
        else:
            offsets = [x + (index - (len(panel.series) - 1) / 2) * width for x in range(count)]
            bars = axes.barh if plan.horizontal else axes.bar
            container = bars(offsets, series.values, width, color=series.color, label=series.name)
        handles.append(container)
        if count * len(panel.series) <= (40 if plan.horizontal else 16):
            fraction = plan.is_fraction(panel.metrics[0])
            axes.bar_label(container, labels=[_value_text(v, fraction) for v in series.values], padding=3,
                           fontsize=10)  # fmt: skip
    if plan.x_dim is None:
        axes.set_xticks(range(len(panel.series)), [s.name for s in panel.series])
        axes.set_xlim(-0.75, len(panel.series) - 0.25)
    finite = [v for s in panel.series for v in s.values if not math.isnan(v)]
    if finite and min(finite) >= 0:
        (axes.set_xlim if plan.horizontal else axes.set_ylim)(0, max(finite) * 1.12 or 1)
    return handles


def _category_axis(all_axes: list[Axes], plan: _Plan) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if plan.x_dim is None:
        return
    labels = plan.x_labels
    axes = all_axes[0] if plan.horizontal else all_axes[-1]
    label_axis = axes.yaxis if plan.horizontal else axes.xaxis
    (axes.set_ylabel if plan.horizontal else axes.set_xlabel)(plan.label(plan.x_dim), fontsize=12)
    if plan.horizontal or (not _is_time(plan.x_dim) and len(labels) <= 24):
        (axes.set_yticks if plan.horizontal else axes.set_xticks)(range(len(labels)), labels)
        shown = len(labels)
    else:
        label_axis.set_major_locator(MaxNLocator(nbins=12, integer=True, steps=[1, 2, 3, 4, 6, 10]))
        label_axis.set_major_formatter(
            FuncFormatter(
                lambda x, _: labels[round(x)] if 0 <= round(x) < len(labels) and abs(x - round(x)) < 1e-6 else ""
            )
        )
        shown = min(len(labels), 13)
    if plan.horizontal:
        axes.invert_yaxis()  # the first row on top
        axes.set_ylim(len(labels) - 0.5, -0.5)
    else:
        axes.set_xlim(-0.5, len(labels) - 0.5)
        if shown * (max(map(len, labels), default=0) + 2) > 130:
            for label in axes.get_xticklabels():
                label.set_rotation(35)
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")


def _tick_format(fraction: bool) -> Callable[[float, object], str]:
    def format_tick(value: float, _position: object) -> str:
        text = f"{value * 100 if fraction else value:,.2f}".rstrip("0").rstrip(".")  # 12,000 · 2.5 · 0.25
        return ("0" if text == "-0" else text) + ("%" if fraction else "")

    return format_tick


def _value_text(value: float, fraction: bool) -> str:
    if math.isnan(value):
        return ""
    if fraction:
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}" if abs(value) >= 1000 or value == round(value) else f"{value:,.2f}"


# --- the Vega-Lite spec ------------------------------------------------------------------------------------


def _vega_lite(plan: _Plan, rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The same chart as a Vega-Lite v5 spec over the answer's rows; transforms label nulls and leave out
    what the PNG leaves out."""
    spec: dict[str, Any] = {"$schema": VEGA_LITE_SCHEMA, "title": {"text": plan.title}}
    if plan.notes:
        spec["title"]["subtitle"] = "; ".join(plan.notes)
    spec["data"] = {"values": [dict(row) for row in rows]}
    transforms: list[dict[str, Any]] = []
    for dim, shown in ((plan.x_dim, plan.x_labels), (plan.split_dim, plan.series_labels)):
        if dim is not None:
            transforms.append({"calculate": _label_expression(dim, rows), "as": dim})
            if any(_value_label(row, dim) not in shown for row in rows):
                transforms.append({"filter": {"field": dim, "oneOf": shown}})
    panels = [_vl_panel(plan, panel) for panel in plan.panels]
    side_by_side = plan.horizontal or plan.x_dim is None
    for panel in panels:
        width, height = (380 if side_by_side and len(panels) > 1 else 800), (400 if len(panels) == 1 else 220)
        if plan.horizontal:
            height = max(400, 22 * len(plan.x_labels) * max(1, len(plan.series_labels)) ** 0.5)
        panel.update(width=width, height=round(height))
    if len(panels) == 1:
        transforms += panels[0].pop("transform", [])
        spec.update(panels[0])
    elif panels:
        spec["hconcat" if side_by_side else "vconcat"] = panels
        spec["resolve"] = {"scale": {"color": "independent"}}  # each panel keeps its own colours
    else:
        spec.update(mark="text", encoding={"text": {"value": "No data"}})
    if transforms:
        spec["transform"] = transforms
    return spec


def _vl_panel(plan: _Plan, panel: _Panel) -> dict[str, Any]:
    category, value = ("y", "x") if plan.horizontal else ("x", "y")
    if plan.split_dim is not None and plan.x_dim is not None:  # one metric, a colour per second-dimension value
        metric = panel.metrics[0]
        names = [s.name for s in panel.series]
        encoding = {
            category: _vl_category(plan),
            value: _vl_value(plan, [metric], metric),
            "color": {"field": plan.split_dim, "type": "nominal", "title": plan.label(plan.split_dim),
                      "scale": {"domain": names, "range": [s.color for s in panel.series]}},
            "tooltip": [{"field": plan.x_dim, "title": plan.label(plan.x_dim)},
                        {"field": plan.split_dim, "title": plan.label(plan.split_dim)},
                        _vl_tip(plan, [metric], metric)],
        }  # fmt: skip
        if plan.kind == "bar":
            encoding[f"{category}Offset"] = {"field": plan.split_dim, "sort": names}
        return {"mark": _vl_mark(plan), "encoding": encoding}
    sides = [panel] + ([panel.right] if panel.right else [])
    series = [s for side in sides for s in side.series]
    colors = {"domain": [s.name for s in series], "range": [s.color for s in series]}
    layers = [_vl_metrics(plan, side, colors, legend=len(series) > 1) for side in sides]
    return layers[0] if len(layers) == 1 else {"layer": layers, "resolve": {"scale": {"y": "independent"}}}


def _vl_metrics(plan: _Plan, panel: _Panel, colors: dict[str, list[str]], legend: bool) -> dict[str, Any]:
    """Metrics of one unit: one field, or folded into ``metric``/``value`` for a legend (or a bar each)."""
    category, value = ("y", "x") if plan.horizontal else ("x", "y")
    if not legend and plan.x_dim is not None:
        metric = panel.metrics[0]
        return {"mark": _vl_mark(plan), "encoding": {
            category: _vl_category(plan), value: _vl_value(plan, [metric], metric),
            "color": {"value": panel.series[0].color},
            "tooltip": [{"field": plan.x_dim, "title": plan.label(plan.x_dim)}, _vl_tip(plan, [metric], metric)],
        }}  # fmt: skip
    names = [s.name for s in panel.series]
    encoding: dict[str, Any] = {
        value: _vl_value(plan, panel.metrics, "value"),
        "color": {"field": "metric", "type": "nominal", "title": None, "scale": colors},
        "tooltip": [{"field": "metric", "title": "Metric"}, _vl_tip(plan, panel.metrics, "value")],
    }
    if plan.x_dim is None:  # a bar per metric
        encoding["x"] = {"field": "metric", "type": "nominal", "title": None, "sort": names, "axis": {"labelAngle": 0}}
        encoding["color"]["legend"] = None
    else:
        encoding[category] = _vl_category(plan)
        encoding["tooltip"].insert(0, {"field": plan.x_dim, "title": plan.label(plan.x_dim)})
        if plan.kind == "bar":
            encoding[f"{category}Offset"] = {"field": "metric", "sort": names}
    transform = [{"fold": panel.metrics, "as": ["metric", "value"]},
                 {"calculate": _name_expression(plan, panel.metrics), "as": "metric"}]  # fmt: skip
    return {"transform": transform, "mark": _vl_mark(plan), "encoding": encoding}


def _vl_mark(plan: _Plan) -> dict[str, Any]:
    if plan.kind == "line" and plan.x_dim is not None:
        return {"type": "line", "point": len(plan.x_labels) <= 60, "strokeWidth": 2.2}
    return {"type": "bar"}


def _vl_category(plan: _Plan) -> dict[str, Any]:
    assert plan.x_dim is not None
    time = _is_time(plan.x_dim)
    encoding: dict[str, Any] = {"field": plan.x_dim, "type": "ordinal" if time else "nominal",
                                "title": plan.label(plan.x_dim), "scale": {"domain": plan.x_labels}}  # fmt: skip
    if not plan.horizontal:
        encoding["axis"] = {"labelAngle": -35 if len(plan.x_labels) > 12 else 0, "labelOverlap": "greedy"}
    return encoding


def _vl_value(plan: _Plan, metrics: list[str], field: str) -> dict[str, Any]:
    fraction = plan.is_fraction(metrics[0])
    return {"field": field, "type": "quantitative", "title": plan.axis_title(metrics),
            "axis": {"format": ".1~%" if fraction else ",~f"}}  # fmt: skip


def _vl_tip(plan: _Plan, metrics: list[str], field: str) -> dict[str, Any]:
    fraction = plan.is_fraction(metrics[0])
    return {"field": field, "type": "quantitative", "title": plan.axis_title(metrics),
            "format": ".1~%" if fraction else ",~f"}  # fmt: skip


def _label_expression(dim: str, rows: list[Mapping[str, Any]]) -> str:
    """A Vega expression that labels a dimension's value as the PNG does: "(none)" for null, "name (id)"."""
    value = f"datum[{json.dumps(dim)}]"
    text = f"'' + {value}"
    if any(row.get(f"{dim}_name") for row in rows):
        name = f"datum[{json.dumps(dim + '_name')}]"
        text = f"{name} ? {name} + ' (' + {value} + ')' : {text}"
    return f"isValid({value}) ? {text} : {json.dumps(NONE_LABEL)}"


def _name_expression(plan: _Plan, metrics: list[str]) -> str:
    """A Vega expression that turns a folded metric's name into its label."""
    expression = "datum.metric"
    for metric in metrics:
        expression = f"datum.metric === {json.dumps(metric)} ? {json.dumps(plan.label(metric))} : ({expression})"
    return expression


# --- the text ----------------------------------------------------------------------------------------------


def _summary(plan: _Plan, totals: Mapping[str, Any]) -> str:
    """The charted rows as short CSV-like text: what the model reads instead of the picture."""
    head = f"{plan.title}: a {plan.kind} chart of {len(plan.rows)} row{'s' if len(plan.rows) != 1 else ''}"
    head += f" ({'; '.join(plan.notes)})." if plan.notes else "."
    if not plan.rows:
        return f"{plan.title}: no data."
    dims = [d for d in (plan.x_dim, plan.split_dim) if d is not None]
    columns = [f"{m} ({plan.unit(m)})" if plan.unit(m) not in ("", m) else m for m in plan.metrics]
    lines = [head, ",".join(dims + columns)]
    for row in plan.rows[:SUMMARY_ROWS]:
        lines.append(",".join([_value_label(row, d) for d in dims] + [json.dumps(row.get(m)) for m in plan.metrics]))
    if len(plan.rows) > SUMMARY_ROWS:
        lines.append(f"… and {len(plan.rows) - SUMMARY_ROWS} more rows (all are in the Vega-Lite data)")
    if totals and dims:
        lines.append("totals: " + ", ".join(f"{m} {json.dumps(totals.get(m))}" for m in plan.metrics))
    return "\n".join(lines)

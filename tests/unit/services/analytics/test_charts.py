import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services.analytics.charts import MAX_SERIES, VEGA_LITE_SCHEMA, render_chart

MONTHS = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(24)]
UNITS = {"revenue": "EUR", "orders": "orders", "net_sales": "EUR", "cancellation_rate": "fraction"}


def answer(metrics, group_by, rows, **extra):
    """A ``query_metrics`` answer as the tool returns it."""
    return {
        "metrics": metrics,
        "group_by": group_by,
        "rows": rows,
        "totals": {m: sum(r[m] for r in rows if r.get(m) is not None) for m in metrics},
        "total_rows": len(rows),
        "truncated": False,
        "units": {m: UNITS[m] for m in metrics},
        "labels": {"revenue": "Revenue", "orders": "Orders", "month": "Month", "city": "City"},
        **extra,
    }


def monthly_revenue(months=MONTHS):
    return answer(["revenue"], ["month"], [{"month": m, "revenue": 1000.5 + 250 * i} for i, m in enumerate(months)])


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_the_chart_is_a_png_of_at_least_800_by_400_pixels():
    width, height = png_size(render_chart(monthly_revenue()).png)
    assert width >= 800 and height >= 400


def test_the_same_answer_always_gives_the_same_png_bytes():
    assert render_chart(monthly_revenue()).png == render_chart(monthly_revenue()).png


def test_the_png_carries_no_matplotlib_version_stamp():
    assert b"Matplotlib" not in render_chart(monthly_revenue()).png


def test_charts_drawn_in_parallel_threads_match_those_drawn_alone():
    results = [monthly_revenue(), answer(["net_sales"], ["category"], [{"category": "Books", "net_sales": 10.0}])]
    alone = [render_chart(r).png for r in results]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda r: render_chart(r).png, results * 4))
    assert together == alone * 4


def test_vega_lite_spec_is_v5_with_the_rows_inline_and_a_line_over_months():
    result = monthly_revenue()
    spec = render_chart(result).vega_lite
    assert spec["$schema"] == VEGA_LITE_SCHEMA == "https://vega.github.io/schema/vega-lite/v5.json"
    assert spec["data"] == {"values": result["rows"]}
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "month"
    assert spec["encoding"]["x"]["scale"]["domain"] == MONTHS
    assert spec["encoding"]["y"]["field"] == "revenue"
    assert spec["encoding"]["y"]["title"] == "Revenue (EUR)"
    assert spec["title"]["text"] == "Revenue by month"


@pytest.mark.parametrize(
    ("group_by", "row", "mark"),
    [
        (["month"], {"month": "2025-01"}, "line"),
        (["week"], {"week": "2025-W05"}, "line"),
        (["day"], {"day": "2025-01-31"}, "line"),
        (["category"], {"category": "Books"}, "bar"),
        (["weekday"], {"weekday": "Monday"}, "bar"),
    ],
)
def test_a_time_dimension_gives_a_line_and_any_other_gives_bars(group_by, row, mark):
    metric = "net_sales" if group_by == ["category"] else "revenue"
    spec = render_chart(answer([metric], group_by, [{**row, metric: 12.5}])).vega_lite
    assert spec["mark"]["type"] == mark


def test_asking_for_bars_over_months_gives_bars():
    spec = render_chart(monthly_revenue(), chart="bar").vega_lite
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "month"


def test_missing_months_stay_on_the_time_axis_as_gaps():
    spec = render_chart(monthly_revenue(["2025-01", "2025-02", "2025-05"])).vega_lite
    assert spec["encoding"]["x"]["scale"]["domain"] == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]


def test_categories_keep_the_answers_order_and_long_labels_lie_as_horizontal_bars():
    rows = [{"category": c, "net_sales": v} for c, v in (("Sports & Outdoors", 30.0), ("Books", 50.0), ("Toys", 10.0))]
    spec = render_chart(answer(["net_sales"], ["category"], rows)).vega_lite
    assert spec["encoding"]["y"]["field"] == "category"
    assert spec["encoding"]["y"]["scale"]["domain"] == ["Sports & Outdoors", "Books", "Toys"]
    assert spec["encoding"]["x"]["field"] == "net_sales"


def test_many_categories_are_cut_and_the_title_says_so():
    rows = [{"category": f"Category {i}", "net_sales": 100.0 - i} for i in range(60)]
    chart = render_chart(answer(["net_sales"], ["category"], rows))
    assert chart.vega_lite["title"]["subtitle"] == "first 40 of 60 categories"
    assert {"filter": {"field": "category", "oneOf": [f"Category {i}" for i in range(40)]}} in chart.vega_lite[
        "transform"
    ]
    assert "first 40 of 60 categories" in chart.summary


def test_two_metrics_of_different_units_get_two_y_axes():
    rows = [{"month": m, "revenue": 100.0 * i, "orders": i} for i, m in enumerate(MONTHS)]
    chart = render_chart(answer(["revenue", "orders"], ["month"], rows))
    spec = chart.vega_lite
    assert spec["resolve"] == {"scale": {"y": "independent"}}
    assert [layer["encoding"]["y"]["title"] for layer in spec["layer"]] == ["Revenue (EUR)", "Orders"]
    assert [layer["transform"][0]["fold"] for layer in spec["layer"]] == [["revenue"], ["orders"]]
    assert png_size(chart.png) == (1200, 600)


def test_a_second_dimension_gives_one_line_per_value_with_a_legend():
    cities = ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Tilburg"]
    rows = [
        {"month": m, "city": c, "revenue": 10.0 * (5 - j) + i}
        for i, m in enumerate(MONTHS)
        for j, c in enumerate(cities)
    ]
    spec = render_chart(answer(["revenue"], ["month", "city"], rows)).vega_lite
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["color"]["field"] == "city"
    assert spec["encoding"]["color"]["scale"]["domain"] == cities
    assert "subtitle" not in spec["title"]


def test_more_than_ten_series_keep_the_ten_largest_and_say_so():
    cities = [f"City {i:02d}" for i in range(23)]
    rows = [{"month": m, "city": c, "revenue": 1000.0 - 10 * j} for m in MONTHS[:3] for j, c in enumerate(cities)]
    chart = render_chart(answer(["revenue"], ["month", "city"], rows))
    assert chart.vega_lite["encoding"]["color"]["scale"]["domain"] == cities[:MAX_SERIES]
    assert chart.vega_lite["title"]["subtitle"] == "top 10 of 23 cities by revenue"
    assert {"filter": {"field": "city", "oneOf": cities[:MAX_SERIES]}} in chart.vega_lite["transform"]
    assert "top 10 of 23 cities by revenue" in chart.summary
    assert "City 10" not in chart.summary


def test_null_dimension_values_are_labelled_none():
    rows = [{"carrier": "DHL", "revenue": 50.0}, {"carrier": None, "revenue": 12.0}]
    chart = render_chart(answer(["revenue"], ["carrier"], rows))
    assert chart.vega_lite["encoding"]["x"]["scale"]["domain"] == ["DHL", "(none)"]
    calculate = chart.vega_lite["transform"][0]
    assert calculate["as"] == "carrier" and '"(none)"' in calculate["calculate"]
    assert "(none),12.0" in chart.summary


def test_a_dimension_with_names_is_labelled_name_and_id():
    rows = [{"customer": "011", "customer_name": "Annie", "revenue": 19.0}]
    chart = render_chart(answer(["revenue"], ["customer"], rows))
    assert chart.vega_lite["encoding"]["x"]["scale"]["domain"] == ["Annie (011)"]


def test_no_group_by_gives_one_bar_per_metric():
    rows = [{"revenue": 1234567.89, "orders": 12345, "cancellation_rate": 0.0523}]
    chart = render_chart(answer(["revenue", "orders", "cancellation_rate"], [], rows))
    panels = chart.vega_lite["hconcat"]
    assert [p["mark"]["type"] for p in panels] == ["bar", "bar", "bar"]
    assert [p["encoding"]["y"]["title"] for p in panels] == ["Revenue (EUR)", "Orders", "Cancellation rate (%)"]
    assert chart.vega_lite["title"]["text"] == "Revenue, orders and cancellation rate"


def test_an_empty_answer_gives_a_no_data_image_not_an_error():
    chart = render_chart(answer(["revenue"], ["month"], []))
    assert png_size(chart.png) >= (800, 400)
    assert chart.vega_lite["data"] == {"values": []}
    assert chart.summary == "Revenue by month: no data."


def test_the_summary_lists_the_rows_with_units_and_stays_short():
    days = [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(500)]
    result = answer(["revenue"], ["day"], [{"day": d, "revenue": 10.25} for d in days])
    summary = render_chart(result).summary
    lines = summary.splitlines()
    assert lines[:3] == ["Revenue by day: a line chart of 500 rows.", "day,revenue (EUR)", "2024-01-01,10.25"]
    assert "… and 470 more rows" in summary
    assert lines[-1] == "totals: revenue 5125.0"
    assert len(summary) < 2000


def test_a_given_title_replaces_the_made_one():
    chart = render_chart(monthly_revenue(), title="Revenue, last two years")
    assert chart.vega_lite["title"]["text"] == "Revenue, last two years"
    assert chart.summary.startswith("Revenue, last two years:")


def test_a_truncated_answer_says_so_in_the_title():
    result = monthly_revenue()
    result.update(truncated=True, total_rows=100)
    assert render_chart(result).vega_lite["title"]["subtitle"] == "the query returned 24 of 100 groups"


def test_an_unknown_chart_kind_is_invalid_input_naming_chart():
    with pytest.raises(InvalidInput) as raised:
        render_chart(monthly_revenue(), chart="pie")  # type: ignore[arg-type]
    assert raised.value.field == "chart"


def test_three_dimensions_are_invalid_input_naming_group_by():
    with pytest.raises(InvalidInput) as raised:
        render_chart(answer(["revenue"], ["month", "city", "status"], []))
    assert raised.value.field == "group_by"


def test_five_hundred_daily_points_draw_one_line_with_every_point_in_the_spec():
    days = [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(500)]
    result = answer(["revenue"], ["day"], [{"day": d, "revenue": 5000.0 + (i * 37) % 900} for i, d in enumerate(days)])
    chart = render_chart(result)
    assert chart.png.startswith(b"\x89PNG") and len(chart.vega_lite["data"]["values"]) == 500

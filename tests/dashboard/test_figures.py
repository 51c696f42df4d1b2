"""The figure builders are pure: plain data in, a Plotly figure as JSON-ready dicts out."""

import datetime as dt
import json

from dashboard import figures


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


NOW = at(2026, 3, 1, 12, 0)


def test_every_figure_is_json_and_uses_svg_traces_only():
    built = [
        figures.projects_per_phase([figures.PhaseCount("ML", "A", 2)]),
        figures.time_in_phase([figures.PhaseStay("P", "A", 12.0, 10)]),
        figures.loop_backs([figures.LoopBack("P", "B", "A", "why", NOW)]),
        figures.phase_timeline(
            [figures.PlannedPhase("A", dt.date(2026, 1, 1), dt.date(2026, 1, 31))],
            [figures.Visit("A", NOW - dt.timedelta(days=3), None)],
            [],
            now=NOW,
        ),
    ]
    for figure in built:
        json.dumps(figure)
        assert {"data", "layout", "config"} <= set(figure) <= {"data", "layout", "config", "narrow"}
        assert figure["config"]["displaylogo"] is False
        assert figure["config"]["showSendToCloud"] is False
        assert figure["config"]["modeBarButtons"] == [["toImage", "zoom2d", "resetScale2d"]]
        for trace in figure["data"]:
            assert not trace["type"].endswith("gl"), "WebGL traces are limited per page"


# --- Projects per phase ----------------------------------------------------------------


def test_projects_per_phase_is_one_scale_of_labelled_bars_grouped_by_lifecycle():
    figure = figures.projects_per_phase(
        [
            figures.PhaseCount("ML development", "Ideation", 3),
            figures.PhaseCount("ML development", "Experiments", 0),
            figures.PhaseCount("MLOps", "Scoping", 1),
            figures.PhaseCount("MLOps", "Data", 12),
        ]
    )
    first, second = figure["data"]
    assert first["type"] == "bar" and first["orientation"] == "h"
    assert (first["name"], second["name"]) == ("ML development", "MLOps")  # the legend
    assert first["y"] == [0, 1] and second["y"] == [2, 3]
    assert first["text"] == first["x"] == [3, 0]
    assert second["customdata"] == ["MLOps · Scoping", "MLOps · Data"]
    yaxis = figure["layout"]["yaxis"]
    assert yaxis["tickvals"] == [0, 1, 2, 3]
    assert yaxis["ticktext"] == ["Ideation", "Experiments", "Scoping", "Data"]
    # A line between the lifecycles' blocks of rows.
    assert [shape["y0"] for shape in figure["layout"]["shapes"]] == [1.5]
    assert "xaxis2" not in figure["layout"], "one scale for every lifecycle"
    assert "dtick" not in figure["layout"]["xaxis"], "a tick per project only for few"


def test_on_a_phone_portfolio_labels_wrap_and_the_charts_grow():
    long = "Ideation, planning and stakeholder sign-off"
    per_phase = figures.projects_per_phase([figures.PhaseCount("ML", long, 2)])
    narrow = per_phase["narrow"]
    assert narrow["below"] == figures.NARROW_BELOW
    assert narrow["layout"]["yaxis"]["ticktext"] == ["Ideation, planning<br>and stakeholder …"]
    assert narrow["layout"]["height"] >= per_phase["layout"]["height"]
    stays = figures.time_in_phase(
        [figures.PhaseStay("<b>Fresh</b> produce demand forecasting", "Data", 35.2, 60)]
    )
    narrow = stays["narrow"]
    assert narrow["layout"]["yaxis"]["tickvals"] == stays["data"][0]["y"]
    assert narrow["layout"]["yaxis"]["ticktext"] == ["&lt;b&gt;Fresh&lt;/b&gt;<br>produce demand …"]
    assert narrow["data"] == [{"text": ["35 d"]}]  # the diamond shows the plan
    assert stays["data"][0]["text"] == ["35 d of 60"]
    loops = figures.loop_backs(
        [figures.LoopBack("P", "Productionization", "Experimentation", "why", NOW)]
    )
    assert loops["narrow"]["layout"]["yaxis"]["ticktext"] == [
        "Productionization<br>→ Experimentation"
    ]


# --- Time in phase ----------------------------------------------------------------------


def test_time_in_phase_is_a_bar_per_project_marked_when_over_plan():
    figure = figures.time_in_phase(
        [
            figures.PhaseStay("Late", "Data", 45.4, 30),
            figures.PhaseStay("On time", "Scoping", 3.0, 14),
            figures.PhaseStay("Unplanned", "Ideation", 8.0, None),
        ]
    )
    bars, planned = figure["data"]
    assert bars["y"] == ["Late", "On time", "Unplanned"]
    assert bars["x"] == [45.4, 3.0, 8.0]
    assert bars["text"] == ["45 d of 30", "3 d of 14", "8 d"]
    assert bars["marker"]["color"] == [figures.ONGOING, figures.ACTUAL, figures.ACTUAL]
    assert list(zip(planned["y"], planned["x"], strict=True)) == [("Late", 30), ("On time", 14)]


# --- Loops back -------------------------------------------------------------------------


def test_loop_backs_count_per_move_with_latest_reasons_first():
    day = dt.timedelta(days=1)
    loops = [
        figures.LoopBack(f"P{n}", "Deployment", "Data", f"reason {n}", NOW + n * day)
        for n in range(5)
    ]
    loops.append(figures.LoopBack("Q", "Modeling", "Scoping", "x" * 500, NOW))
    trace = figures.loop_backs(loops)["data"][0]
    assert trace["y"] == ["Deployment → Data", "Modeling → Scoping"]
    assert trace["x"] == [5, 1]
    first = trace["customdata"][0].split("<br>")
    assert first == [
        "P4: reason 4",
        "P3: reason 3",
        "P2: reason 2",
        "and 2 more",
    ]
    assert trace["customdata"][1].endswith("…")
    assert len(trace["customdata"][1]) < 120


def test_user_text_cannot_become_plotly_markup():
    evil = "<a href='javascript:alert(1)'>click</a> & <b>"
    figure = figures.loop_backs([figures.LoopBack(evil, evil, "Data", evil, NOW)])
    text = json.dumps(figure)
    assert "<a" not in text
    assert "<b>" not in text
    assert "&lt;a href='javascript:alert(1)'&gt;click&lt;/a&gt; &amp; &lt;b&gt;" in text


# --- Timeline ---------------------------------------------------------------------------


def test_timeline_planned_actual_ongoing_and_loops_back():
    phases = [
        figures.PlannedPhase("Scoping", dt.date(2026, 1, 1), dt.date(2026, 1, 14)),
        figures.PlannedPhase("Data", dt.date(2026, 1, 15), dt.date(2026, 2, 13)),
        figures.PlannedPhase("Modeling", None, None),
    ]
    entered = [at(2026, 1, 1, 9), at(2026, 1, 20, 9), at(2026, 2, 10)]
    visits = [
        figures.Visit("Scoping", entered[0], entered[1]),
        figures.Visit("Data", entered[1], entered[2]),
        figures.Visit("Scoping", entered[2], None),
    ]
    moves = [figures.Move(entered[2], "Data", "Scoping", "The data cannot support the scope.")]
    figure = figures.phase_timeline(phases, visits, moves, now=NOW)
    planned, actual, ongoing, loop = figure["data"]

    assert planned["y"] == ["Scoping", "Data"]
    assert planned["base"] == ["2026-01-01", "2026-01-15"]
    assert planned["x"][0] == 14 * 86_400_000  # due dates are inclusive
    assert actual["y"] == ["Scoping", "Data"]
    assert actual["base"][1] == "2026-01-20 09:00:00"
    assert actual["x"][1] == (entered[2] - entered[1]).total_seconds() * 1000
    assert ongoing["name"] == "In progress"
    assert ongoing["customdata"] == ["2026-02-10 to now (19.5 days)"]
    assert loop["y"] == ["Scoping"]
    assert "The data cannot support the scope." in loop["customdata"][0]
    (arrow,) = figure["layout"]["annotations"]
    assert (arrow["y"], arrow["ay"]) == ("Scoping", "Data")
    assert figure["layout"]["yaxis"]["categoryarray"] == ["Scoping", "Data", "Modeling"]
    assert figure["layout"]["shapes"][0]["x0"] == "2026-03-01 12:00:00"


def test_timeline_drops_time_zone_for_plotly():
    aware = at(2026, 1, 1, 9)
    figure = figures.phase_timeline([], [figures.Visit("A", aware, None)], [], now=aware)
    assert figure["data"][2]["base"] == ["2026-01-01 09:00:00"]


def test_timeline_names_its_lines_in_the_legend_with_their_dates():
    """Labels on the lines printed over each other when the dates were days apart."""
    finish = figures.Finish(original=dt.date(2026, 3, 4), forecast=dt.date(2026, 3, 2))
    figure = figures.phase_timeline([], [], [], now=NOW, finish=finish)
    shapes = figure["layout"]["shapes"]
    assert [shape["name"] for shape in shapes] == [
        "Original finish 4 Mar 2026",
        "Forecast finish 2 Mar 2026",
        "Now",
    ]
    assert all(shape["showlegend"] and "label" not in shape for shape in shapes)
    assert shapes[0]["x0"] == "2026-03-05"  # the end of the planned day
    assert figure["narrow"]["layout"]["height"] > figure["layout"]["height"]

    done = figures.Finish(original=dt.date(2026, 3, 4), completed=at(2026, 2, 27, 9))
    shapes = figures.phase_timeline([], [], [], now=NOW, finish=done)["layout"]["shapes"]
    assert [shape["name"] for shape in shapes] == ["Completed 27 Feb 2026", "Now"]


# --- Monitoring, models and the success gauge -------------------------------------------


def test_monitor_dates_tick_in_the_unit_they_step_by_level_and_whole():
    points = [figures.Point(at(2026, 3, 1, 12, minute), 0.1, "ok") for minute in (0, 1, 2)]
    xaxis = figures.monitor_series(points, threshold=0.2, unit="hours")["layout"]["xaxis"]
    assert xaxis["type"] == "date" and xaxis["automargin"] is True
    assert (xaxis["tickangle"], xaxis["nticks"]) == (0, 4)
    formats = {str(stop["dtickrange"][0]): stop["value"] for stop in xaxis["tickformatstops"]}
    assert formats["86400000"] == "%-d %b"  # days: "29 Nov", never "Nov" and "202…"
    assert "\n" not in "".join(formats.values()) and "<br>" not in "".join(formats.values())


def test_a_monitor_with_one_result_spans_half_a_day_and_a_long_history_its_own():
    one = [figures.Point(at(2026, 3, 1, 12), 0.1, "ok")]
    xaxis = figures.monitor_series(one, threshold=0.2, unit="hours")["layout"]["xaxis"]
    assert xaxis["range"] == ["2026-03-01 06:00:00", "2026-03-01 18:00:00"]
    days = [figures.Point(at(2026, 3, day, 12), 0.1, "ok") for day in (1, 2, 3)]
    xaxis = figures.monitor_series(days, threshold=0.2, unit="hours")["layout"]["xaxis"]
    assert "range" not in xaxis  # Plotly's own range over three days
    assert "range" not in figures.monitor_series([], threshold=None, unit="")["layout"]["xaxis"]


def test_feature_drift_has_a_shorter_axis_title_on_a_phone():
    feature = figures.FeatureScore("x", "psi", 0.3, 0.2, drifted=True, status="alert")
    figure = figures.feature_drift([feature])
    assert figure["layout"]["xaxis"]["automargin"] is True
    wide = figure["layout"]["xaxis"]["title"]["text"]
    narrow = figure["narrow"]["layout"]["xaxis"]["title"]["text"]
    assert len(narrow) < len(wide)


def test_versions_chart_wraps_a_long_metric_title_and_names_it_whole_on_hover():
    metric = "Fraud caught per false alarm (PR AUC)"
    figure = figures.version_values(
        [figures.VersionValue(1, 0.6, in_production=True, current=True)],
        metric=metric,
        target=0.5,
        maximize=True,
        production_alias="champion",
    )
    yaxis = figure["layout"]["yaxis"]
    assert yaxis["title"]["text"] == "Fraud caught per false<br>alarm (PR AUC)"
    assert yaxis["automargin"] is True
    (bars,) = figure["data"]
    assert bars["name"] == metric and "%{fullData.name}" in bars["hovertemplate"]


def test_a_bullet_gauge_is_an_arc_over_the_whole_width_on_a_phone():
    """The title beside the bar and the number after it were cut off at 390 px."""
    gauge = figures.success_gauge(
        metric="Hourly load error", best=0.04, target=0.05, maximize=False
    )
    (narrow,) = gauge["narrow"]["data"]
    assert narrow["gauge"] == {"shape": "angular"}
    assert narrow["domain"] == {"x": [0, 1], "y": [0, 1]}
    assert gauge["narrow"]["layout"]["height"] > gauge["layout"]["height"]
    # The same trace's other changes on a phone win over the gauge's.
    changed = figures.base._figure(
        gauge["data"], gauge["layout"], narrow_data=[{"domain": {"x": [0.1, 0.9]}}]
    )
    assert changed["narrow"]["data"][0]["domain"] == {"x": [0.1, 0.9]}
    assert "narrow" not in figures.success_gauge(metric="m", best=1.0, target=None, maximize=True)

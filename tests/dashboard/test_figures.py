"""The figure builders are pure: plain data in, a Plotly figure as JSON-ready dicts out."""

import datetime as dt
import json

import pytest

from dashboard import figures


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


NOW = at(2026, 3, 1, 12, 0)


def test_every_figure_is_json_and_uses_svg_traces_only():
    built = [
        figures.phase_funnel([figures.LifecycleFunnel("ML", [("A", 2), ("B", 1)])]),
        figures.time_in_phase([figures.PhaseDurations("ML", 1, "A", 10, [1.0, 2.0])]),
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
        assert set(figure) == {"data", "layout", "config"}
        assert figure["config"]["displaylogo"] is False
        for trace in figure["data"]:
            assert not trace["type"].endswith("gl"), "WebGL traces are limited per page"


# --- Funnel -----------------------------------------------------------------------------


def test_funnel_one_subplot_per_lifecycle_in_phase_order():
    figure = figures.phase_funnel(
        [
            figures.LifecycleFunnel("ML development", [("Ideation", 3), ("Experiments", 0)]),
            figures.LifecycleFunnel("MLOps", [("Scoping", 1), ("Data", 2), ("Modeling", 0)]),
        ]
    )
    first, second = figure["data"]
    assert (first["type"], first["y"], first["x"]) == (
        "funnel",
        ["Ideation", "Experiments"],
        [3, 0],
    )
    assert (second["xaxis"], second["yaxis"]) == ("x2", "y2")
    assert second["y"] == ["Scoping", "Data", "Modeling"]
    layout = figure["layout"]
    top, bottom = layout["yaxis"]["domain"], layout["yaxis2"]["domain"]
    assert 0 <= bottom[0] < bottom[1] <= top[0] < top[1] <= 1
    assert [a["text"] for a in layout["annotations"]] == ["ML development", "MLOps"]


def test_funnel_skips_lifecycles_without_phases():
    figure = figures.phase_funnel([figures.LifecycleFunnel("Empty", [])])
    assert figure["data"] == []


# --- Time in phase ----------------------------------------------------------------------


def test_box_stats_interpolate_like_plotly():
    assert figures.box_stats([4.0]) == {
        "lowerfence": 4.0,
        "q1": 4.0,
        "median": 4.0,
        "q3": 4.0,
        "upperfence": 4.0,
        "mean": 4.0,
    }
    stats = figures.box_stats([10.0, 1.0, 3.0, 2.0, 4.0])
    assert stats == {
        "lowerfence": 1.0,
        "q1": 2.0,
        "median": 3.0,
        "q3": 4.0,
        "upperfence": 10.0,
        "mean": 4.0,
    }
    assert figures.box_stats([1.0, 2.0])["median"] == pytest.approx(1.5)


def test_time_in_phase_sends_quartiles_not_rows():
    many = [float(n) for n in range(1000)]
    figure = figures.time_in_phase(
        [
            figures.PhaseDurations("MLOps", 2, "Data", 30, [5.0, 7.0]),
            figures.PhaseDurations("MLOps", 1, "Scoping", 14, many),
            figures.PhaseDurations("ML", 1, "Ideation", None, [1.0]),
            figures.PhaseDurations("ML", 2, "Unvisited", 20, []),
        ]
    )
    boxes = [t for t in figure["data"] if t["type"] == "box"]
    assert [b["name"] for b in boxes] == ["ML", "MLOps"]
    assert boxes[1]["y"] == ["Scoping", "Data"]
    assert boxes[1]["median"] == [499.5, 6.0]
    assert len(json.dumps(figure)) < 3000
    planned = next(t for t in figure["data"] if t["name"] == "Planned")
    assert list(zip(planned["y"], planned["x"], strict=True)) == [("Scoping", 14), ("Data", 30)]
    assert figure["layout"]["yaxis"]["categoryarray"] == ["Ideation", "Scoping", "Data"]


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

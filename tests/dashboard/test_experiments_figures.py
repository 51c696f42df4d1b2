"""The experiment figures are pure: plain data in, Plotly dicts out, no database."""

import json
import math

import pytest

from dashboard import figures


def curve(label: str, values, *, steps=None, timestamps=None, total=None) -> figures.Curve:
    steps = list(range(len(values))) if steps is None else steps
    timestamps = [1_700_000_000_000 + 1000 * s for s in steps] if timestamps is None else timestamps
    total = len(values) if total is None else total
    return figures.Curve(label, steps, timestamps, list(values), total, total > len(values))


def run(label: str, value, **params: str) -> figures.RunParams:
    return figures.RunParams(label=label, params=params, value=value)


def test_every_experiment_figure_is_json_and_only_parcoords_needs_webgl():
    built = [
        figures.success_gauge(metric="auc", best=0.8, target=0.9, maximize=True),
        figures.success_gauge(metric="auc", best=0.8, target=None, maximize=True),
        figures.metric_curves([curve("a", [1.0, math.nan, None, 2.0])], metric="auc"),
        figures.parallel_coordinates(
            [run("a", 0.5, lr="0.1"), run("b", 0.6, lr="0.2")], metric="m"
        ),
    ]
    for figure in built:
        # allow_nan=False: the browser's JSON.parse refuses NaN and Infinity.
        json.dumps(figure, allow_nan=False)
        # "narrow": what a phone-wide chart changes (static/js/charts.js merges it in).
        assert {"data", "layout", "config"} <= set(figure) <= {"data", "layout", "config", "narrow"}
        for trace in figure["data"]:
            assert not trace["type"].endswith("gl")
    assert [t["type"] for f in built for t in f["data"]] == [
        "indicator",
        "indicator",
        "scatter",
        "parcoords",
    ]


# --- The success metric against its target ------------------------------------------------


def test_gauge_shades_the_side_of_the_target_that_counts_as_success():
    higher = figures.success_gauge(metric="auc", best=0.8, target=0.85, maximize=True)["data"][0]
    assert higher["mode"] == "number+delta+gauge"
    assert higher["gauge"]["shape"] == "bullet"
    assert higher["gauge"]["threshold"]["value"] == 0.85
    low, high = higher["gauge"]["axis"]["range"]
    assert low == 0 and high > 0.85
    assert higher["gauge"]["steps"] == [{"range": [0.85, high], "color": figures.GOOD_ZONE}]
    assert higher["gauge"]["bar"]["color"] == figures.SHORT
    assert higher["delta"]["increasing"]["color"] == figures.GOOD

    lower = figures.success_gauge(metric="rmse", best=0.2, target=0.3, maximize=False)["data"][0]
    low, high = lower["gauge"]["axis"]["range"]
    assert lower["gauge"]["steps"][0]["range"] == [low, 0.3]
    assert lower["gauge"]["bar"]["color"] == figures.GOOD
    assert lower["delta"]["decreasing"]["color"] == figures.GOOD


def test_gauge_range_holds_negative_metrics():
    trace = figures.success_gauge(metric="ll", best=-2.0, target=-1.0, maximize=True)["data"][0]
    low, high = trace["gauge"]["axis"]["range"]
    assert low < -2.0 and high >= 0


def test_gauge_without_target_is_just_the_number():
    trace = figures.success_gauge(metric="<b>x</b>", best=3.0, target=None, maximize=True)["data"][
        0
    ]
    assert trace["mode"] == "number"
    assert "gauge" not in trace
    assert trace["title"]["text"] == "Best &lt;b&gt;x&lt;/b&gt;"


# --- Curves ---------------------------------------------------------------------------------


def test_curves_one_svg_line_per_run_with_gaps_for_values_that_cannot_be_drawn():
    figure = figures.metric_curves(
        [curve("<i>a</i>", [1.0, None, math.inf, 2.0]), curve("b", [3.0, 2.0])],
        metric="loss",
        target=1.5,
    )
    first, second = figure["data"]
    assert first["type"] == "scatter"
    assert first["name"] == "&lt;i&gt;a&lt;/i&gt;"
    assert first["y"] == [1.0, None, None, 2.0]
    assert first["connectgaps"] is False
    assert first["x"] == [0, 1, 2, 3]
    assert first["line"]["color"] != second["line"]["color"]
    assert figure["layout"]["shapes"][0]["y0"] == 1.5
    assert figure["layout"]["xaxis"]["title"]["text"] == "Step"
    assert figure["layout"]["showlegend"] is True


def test_curves_say_when_they_were_reduced():
    reduced = figures.metric_curves([curve("a", [1.0] * 100, total=10_000)], metric="m")
    assert "100 of 10,000 points" in reduced["data"][0]["hovertemplate"]
    assert reduced["data"][0]["mode"] == "lines"
    whole = figures.metric_curves([curve("a", [1.0, 2.0])], metric="m")
    assert "points" not in whole["data"][0]["hovertemplate"]
    assert whole["data"][0]["mode"] == "lines+markers"
    assert whole["layout"]["showlegend"] is False


def test_curves_without_steps_use_time_since_each_runs_first_value():
    figure = figures.metric_curves(
        [curve("a", [1.0, 2.0, 3.0], steps=[0, 0, 0], timestamps=[5000, 6000, 8000])],
        metric="m",
    )
    assert figure["data"][0]["x"] == [0.0, 1.0, 3.0]
    assert figure["layout"]["xaxis"]["title"]["text"] == "Seconds since the run's first value"


def test_many_curves_never_look_alike():
    curves = [curve(f"r{i}", [float(i)]) for i in range(len(figures.PALETTE) * 2)]
    styles = {
        (t["line"]["color"], t["line"]["dash"])
        for t in figures.metric_curves(curves, metric="m")["data"]
    }
    assert len(styles) == len(curves)


# --- Parallel coordinates -------------------------------------------------------------------


def test_varying_params_skip_what_every_run_shares():
    params = [
        {"seed": "1", "lr": "0.1", "opt": "adam"},
        {"seed": "1", "lr": "0.2", "opt": "adam", "extra": "x"},
        {"seed": "1", "lr": "0.3", "opt": "sgd"},
    ]
    assert figures.varying_params(params, 10) == ["lr", "opt", "extra"]
    assert figures.varying_params(params, 1) == ["lr"]
    assert figures.varying_params([], 5) == []


def test_parallel_coordinates_axes_numeric_log_and_categorical():
    runs = [
        run("a", 0.70, lr="0.1", depth="3", optimizer="adam", seed="1"),
        run("b", 0.80, lr="0.001", depth="5", optimizer="sgd", seed="1"),
        run("c", 0.90, lr="0.0001", depth="4", optimizer="adam", seed="1", note="<b>x</b>"),
        run("no value", None, lr="1", depth="9", optimizer="lbfgs", seed="2"),
    ]
    trace = figures.parallel_coordinates(runs, metric="val_auc")["data"][0]
    dims = {d["label"]: d for d in trace["dimensions"]}
    assert list(dims) == ["Run", "depth", "lr (log)", "optimizer", "note", "val_auc"]
    assert dims["depth"]["values"] == [3, 5, 4]
    assert dims["depth"]["tickvals"] == [3, 4, 5]
    assert dims["lr (log)"]["values"] == pytest.approx([-1, -3, -4])
    assert dims["lr (log)"]["ticktext"] == ["0.0001", "0.001", "0.01", "0.1"]
    assert dims["lr (log)"]["range"] == [-4, -1]
    assert dims["optimizer"]["values"] == [0, 1, 0]
    assert dims["optimizer"]["ticktext"] == ["adam", "sgd"]
    # A run without the param sits on its own level; tick labels are plain text in Plotly.
    assert dims["note"]["ticktext"] == ["<b>x</b>", figures.MISSING]
    assert dims["note"]["values"] == [1, 1, 0]
    assert dims["val_auc"]["values"] == [0.7, 0.8, 0.9]
    assert trace["line"]["color"] == [0.7, 0.8, 0.9]
    assert trace["line"]["reversescale"] is False


def test_parallel_coordinates_darkest_is_best_when_lower_is_better():
    trace = figures.parallel_coordinates(
        [run("a", 0.2, k="1"), run("b", 0.1, k="2")], metric="rmse", maximize=False
    )["data"][0]
    assert trace["line"]["reversescale"] is True


def test_parallel_coordinates_caps_the_param_axes():
    runs = [
        run(str(i), float(i), **{f"p{j:02d}": str(i * j) for j in range(1, 30)}) for i in range(3)
    ]
    trace = figures.parallel_coordinates(runs, metric="m")["data"][0]
    assert len(trace["dimensions"]) == figures.MAX_PARAM_AXES + 2  # the runs, the metric


def test_parallel_coordinates_name_each_run_on_the_first_axis():
    trace = figures.parallel_coordinates(
        [run("<b>a</b>", 0.1, depth="3"), run("b" * 40, 0.2, depth="5"), run("c", None, depth="4")],
        metric="m",
    )["data"][0]
    runs_axis = trace["dimensions"][0]
    assert runs_axis["label"] == "Run"
    assert runs_axis["values"] == runs_axis["tickvals"] == [0, 1]
    # Tick labels are plain text to Plotly: shortened, never escaped.
    assert runs_axis["ticktext"] == ["<b>a</b>", "b" * (figures.TICK_CHARS - 1) + "…"]


def test_parallel_coordinates_on_a_phone_shorten_every_name_and_drop_the_colour_bar():
    """A phone has about 200 px for every axis: a long metric name ran off the chart and a
    run's name past its left edge; the colour bar's title was cut on a desktop too."""
    metric = "Fraud caught per false alarm (PR AUC)"
    figure = figures.parallel_coordinates(
        [run("gbt-device-v2-focal", 0.2, depth="3"), run("b", 0.5, depth="5")], metric=metric
    )
    wide, narrow = figure["data"][0], figure["narrow"]["data"][0]
    assert wide["dimensions"][-1]["label"] == metric and "title" not in wide["line"]["colorbar"]
    labels = [d["label"] for d in narrow["dimensions"]]
    assert labels == ["Run", "depth", "Fraud caugh…"]
    assert all(len(label) <= figures.NARROW_LABEL_CHARS for label in labels)
    assert narrow["dimensions"][0]["ticktext"] == ["gbt-device-…", "b"]
    assert narrow["labelangle"] == -40 and narrow["line"] == {"showscale": False}


def test_as_number():
    assert figures.as_number("1e-3") == 0.001
    assert figures.as_number("adam") is None
    assert figures.as_number("nan") is None
    assert figures.as_number("inf") is None


def test_a_few_whole_numbers_are_their_own_ticks_and_fractions_are_not():
    trace = figures.parallel_coordinates(
        [run("a", 0.1, depth="3", dropout="0.1"), run("b", 0.2, depth="5", dropout="0.25")],
        metric="m",
    )["data"][0]
    _, depth, dropout, _ = trace["dimensions"]
    assert depth["tickvals"] == [3, 5]
    assert "tickvals" not in dropout


def test_a_long_metric_label_wraps_beside_the_bar_and_stays_text():
    label = "Fraud caught per false alarm (PR AUC) <b>"
    trace = figures.success_gauge(metric=label, best=0.66, target=0.6, maximize=True)["data"][0]
    lines = trace["title"]["text"].split("<br>")
    assert len(lines) >= 2 and all(len(line) <= 30 for line in lines)
    assert " ".join(lines) == "Best Fraud caught per false alarm (PR AUC) &lt;b&gt;"


def test_parallel_coordinates_on_a_phone_shorten_the_ticks_and_drop_the_colour_bar():
    figure = figures.parallel_coordinates(
        [run("a long run name", 0.5, kind="gradient boosting"), run("b", 0.6, kind="forest")],
        metric="m",
    )
    (wide,) = figure["data"]
    assert wide["line"]["showscale"] is True
    (narrow,) = figure["narrow"]["data"]
    assert narrow["line"] == {"showscale": False}
    runs, *params = narrow["dimensions"]
    # The runs keep more of their names than a param's value, no more than fits the margin.
    assert runs["ticktext"] == ["a long run…", "b"]
    ticks = [t for d in params if "ticktext" in d for t in d["ticktext"]]
    assert ticks and all(len(t) <= figures.NARROW_TICK_CHARS for t in ticks)
    assert "gradien…" in ticks
    assert [d["values"] for d in narrow["dimensions"]] == [d["values"] for d in wide["dimensions"]]

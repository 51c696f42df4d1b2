"""Experiment figures: the success metric against its target, metric curves, and params
against the metric (parallel coordinates)."""

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    GRID,
    INK,
    LOOP,
    MUTED,
    PALETTE,
    Figure,
    _excerpt,
    _figure,
    _layout,
    _level_line,
    _text,
    _wrap,
    metric_axis,
)
from phases.metrics import meets_target

# --- Experiments: the success metric against its target ---------------------------------

GOOD = "#009E73"
SHORT = "#E69F00"
GOOD_ZONE = "#e3f4ea"


def _finite(value: float | None) -> float | None:
    """``None`` for NaN and ±inf, which JSON cannot carry and a chart cannot place."""
    return value if value is not None and math.isfinite(value) else None


def _gauge_range(best: float, target: float) -> list[float]:
    """From zero (or below, for negative metrics) to a little past the larger of the two,
    so the bar and the target line never sit on the edge."""
    low, high = min(0.0, best, target), max(0.0, best, target)
    span = (high - low) or 1.0
    return [low - (0.1 * span if low < 0 else 0.0), high + 0.1 * span]


def success_gauge(*, metric: str, best: float, target: float | None, maximize: bool) -> Figure:
    """The best value a run reached, as a bullet bar with the target as a line across it.

    The side of the target that counts as success is shaded, so "higher is better" and
    "lower is better" read the same way; the delta says how far the best run is from it.
    """
    # Beside the bullet bar the title has a quarter of the width: long labels wrap.
    title = {"text": _wrap(f"Best {metric}", 24, lines=3), "font": {"size": 14, "weight": "bold"}}
    number = {"valueformat": ".4~g", "font": {"size": 26}}
    if target is None:
        trace = {"type": "indicator", "mode": "number", "value": best, "number": number}
        trace["title"] = title
        layout = _layout(height=130, margin={"l": 20, "r": 20, "t": 30, "b": 10})
        return _figure([trace], layout)
    low, high = _gauge_range(best, target)
    met = meets_target(best, target, maximize=maximize)
    better, worse = (GOOD, LOOP) if maximize else (LOOP, GOOD)
    trace = {
        "type": "indicator",
        "mode": "number+delta+gauge",
        "value": best,
        "number": number,
        "delta": {
            "reference": target,
            "valueformat": ".3~g",
            "increasing": {"color": better, "symbol": "▲ "},
            "decreasing": {"color": worse, "symbol": "▼ "},
            "suffix": " vs target",
            "font": {"size": 14},
        },
        "title": title,
        "domain": {"x": [0.28, 1], "y": [0.1, 0.9]},
        "gauge": {
            "shape": "bullet",
            "axis": {"range": [low, high], "tickformat": ".3~g", "tickfont": {"size": 11}},
            "bar": {"color": GOOD if met else SHORT, "thickness": 0.45},
            "bgcolor": "#ffffff",
            "borderwidth": 1,
            "bordercolor": GRID,
            "steps": [{"range": [target, high] if maximize else [low, target], "color": GOOD_ZONE}],
            "threshold": {"line": {"color": INK, "width": 3}, "thickness": 0.9, "value": target},
        },
    }
    layout = _layout(height=150, margin={"l": 20, "r": 30, "t": 20, "b": 30})
    return _figure([trace], layout)


# --- Experiments: metric curves ---------------------------------------------------------

DASHES = ("solid", "dash", "dot", "dashdot")
MARKERS_UP_TO = 60


@dataclass(frozen=True, slots=True)
class Curve:
    """One run's series of a metric as the server reduced it; ``None`` values are gaps
    (NaN or infinite points). ``total_points`` is how many the run actually logged."""

    label: str
    steps: Sequence[int]
    timestamps: Sequence[int]
    values: Sequence[float | None]
    total_points: int
    downsampled: bool


def worth_drawing(curves: Sequence[Curve]) -> bool:
    """Whether any curve has two points or more. Runs that each logged a metric once (a
    sweep's trials, a script's final score) make no lines: their values are in the table."""
    return any(curve.total_points > 1 for curve in curves)


def _uses_steps(curves: Sequence[Curve]) -> bool:
    """Steps are the x axis unless no curve varies them (a client that logs no step sends
    0 for every point); wall time since each run's first value is then the only order."""
    return any(len(set(curve.steps)) > 1 for curve in curves) or not any(
        len(curve.steps) > 1 for curve in curves
    )


def metric_curves(
    curves: Sequence[Curve], *, metric: str, target: float | None = None, height: int = 340
) -> Figure:
    """Each run's curve of one metric, overlaid: SVG lines, since the server already
    reduced every series to a few thousand points at most.

    Colours cycle through the palette and, past its length, the dash style changes too, so
    two runs never look alike. The hover says when a curve is a reduction of a longer one.
    """
    by_step = _uses_steps(curves)
    data = []
    for i, curve in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        dash = DASHES[(i // len(PALETTE)) % len(DASHES)]
        if by_step:
            x: list = list(curve.steps)
        else:
            start = curve.timestamps[0] if curve.timestamps else 0
            x = [(t - start) / 1000 for t in curve.timestamps]
        shown = f"{len(curve.values):,} of {curve.total_points:,} points"
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if len(curve.values) <= MARKERS_UP_TO else "lines",
                "name": _text(curve.label),
                "x": x,
                "y": [_finite(v) for v in curve.values],
                "line": {"color": color, "width": 2, "dash": dash},
                "marker": {"color": color, "size": 5},
                "connectgaps": False,
                "hovertemplate": "%{y:.4~g} at "
                + ("step %{x}" if by_step else "%{x:.0f} s")
                + "<extra>%{fullData.name}"
                + (f" · {shown}" if curve.downsampled else "")
                + "</extra>",
            }
        )
    shapes = [] if target is None else [_level_line(target, "target")]
    layout = _layout(
        height=height,
        showlegend=len(curves) > 1,
        hovermode="x unified" if len(curves) > 1 else "closest",
        xaxis={
            "title": {"text": "Step" if by_step else "Seconds since the run's first value"},
            "gridcolor": GRID,
            "zeroline": False,
        },
        yaxis=metric_axis(metric, zeroline=False),
        shapes=shapes,
        margin={"l": 10, "r": 20, "t": 40 if len(curves) > 1 else 20, "b": 40},
    )
    return _figure(data, layout)


# --- Experiments: params against the metric ---------------------------------------------

MAX_PARAM_AXES = 12
TICK_CHARS = 18
NARROW_TICK_CHARS = 8  # on a phone
NARROW_LABEL_CHARS = 12  # an axis's name and a run's, on a phone
MISSING = "—"
# A numeric param spanning two orders of magnitude (learning rates, regularisation) is
# drawn on a log axis: on a linear one most runs would sit on the floor.
LOG_SPAN = 100
FEW_TICKS = 8
# Orange for the worst runs, through sky blue, to navy for the best: hues that stay apart
# with the common colour blindnesses, the best lines darkest on white.
RANKED_SCALE = [[0.0, "#E69F00"], [0.5, "#56B4E9"], [1.0, "#08306b"]]


@dataclass(frozen=True, slots=True)
class RunParams:
    """One run in a comparison: its params as logged (text) and its value of the metric."""

    label: str
    params: Mapping[str, str]
    value: float | None


def as_number(text: str) -> float | None:
    """A param's value as a finite number, or ``None`` when it is not one (``"adam"``)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def varying_params(params: Sequence[Mapping[str, str]], limit: int) -> list[str]:
    """The param keys that tell runs apart: those whose value differs between the runs,
    most often logged first, then by name; a key every run logged the same way says
    nothing about why one run did better."""
    counts: dict[str, int] = defaultdict(int)
    values: dict[str, set[str | None]] = defaultdict(set)
    for run_params in params:
        for key, value in run_params.items():
            counts[key] += 1
            values[key].add(value)
    for key in counts:
        if counts[key] < len(params):
            values[key].add(None)
    keys = [key for key in counts if len(values[key]) > 1]
    return sorted(keys, key=lambda key: (-counts[key], key))[:limit]


def _dimension(label: str, texts: Sequence[str | None]) -> dict:
    """An axis of the chart: numeric when every run logged a number (a few whole numbers
    are their own ticks, so ``max_depth`` never shows 4.5), on a log scale when the numbers
    span two orders of magnitude; otherwise one evenly spaced level per value, missing last."""
    numbers = [as_number(text) if text is not None else None for text in texts]
    if all(number is not None for number in numbers):
        low, high = min(numbers), max(numbers)
        distinct = sorted(set(numbers))
        if low > 0 and high / low >= LOG_SPAN:
            exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
            return {
                "label": f"{label} (log)",
                "values": [math.log10(n) for n in numbers],
                "tickvals": list(exponents),
                "ticktext": [f"{10.0**e:g}" for e in exponents],
                # Whole decades at both ends, so every tick sits on the axis.
                "range": [exponents[0], exponents[-1]],
            }
        dimension = {"label": label, "values": numbers}
        if len(distinct) <= FEW_TICKS and all(n.is_integer() for n in distinct):
            dimension["tickvals"] = distinct
            dimension["ticktext"] = [f"{n:g}" for n in distinct]
        return dimension
    levels = sorted(
        {text for text in texts if text is not None},
        key=lambda text: (as_number(text) is None, as_number(text) or 0.0, text),
    )
    if any(text is None for text in texts):
        levels.append(None)
    index = {level: i for i, level in enumerate(levels)}
    return {
        "label": label,
        "values": [index[text] for text in texts],
        "tickvals": list(range(len(levels))),
        # Plotly sets these tick labels as plain text, unlike axis titles: escaping them
        # would show the entities themselves.
        "ticktext": [MISSING if level is None else _excerpt(level, TICK_CHARS) for level in levels],
        "range": [-0.25, max(len(levels) - 1, 0) + 0.25],
    }


def parallel_coordinates(
    runs: Sequence[RunParams], *, metric: str, maximize: bool = True
) -> Figure:
    """Params against the metric: one axis per param that varies, the metric last, each run
    a line coloured by its metric so the best runs stand out (dark) whichever way the
    metric counts. Runs without a value of the metric cannot be placed and are left out.

    Plotly draws parallel coordinates with WebGL (three contexts for the chart); a page
    holds at most one such chart, far below the browsers' limit of about sixteen.
    """
    placed = [run for run in runs if _finite(run.value) is not None]
    keys = varying_params([run.params for run in placed], MAX_PARAM_AXES)
    dimensions = [_dimension(_text(key), [run.params.get(key) for run in placed]) for key in keys]
    # The first axis names the runs, so each line can be followed back to its run.
    dimensions.insert(
        0,
        {
            "label": "Run",
            "values": list(range(len(placed))),
            "tickvals": list(range(len(placed))),
            "ticktext": [_excerpt(run.label, TICK_CHARS) for run in placed],
            "range": [-0.25, max(len(placed) - 1, 0) + 0.25],
        },
    )
    values = [run.value for run in placed]
    dimensions.append({"label": _text(metric), "values": values})
    trace = {
        "type": "parcoords",
        "line": {
            "color": values,
            "colorscale": RANKED_SCALE,
            "reversescale": not maximize,
            "showscale": True,
            # No title: the axis beside it is the metric, named; a long name written up the
            # bar ran past the chart's top and bottom.
            "colorbar": {"thickness": 14},
        },
        "dimensions": dimensions,
        "labelangle": -15 if len(dimensions) > 6 else 0,
        "labelside": "top",
        "labelfont": {"size": 12, "color": INK},
        "tickfont": {"size": 11, "color": MUTED},
        "rangefont": {"size": 10, "color": MUTED},
    }
    layout = _layout(height=420, margin={"l": 120, "r": 40, "t": 90, "b": 30})

    # On a phone: shorter axis names and tick labels, the names slanted, and no colour bar
    # (the caption says darker is better), so that the axes keep room between them and no
    # name runs into the next or off the chart.
    def on_a_phone(dimension: dict, tick_chars: int) -> dict:
        shorter = {"label": _excerpt(dimension["label"], NARROW_LABEL_CHARS)}
        if "ticktext" in dimension:
            shorter["ticktext"] = [_excerpt(t, tick_chars) for t in dimension["ticktext"]]
        return {**dimension, **shorter}

    run_axis, *rest = dimensions  # a run's name keeps more of itself: it names the line
    narrow_dimensions = [on_a_phone(run_axis, NARROW_LABEL_CHARS)] + [
        on_a_phone(d, NARROW_TICK_CHARS) for d in rest
    ]
    narrow = {
        "dimensions": narrow_dimensions,
        "labelangle": -40,
        "line": {"showscale": False},
        "tickfont": {"size": 10},
        "rangefont": {"size": 9},
    }
    return _figure(
        [trace],
        layout,
        narrow_layout={"height": 460, "margin": {"l": 100, "r": 72, "t": 100, "b": 30}},
        narrow_data=[narrow],
    )

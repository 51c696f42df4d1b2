"""Production monitoring: each monitor's results over time against its threshold, and the
drift of every feature in the latest window."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    GRID,
    INK,
    LOOP,
    MUTED,
    _figure,
    _layout,
    _level_line,
    _stamp,
    _text,
)
from dashboard.figures.experiments import GOOD, SHORT

STATUS_COLOURS = {
    "ok": GOOD,
    "warning": SHORT,
    "alert": LOOP,
    "not_enough_data": "#9aa5b1",
    "error": INK,
}
STATUS_WORDS = {
    "ok": "ok",
    "warning": "warning",
    "alert": "alert",
    "not_enough_data": "not enough data",
    "error": "error",
}


# Date ticks a monitor's card has room for, whatever span its results cover: the finest
# unit the ticks step by and no more (Plotly's own labels run to seconds, with the date on
# a second line that the card cuts off). At most four, level, so none is cut or tilted.
DATE_TICKS = [
    {"dtickrange": [None, 60_000], "value": "%H:%M:%S"},
    {"dtickrange": [60_000, 86_400_000], "value": "%-d %b %H:%M"},
    {"dtickrange": [86_400_000, "M1"], "value": "%-d %b"},
    {"dtickrange": ["M1", "M12"], "value": "%b %Y"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]
DATE_AXIS = {
    "type": "date",
    "gridcolor": GRID,
    "tickformatstops": DATE_TICKS,
    "nticks": 4,
    "tickangle": 0,
    "automargin": True,
}
# The least span a monitor's axis covers: a single result, or a few minutes apart, would
# otherwise tick by the second.
LEAST_SPAN = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Point:
    at: dt.datetime  # the window's end, local time
    value: float | None
    status: str


@dataclass(frozen=True)
class FeatureScore:
    name: str
    method: str
    score: float | None
    threshold: float | None
    drifted: bool
    status: str


def monitor_series(
    points: Sequence[Point], *, threshold: float | None, unit: str, height: int = 220
) -> dict:
    """A monitor's headline number per window (markers coloured by status), with its
    threshold as a dashed line; windows without a number sit on the axis as hollow marks."""
    shown = [p for p in points if p.value is not None]
    empty = [p for p in points if p.value is None]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _text(unit),
            "x": [_stamp(p.at) for p in shown],
            "y": [p.value for p in shown],
            "line": {"color": MUTED, "width": 1.5},
            "marker": {"color": [STATUS_COLOURS[p.status] for p in shown], "size": 8},
            "text": [STATUS_WORDS[p.status] for p in shown],
            "hovertemplate": "%{y:.4~g} · %{text}<extra>%{x}</extra>",
        }
    ]
    if empty:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "no number",
                "x": [_stamp(p.at) for p in empty],
                "y": [0] * len(empty),
                "marker": {
                    "color": [STATUS_COLOURS[p.status] for p in empty],
                    "size": 8,
                    "symbol": "circle-open",
                },
                "text": [STATUS_WORDS[p.status] for p in empty],
                "hovertemplate": "%{text}<extra>%{x}</extra>",
            }
        )
    shapes = [] if threshold is None else [_level_line(threshold, "threshold")]
    layout = _layout(
        height=height,
        showlegend=False,
        margin={"l": 10, "r": 20, "t": 10, "b": 30},
        xaxis=_date_axis([p.at for p in points]),
        yaxis={"gridcolor": GRID, "automargin": True, "rangemode": "tozero"},
        shapes=shapes,
    )
    return _figure(data, layout)


def _date_axis(times: Sequence[dt.datetime]) -> dict:
    """``DATE_AXIS``, over at least ``LEAST_SPAN`` centred on ``times`` when they span less."""
    if not times or max(times) - min(times) >= LEAST_SPAN:
        return DATE_AXIS
    middle = min(times) + (max(times) - min(times)) / 2
    half = LEAST_SPAN / 2
    return {**DATE_AXIS, "range": [_stamp(middle - half), _stamp(middle + half)]}


def feature_drift(features: Sequence[FeatureScore], *, height_per_bar: int = 26) -> dict:
    """Each feature's drift score over its own threshold (1 is the line at which it
    drifts), so that distances and p-values share one axis; hover gives the raw numbers."""
    rows = [f for f in features if f.score is not None and f.threshold]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [_text(f.name) for f in rows],
            "x": [_relative(f) for f in rows],
            "marker": {
                "color": [
                    STATUS_COLOURS[
                        "alert" if f.drifted else ("warning" if f.status == "warning" else "ok")
                    ]
                    for f in rows
                ]
            },
            "customdata": [[f.method, f.score, f.threshold] for f in rows],
            "hovertemplate": "%{y}: %{customdata[0]} %{customdata[1]:.4~g} "
            "(threshold %{customdata[2]:.4~g})<extra></extra>",
        }
    ]
    layout = _layout(
        height=max(140, 60 + height_per_bar * len(rows)),
        showlegend=False,
        margin={"l": 10, "r": 20, "t": 10, "b": 40},
        xaxis={
            "gridcolor": GRID,
            "title": {"text": "score over threshold (drift at 1)"},
            "rangemode": "tozero",
            "automargin": True,
        },
        yaxis={"automargin": True, "autorange": "reversed"},
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": 1,
                "x1": 1,
                "y0": 0,
                "y1": 1,
                "line": {"color": INK, "width": 1.5, "dash": "dash"},
            }
        ],
    )
    # On a phone the plot keeps half the width beside the features' names: a shorter title.
    narrow = {"xaxis": {"title": {"text": "score / threshold (1: drift)"}}}
    return _figure(data, layout, narrow_layout=narrow)


P_VALUE_METHODS = frozenset({"ks", "chisquare", "z"})


def _relative(feature: FeatureScore) -> float:
    """How far a feature is towards drifting: a distance over its threshold, or for a
    p-value the threshold over the p-value (small p-values are the drifted ones)."""
    if feature.method in P_VALUE_METHODS:
        return min(feature.threshold / max(feature.score, 1e-12), 10.0)
    return feature.score / feature.threshold

"""The model registry: a model's versions on the success metric, against the target."""

from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    GRID,
    INK,
    MUTED,
    Figure,
    _figure,
    _layout,
    _text,
    metric_axis,
)
from dashboard.figures.experiments import GOOD, SHORT, _finite
from phases.metrics import meets_target

UNMEASURED = "#9aa5b1"


@dataclass(frozen=True)
class VersionValue:
    number: int
    value: float | None
    in_production: bool
    current: bool


def version_values(
    versions: Sequence[VersionValue],
    *,
    metric: str,
    target: float | None,
    maximize: bool,
    production_alias: str,
    height: int = 240,
) -> Figure:
    """A bar per version: green where it meets the target, amber where it misses, grey
    without a value (on the axis). The version of the page has a dark outline; the one at
    the production alias says so above its bar. The target is a dashed line. A long
    metric name is the y axis title on two lines at most; the hover names it whole."""
    labels = [f"v{v.number}" for v in versions]
    values = [_finite(v.value) for v in versions]
    colours = []
    for value in values:
        if value is None:
            colours.append(UNMEASURED)
        elif target is None or meets_target(value, target, maximize=maximize):
            colours.append(GOOD)
        else:
            colours.append(SHORT)
    alias = _text(production_alias)
    data = [
        {
            "type": "bar",
            "name": _text(metric),
            "x": labels,
            "y": [0 if value is None else value for value in values],
            "marker": {
                "color": colours,
                "line": {
                    "color": [INK if v.current else "rgba(0,0,0,0)" for v in versions],
                    "width": 2,
                },
            },
            "text": [alias if v.in_production else "" for v in versions],
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": ["no value" if value is None else "" for value in values],
            "hovertemplate": "%{x}: %{y:.4~g} %{customdata}<extra>%{fullData.name}</extra>",
            "showlegend": False,
        }
    ]
    shapes = []
    if target is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": target,
                "y1": target,
                "line": {"color": MUTED, "width": 1.5, "dash": "dash"},
            }
        )
    layout = _layout(
        height=height,
        xaxis={"type": "category", "gridcolor": GRID},
        yaxis=metric_axis(metric, zeroline=True),
        shapes=shapes,
        margin={"l": 10, "r": 50, "t": 30, "b": 40},
        annotations=[
            {
                "xref": "paper",
                "x": 1,
                "y": target,
                "yref": "y",
                "text": "target",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "middle",
                "font": {"color": MUTED, "size": 11},
            }
        ]
        if target is not None
        else [],
    )
    return _figure(data, layout)

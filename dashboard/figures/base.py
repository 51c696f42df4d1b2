"""Style and helpers every figure shares: fonts, colours, layout, and user text as text."""

import datetime as dt
import html
import textwrap

Figure = dict[str, object]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
# Okabe-Ito: distinguishable with the common kinds of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
PLANNED = "#c5d3e3"
ACTUAL = "#0072B2"
ONGOING = "#E69F00"
LOOP = "#D55E00"

# The mode bar holds what helps and nothing that leaves the site: plotly.js would otherwise
# offer to upload the chart, confidential data and all, to Plotly's cloud. Zoom and reset
# only where there are axes to zoom; ``static/js/charts.js`` hides the bar on touch screens.
MODE_BAR = ("toImage", "zoom2d", "resetScale2d")
CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "modeBarButtons": [list(MODE_BAR)],
}
STILL_CONFIG = {**CONFIG, "modeBarButtons": [["toImage"]]}
# Traces drawn on x and y axes, which zoom and reset apply to.
CARTESIAN = frozenset({"scatter", "bar", "box", "histogram", "heatmap"})
HOVER_EXAMPLES = 3
REASON_CHARS = 90
# A chart narrower than this (its own width in pixels: a phone) is drawn with its figure's
# ``narrow`` overrides merged in (``static/js/charts.js``): wrapped labels, more height.
NARROW_BELOW = 640
# A bullet gauge holds its title beside the bar and its number and delta after it, each in
# a fraction of the width: on a phone none of them fits, so there the gauge is an arc over
# the chart's whole width, the title above it and the number and delta inside it.
NARROW_GAUGE = {"gauge": {"shape": "angular"}, "domain": {"x": [0, 1], "y": [0, 1]}}
NARROW_GAUGE_LAYOUT = {"height": 230, "margin": {"l": 25, "r": 25, "t": 50, "b": 10}}


def _text(value: object) -> str:
    """User text as Plotly should show it: literally, never as markup."""
    return html.escape(str(value), quote=False)


# Characters a line of a y axis title holds: a long metric name takes two lines beside the
# chart's height (the hover names the metric whole).
AXIS_TITLE_CHARS = 24


def metric_axis(metric: str, *, zeroline: bool) -> dict:
    """A y axis titled by a metric's name, on two lines at most, its margin grown to fit."""
    return {
        "title": {"text": _wrap(metric, AXIS_TITLE_CHARS), "font": {"size": 12}},
        "automargin": True,
        "gridcolor": GRID,
        "zeroline": zeroline,
    }


def _wrap(value: object, width: int, lines: int = 2) -> str:
    """User text as a tick label of a narrow chart: at most ``lines`` lines of about
    ``width`` characters (a longer word is not split), the rest cut with an ellipsis (the
    hover keeps the whole text); each line as :func:`_text` makes it."""
    wrapped = textwrap.wrap(
        str(value), width, max_lines=lines, placeholder=" …", break_long_words=False
    )
    wrapped = wrapped or [""]
    return "<br>".join(_text(line) for line in wrapped)


def _excerpt(value: str, limit: int = REASON_CHARS) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _stamp(value: dt.date | dt.datetime) -> str:
    """A date or a wall-clock time as Plotly reads it; callers pass local times."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def _level_line(value: float, name: str) -> dict[str, object]:
    """A dashed line across the chart at ``value`` of the y axis, labelled with its name
    and value: the level a series is read against (a target, a threshold)."""
    return {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": value,
        "y1": value,
        "line": {"color": INK, "width": 1.5, "dash": "dash"},
        "label": {
            "text": f"{name} {value:.4g}",
            "textposition": "start",
            "yanchor": "bottom",
            "font": {"color": INK, "size": 12},
        },
    }


def _layout(**overrides) -> dict[str, object]:
    layout: dict[str, object] = {
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "hoverlabel": {"font": {"family": FONT}, "align": "left"},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
    layout.update(overrides)
    return layout


def _figure(
    data: list[dict],
    layout: dict,
    *,
    narrow_layout: dict | None = None,
    narrow_data: list[dict] | None = None,
) -> Figure:
    """The figure, and what changes when it is drawn narrower than :data:`NARROW_BELOW`:
    ``narrow_layout`` is merged into the layout, ``narrow_data[i]`` into trace ``i``. A
    bullet gauge turns angular there (:data:`NARROW_GAUGE`) unless the caller says otherwise."""
    cartesian = any(trace.get("type", "scatter") in CARTESIAN for trace in data)
    bullets = [trace.get("gauge", {}).get("shape") == "bullet" for trace in data]
    if any(bullets):
        given = list(narrow_data or []) + [{}] * (len(data) - len(narrow_data or []))
        narrow_data = [
            {**NARROW_GAUGE, **changes} if bullet else changes
            for bullet, changes in zip(bullets, given, strict=True)
        ]
        narrow_layout = {**NARROW_GAUGE_LAYOUT, **(narrow_layout or {})}
    figure: Figure = {
        "data": data,
        "layout": layout,
        "config": CONFIG if cartesian else STILL_CONFIG,
    }
    if narrow_layout or narrow_data:
        figure["narrow"] = {
            "below": NARROW_BELOW,
            "layout": narrow_layout or {},
            "data": narrow_data or [],
        }
    return figure

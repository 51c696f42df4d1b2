"""Plotly figures as plain dicts, built from plain data: no database, no request, no clock.

Pages pass these to the browser with ``json_script`` and plotly.js draws them. Keeping the
builders pure makes them testable without a database and keeps the JSON small: the server
sends what the chart shows (counts, quartiles), never the raw rows behind it.

Plotly renders a few HTML tags in its text (``<b>``, ``<a href>``, ...) and decodes
entities, so every user-provided string goes through :func:`_text`: it shows literally and
can never become markup or a link. Every trace is an SVG trace, except the parallel
coordinates of a run comparison, which Plotly draws only with WebGL (one chart per page).
"""

import datetime as dt
import html
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from phases.metrics import meets_target

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

CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
}
HOVER_EXAMPLES = 3
REASON_CHARS = 90


def _text(value: object) -> str:
    """User text as Plotly should show it: literally, never as markup."""
    return html.escape(str(value), quote=False)


def _excerpt(value: str, limit: int = REASON_CHARS) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _stamp(value: dt.date | dt.datetime) -> str:
    """A date or a wall-clock time as Plotly reads it; callers pass local times."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


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


def _figure(data: list[dict], layout: dict) -> Figure:
    return {"data": data, "layout": layout, "config": CONFIG}


# --- Portfolio: projects per phase ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifecycleFunnel:
    """How many projects sit in each phase of one lifecycle, phases in lifecycle order."""

    lifecycle: str
    phases: Sequence[tuple[str, int]]


def phase_funnel(funnels: Sequence[LifecycleFunnel]) -> Figure:
    """One funnel per lifecycle, stacked, since lifecycles do not share their phases."""
    funnels = [f for f in funnels if f.phases]
    row_px = [40 + 36 * len(f.phases) for f in funnels]
    total = sum(row_px) or 1
    data, annotations, axes = [], [], {}
    top = 1.0
    for i, (funnel, px) in enumerate(zip(funnels, row_px, strict=True), start=1):
        suffix = "" if i == 1 else str(i)
        height = px / total
        bottom = max(top - height, 0.0)
        names = [_text(name) for name, _ in funnel.phases]
        data.append(
            {
                "type": "funnel",
                "name": _text(funnel.lifecycle),
                "y": names,
                "x": [count for _, count in funnel.phases],
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "textinfo": "value",
                "textposition": "inside",
                "constraintext": "both",
                "marker": {"color": PALETTE[(i - 1) % len(PALETTE)]},
                "connector": {"fillcolor": GRID},
                "hovertemplate": "%{y}: %{x} project(s)<extra>%{fullData.name}</extra>",
            }
        )
        axes[f"xaxis{suffix}"] = {"visible": False, "anchor": f"y{suffix}", "fixedrange": True}
        axes[f"yaxis{suffix}"] = {
            "domain": [bottom, max(top - 32 / total, bottom)],
            "anchor": f"x{suffix}",
            "automargin": True,
            "categoryorder": "array",
            "categoryarray": names,
            "autorange": "reversed",
            "fixedrange": True,
        }
        annotations.append(
            {
                "text": f"<b>{_text(funnel.lifecycle)}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top,
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
            }
        )
        top = bottom
    layout = _layout(
        height=total + 20,
        showlegend=False,
        annotations=annotations,
        margin={"l": 10, "r": 20, "t": 10, "b": 10},
        **axes,
    )
    return _figure(data, layout)


# --- Portfolio: time spent in each phase ------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseDurations:
    """Days each project spent in one phase (every visit summed), and the planned days."""

    lifecycle: str
    order: int
    phase: str
    planned_days: float | None
    days: Sequence[float]


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks, the way Plotly computes its own boxes."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def box_stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "lowerfence": ordered[0],
        "q1": _quantile(ordered, 0.25),
        "median": _quantile(ordered, 0.5),
        "q3": _quantile(ordered, 0.75),
        "upperfence": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def time_in_phase(durations: Sequence[PhaseDurations]) -> Figure:
    """A box per phase from precomputed quartiles, so the JSON stays the same size however
    many projects stand behind it; planned durations are drawn as diamonds beside them."""
    by_lifecycle: dict[str, list[PhaseDurations]] = defaultdict(list)
    for item in sorted(durations, key=lambda d: (d.lifecycle, d.order)):
        if item.days:
            by_lifecycle[item.lifecycle].append(item)
    categories: list[str] = []
    data: list[dict] = []
    planned_x, planned_y, planned_text = [], [], []
    for i, (lifecycle, items) in enumerate(by_lifecycle.items()):
        names = [_text(item.phase) for item in items]
        categories += [name for name in names if name not in categories]
        stats = [box_stats(item.days) for item in items]
        trace = {
            "type": "box",
            "orientation": "h",
            "name": _text(lifecycle),
            "y": names,
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "boxmean": True,
            "hoverinfo": "x+name",
        }
        for key in ("lowerfence", "q1", "median", "q3", "upperfence", "mean"):
            trace[key] = [round(s[key], 2) for s in stats]
        data.append(trace)
        for item, name in zip(items, names, strict=True):
            if item.planned_days is not None:
                planned_x.append(item.planned_days)
                planned_y.append(name)
                planned_text.append(f"{len(item.days)} project(s)")
    if planned_x:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Planned",
                "x": planned_x,
                "y": planned_y,
                "text": planned_text,
                "marker": {"symbol": "diamond", "size": 10, "color": INK},
                "hovertemplate": "%{y}: planned %{x} days<extra>Planned</extra>",
            }
        )
    layout = _layout(
        height=max(180, 70 + 44 * len(categories)),
        boxmode="group",
        xaxis={
            "title": {"text": "Days in phase"},
            "rangemode": "tozero",
            "gridcolor": GRID,
            "zeroline": False,
        },
        yaxis={
            "categoryorder": "array",
            "categoryarray": categories,
            "autorange": "reversed",
            "automargin": True,
        },
    )
    return _figure(data, layout)


# --- Portfolio: loops back --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoopBack:
    project: str
    from_phase: str
    to_phase: str
    reason: str
    at: dt.datetime


def loop_backs(loops: Sequence[LoopBack]) -> Figure:
    """Loops back counted per edge, most frequent first; the hover names the latest few
    projects and why they went back, so the chart answers "why" without a click."""
    edges: dict[str, list[LoopBack]] = defaultdict(list)
    for loop in sorted(loops, key=lambda item: item.at, reverse=True):
        edges[f"{_text(loop.from_phase)} → {_text(loop.to_phase)}"].append(loop)
    ranked = sorted(edges.items(), key=lambda edge: (-len(edge[1]), edge[0]))
    labels = [label for label, _ in ranked]
    hover = []
    for _, items in ranked:
        lines = [
            f"<b>{_text(item.project)}</b>: {_text(_excerpt(item.reason))}"
            for item in items[:HOVER_EXAMPLES]
        ]
        if len(items) > HOVER_EXAMPLES:
            lines.append(f"and {len(items) - HOVER_EXAMPLES} more")
        hover.append("<br>".join(lines))
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Loops back",
            "y": labels,
            "x": [len(items) for _, items in ranked],
            "text": [len(items) for _, items in ranked],
            "textposition": "auto",
            "customdata": hover,
            "marker": {"color": LOOP},
            "hovertemplate": "%{y}<br>%{customdata}<extra>%{x} loop(s) back</extra>",
        }
    ]
    layout = _layout(
        height=max(160, 80 + 40 * len(labels)),
        showlegend=False,
        xaxis={
            "title": {"text": "Loops back"},
            "dtick": 1,
            "rangemode": "tozero",
            "gridcolor": GRID,
        },
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return _figure(data, layout)


# --- Project: the phase timeline --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedPhase:
    name: str
    start: dt.date | None
    due: dt.date | None


@dataclass(frozen=True, slots=True)
class Visit:
    """One stay in a phase, from the transition into it to the one out (``None``: still there)."""

    phase: str
    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Move:
    """A loop back, drawn as an arrow from the phase left to the phase reopened."""

    at: dt.datetime
    from_phase: str
    to_phase: str
    reason: str


def _bars(name: str, color: str, width: float, rows: list[tuple[str, str, float, str]]) -> dict:
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "y": [row[0] for row in rows],
        "base": [row[1] for row in rows],
        "x": [row[2] for row in rows],
        "customdata": [row[3] for row in rows],
        "width": width,
        "marker": {"color": color, "line": {"color": color, "width": 1}},
        "hovertemplate": f"%{{y}}<br>%{{customdata}}<extra>{name}</extra>",
    }


def _span(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> float:
    return (end - start).total_seconds() * 1000


def _day(value: dt.date | dt.datetime) -> str:
    return f"{value:%Y-%m-%d}"


def phase_timeline(
    phases: Sequence[PlannedPhase],
    visits: Sequence[Visit],
    moves: Sequence[Move],
    *,
    now: dt.datetime,
) -> Figure:
    """A Gantt chart: the planned dates of each phase behind the actual stays in it.

    A phase visited twice (after a loop back) has two actual bars; each loop back is an
    arrow between the two phases at the moment it happened, with its reason on hover.
    """
    names = [_text(phase.name) for phase in phases]
    planned = [
        (
            name,
            _stamp(phase.start),
            _span(phase.start, phase.due + dt.timedelta(days=1)),
            f"Planned {_day(phase.start)} to {_day(phase.due)}",
        )
        for name, phase in zip(names, phases, strict=True)
        if phase.start and phase.due
    ]
    done, ongoing = [], []
    for visit in visits:
        end = visit.end or now
        days = (end - visit.start).total_seconds() / 86_400
        label = f"{_day(visit.start)} to {_day(end) if visit.end else 'now'} ({days:.1f} days)"
        row = (_text(visit.phase), _stamp(visit.start), _span(visit.start, end), label)
        (done if visit.end else ongoing).append(row)

    data = [_bars("Planned", PLANNED, 0.7, planned), _bars("Actual", ACTUAL, 0.32, done)]
    if ongoing:
        data.append(_bars("In progress", ONGOING, 0.32, ongoing))
    annotations = []
    if moves:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Loop back",
                "x": [_stamp(move.at) for move in moves],
                "y": [_text(move.to_phase) for move in moves],
                "customdata": [
                    f"from {_text(move.from_phase)}: {_text(_excerpt(move.reason))}"
                    for move in moves
                ],
                "marker": {"symbol": "triangle-up", "size": 13, "color": LOOP},
                "hovertemplate": "Back to %{y} on %{x|%Y-%m-%d}<br>%{customdata}"
                "<extra>Loop back</extra>",
            }
        )
        annotations = [
            {
                "x": _stamp(move.at),
                "y": _text(move.to_phase),
                "ax": _stamp(move.at),
                "ay": _text(move.from_phase),
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1.2,
                "arrowwidth": 2,
                "arrowcolor": LOOP,
                "standoff": 8,
                "text": "",
            }
            for move in moves
        ]
    layout = _layout(
        height=max(200, 110 + 48 * len(names)),
        barmode="overlay",
        xaxis={"type": "date", "gridcolor": GRID},
        yaxis={
            "categoryorder": "array",
            "categoryarray": names,
            "autorange": "reversed",
            "automargin": True,
        },
        annotations=annotations,
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": _stamp(now),
                "x1": _stamp(now),
                "y0": 0,
                "y1": 1,
                "line": {"color": MUTED, "width": 1, "dash": "dot"},
                "label": {
                    "text": "now",
                    "textposition": "end",
                    "textangle": 0,
                    "yanchor": "bottom",
                    "font": {"color": MUTED, "size": 12},
                },
            }
        ],
    )
    return _figure(data, layout)


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
    title = {"text": f"Best <b>{_text(metric)}</b>", "font": {"size": 14}}
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
    shapes = []
    if target is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": target,
                "y1": target,
                "line": {"color": INK, "width": 1.5, "dash": "dash"},
                "label": {
                    "text": f"target {target:.4g}",
                    "textposition": "start",
                    "yanchor": "bottom",
                    "font": {"color": INK, "size": 12},
                },
            }
        )
    layout = _layout(
        height=height,
        showlegend=len(curves) > 1,
        hovermode="x unified" if len(curves) > 1 else "closest",
        xaxis={
            "title": {"text": "Step" if by_step else "Seconds since the run's first value"},
            "gridcolor": GRID,
            "zeroline": False,
        },
        yaxis={
            "title": {"text": _text(metric)},
            "gridcolor": GRID,
            "zeroline": False,
            "automargin": True,
        },
        shapes=shapes,
        margin={"l": 10, "r": 20, "t": 40 if len(curves) > 1 else 20, "b": 40},
    )
    return _figure(data, layout)


# --- Experiments: params against the metric ---------------------------------------------

MAX_PARAM_AXES = 12
TICK_CHARS = 18
MISSING = "—"
# A numeric param spanning two orders of magnitude (learning rates, regularisation) is
# drawn on a log axis: on a linear one most runs would sit on the floor.
LOG_SPAN = 100
FEW_TICKS = 8
# Light for the worst runs, dark for the best, so the best lines stand out on white.
RANKED_SCALE = [[0.0, "#a9b8c9"], [0.5, "#56B4E9"], [1.0, "#08306b"]]


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
    values = [run.value for run in placed]
    dimensions.append({"label": f"<b>{_text(metric)}</b>", "values": values})
    trace = {
        "type": "parcoords",
        "line": {
            "color": values,
            "colorscale": RANKED_SCALE,
            "reversescale": not maximize,
            "showscale": True,
            "colorbar": {"title": {"text": _text(metric), "side": "right"}, "thickness": 14},
        },
        "dimensions": dimensions,
        "labelangle": -15 if len(dimensions) > 6 else 0,
        "labelside": "top",
        "labelfont": {"size": 12, "color": INK},
        "tickfont": {"size": 11, "color": MUTED},
        "rangefont": {"size": 10, "color": MUTED},
    }
    layout = _layout(height=420, margin={"l": 70, "r": 40, "t": 90, "b": 30})
    return _figure([trace], layout)

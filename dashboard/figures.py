"""Plotly figures as plain dicts, built from plain data: no database, no request, no clock.

Pages pass these to the browser with ``json_script`` and plotly.js draws them. Keeping the
builders pure makes them testable without a database and keeps the JSON small: the server
sends what the chart shows (counts, quartiles), never the raw rows behind it.

Plotly renders a few HTML tags in its text (``<b>``, ``<a href>``, ...) and decodes
entities, so every user-provided string goes through :func:`_text`: it shows literally and
can never become markup or a link. Every trace is an SVG trace; none needs a WebGL context.
"""

import datetime as dt
import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

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

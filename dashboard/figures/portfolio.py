"""Portfolio figures: projects per phase, time spent in each phase, loops back."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    GRID,
    HOVER_EXAMPLES,
    INK,
    LOOP,
    PALETTE,
    Figure,
    _excerpt,
    _figure,
    _layout,
    _text,
)

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
                "text": _text(funnel.lifecycle),
                "font": {"weight": "bold"},
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
            f"{_text(item.project)}: {_text(_excerpt(item.reason))}"
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

"""Portfolio figures: projects per phase, time in the current phase per project, loops back."""

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    ACTUAL,
    GRID,
    HOVER_EXAMPLES,
    INK,
    LOOP,
    MUTED,
    ONGOING,
    PALETTE,
    Figure,
    _excerpt,
    _figure,
    _layout,
    _text,
    _wrap,
)

# Characters a line of a tick label holds on a phone, where a label takes two lines at most.
NARROW_LABEL = 18

# --- Portfolio: projects per phase ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseCount:
    """How many projects sit in one phase of one lifecycle today."""

    lifecycle: str
    phase: str
    projects: int


def projects_per_phase(counts: Sequence[PhaseCount]) -> Figure:
    """A labelled bar per phase, phases in lifecycle order, on one scale: a sponsor reads
    the count on the bar, and no shape suggests a conversion rate. Each lifecycle is a
    colour named in the legend, its phases a block of rows apart from the next lifecycle's
    (a line between them); the axis names the phase alone, so the bars keep the width."""
    lifecycles = list(dict.fromkeys(count.lifecycle for count in counts))
    rows = {lifecycle: [c for c in counts if c.lifecycle == lifecycle] for lifecycle in lifecycles}
    ordered = [count for lifecycle in lifecycles for count in rows[lifecycle]]
    data = []
    position = 0
    for i, lifecycle in enumerate(lifecycles):
        block = rows[lifecycle]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": _text(lifecycle),
                "y": list(range(position, position + len(block))),
                "x": [row.projects for row in block],
                "text": [row.projects for row in block],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": [f"{_text(lifecycle)} · {_text(row.phase)}" for row in block],
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": "%{customdata}: %{x} project(s)<extra></extra>",
            }
        )
        position += len(block)
    dividers = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": edge - 0.5,
            "y1": edge - 0.5,
            "line": {"color": MUTED, "width": 1},
        }
        for edge in itertools.accumulate(len(rows[lifecycle]) for lifecycle in lifecycles[:-1])
    ]
    xaxis = {"title": {"text": "Projects"}, "rangemode": "tozero", "gridcolor": GRID}
    if max((count.projects for count in counts), default=0) <= 10:
        xaxis["dtick"] = 1
    positions = list(range(len(ordered)))
    layout = _layout(
        height=max(200, 90 + 32 * len(counts)),
        showlegend=True,
        bargap=0.3,
        margin={"l": 10, "r": 30, "t": 10, "b": 40},
        shapes=dividers,
        xaxis={**xaxis, "fixedrange": True},
        yaxis={
            "autorange": "reversed",
            "automargin": True,
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
            "tickmode": "array",
            "tickvals": positions,
            "ticktext": [_text(row.phase) for row in ordered],
        },
    )
    narrow = {
        "height": max(220, 100 + 40 * len(counts)),
        "yaxis": {"ticktext": [_wrap(row.phase, NARROW_LABEL) for row in ordered]},
    }
    return _figure(data, layout, narrow_layout=narrow)


# --- Portfolio: time in the current phase, per project ----------------------------------


@dataclass(frozen=True, slots=True)
class PhaseStay:
    """One project's days so far in its current phase, against the days that phase plans."""

    project: str
    phase: str
    days: float
    planned_days: float | None

    @property
    def over(self) -> bool:
        return self.planned_days is not None and self.days > self.planned_days


def time_in_phase(stays: Sequence[PhaseStay]) -> Figure:
    """A bar per project, longest first, coloured and labelled by whether it overran its
    plan; a diamond marks the planned days."""
    names = [_text(stay.project) for stay in stays]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Days in phase",
            "y": names,
            "x": [round(stay.days, 1) for stay in stays],
            "text": [
                f"{stay.days:.0f} d" + (f" of {stay.planned_days:.0f}" if stay.planned_days else "")
                for stay in stays
            ],
            # Inside the bar from its start, where the diamond of the plan never is (it sits
            # past the end of a bar within plan, well inside one over it); a bar too short
            # for its days has none (the hover and the table have them).
            "textposition": "inside",
            "insidetextanchor": "start",
            "textangle": 0,
            "customdata": [_text(stay.phase) for stay in stays],
            "marker": {"color": [ONGOING if stay.over else ACTUAL for stay in stays]},
            "hovertemplate": "%{y}<br>%{customdata}: %{x} days<extra></extra>",
        }
    ]
    planned = [(name, s.planned_days) for name, s in zip(names, stays, strict=True)]
    planned = [(name, days) for name, days in planned if days is not None]
    if planned:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Planned",
                "y": [name for name, _ in planned],
                "x": [days for _, days in planned],
                "marker": {"symbol": "diamond", "size": 10, "color": INK},
                "hovertemplate": "%{y}: planned %{x} days<extra></extra>",
            }
        )
    layout = _layout(
        height=max(200, 90 + 30 * len(stays)),
        showlegend=bool(planned),
        uniformtext={"minsize": 11, "mode": "hide"},
        margin={"l": 10, "r": 20, "t": 30, "b": 40},
        xaxis={
            "title": {"text": "Days in the current phase"},
            "rangemode": "tozero",
            "gridcolor": GRID,
            "fixedrange": True,
        },
        yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
    )
    # On a phone: names on two lines, the days alone on the bar (the diamond is the plan).
    narrow = {
        "height": max(220, 110 + 44 * len(stays)),
        "xaxis": {"title": {"text": "Days in phase"}},
        "yaxis": {
            "tickmode": "array",
            "tickvals": names,
            "ticktext": [_wrap(stay.project, NARROW_LABEL) for stay in stays],
        },
    }
    bar_text = {"text": [f"{stay.days:.0f} d" for stay in stays]}
    return _figure(data, layout, narrow_layout=narrow, narrow_data=[bar_text])


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
            "textangle": 0,
            "customdata": hover,
            "marker": {"color": LOOP},
            "hovertemplate": "%{y}<br>%{customdata}<extra>%{x} loop(s) back</extra>",
        }
    ]
    layout = _layout(
        height=max(200, 80 + 40 * len(labels)),
        showlegend=False,
        xaxis={
            "title": {"text": "Loops back"},
            "dtick": 1,
            "rangemode": "tozero",
            "gridcolor": GRID,
        },
        yaxis={"autorange": "reversed", "automargin": True},
    )
    narrow = {
        "height": max(220, 90 + 56 * len(labels)),
        "yaxis": {
            "tickmode": "array",
            "tickvals": labels,
            "ticktext": [
                _wrap(f"{items[0].from_phase} → {items[0].to_phase}", NARROW_LABEL)
                for _, items in ranked
            ],
        },
    }
    return _figure(data, layout, narrow_layout=narrow)

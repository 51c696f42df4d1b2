"""A project's phase timeline: planned against actual, and its loops back."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.figures.base import (
    ACTUAL,
    GRID,
    LOOP,
    MUTED,
    ONGOING,
    PLANNED,
    Figure,
    _excerpt,
    _figure,
    _layout,
    _stamp,
    _text,
    _wrap,
)

# Characters a line of a phase's name holds on a phone, where it takes two lines at most.
NARROW_PHASE = 14

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


@dataclass(frozen=True, slots=True)
class Finish:
    """When the project was first planned to end, when it is forecast to end now
    (``phases.selectors.forecast_finish``), and when it did."""

    original: dt.date | None = None
    forecast: dt.date | None = None
    completed: dt.datetime | None = None

    @property
    def slip_days(self) -> int:
        if self.original and self.forecast:
            return (self.forecast - self.original).days
        return 0


def _when(value: dt.date | dt.datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def _marker(x: dt.date | dt.datetime, name: str, color: str, dash: str) -> dict:
    """A line across the chart at ``x``, named in the legend: labels on the lines
    themselves would print over each other where two dates are days apart."""
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": _stamp(x),
        "x1": _stamp(x),
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "width": 1.5, "dash": dash},
        "name": name,
        "showlegend": True,
    }


def _finish_markers(finish: Finish, now: dt.datetime) -> list[dict]:
    """A line at the original finish and one at the forecast (or actual) finish, each
    named with its date, and one at now. A planned finish is drawn at the end of its day."""
    day = dt.timedelta(days=1)
    if finish.completed:
        ends = [(finish.completed, f"Completed {_when(finish.completed)}", ACTUAL, "solid")]
    else:
        ends = []
        if finish.original and finish.original != finish.forecast:
            original = f"Original finish {_when(finish.original)}"
            ends.append((finish.original + day, original, MUTED, "dash"))
        if finish.forecast:
            forecast = f"Forecast finish {_when(finish.forecast)}"
            ends.append((finish.forecast + day, forecast, LOOP, "dash"))
    return [_marker(*end) for end in ends] + [_marker(now, "Now", MUTED, "dot")]


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
    finish: Finish | None = None,
) -> Figure:
    """A Gantt chart: the planned dates of each phase behind the actual stays in it.

    A phase visited twice (after a loop back) has two actual bars; each loop back is an
    arrow between the two phases at the moment it happened, with its reason on hover.
    Dashed lines mark the finish the project was first planned for and the one its plan
    forecasts now, so a loop back's slip shows at a glance.
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
        xaxis={"type": "date", "gridcolor": GRID, "automargin": True},
        yaxis={
            "categoryorder": "array",
            "categoryarray": names,
            "autorange": "reversed",
            "automargin": True,
        },
        annotations=annotations,
        shapes=_finish_markers(finish or Finish(), now),
    )
    # On a phone the legend is a line an entry above the bars: the chart grows by as much.
    # The phases' names take two lines, the months their year under them: the dates keep
    # room for level ticks.
    narrow = {
        "height": layout["height"] + 20 * (len(data) + len(layout["shapes"])),
        "xaxis": {"nticks": 4, "tickformat": "%b<br>%Y"},
        "yaxis": {
            "tickmode": "array",
            "tickvals": names,
            "ticktext": [_wrap(phase.name, NARROW_PHASE) for phase in phases],
        },
    }
    return _figure(data, layout, narrow_layout=narrow)

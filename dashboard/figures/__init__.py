"""Plotly figures as plain dicts, built from plain data: no database, no request, no clock.

Pages pass these to the browser with ``json_script`` and plotly.js draws them. Keeping the
builders pure makes them testable without a database and keeps the JSON small: the server
sends what the chart shows (counts, quartiles), never the raw rows behind it.

Plotly renders a few HTML tags in its text (``<b>``, ``<a href>``, ...) and decodes
entities, so every user-provided string goes through :func:`_text`: it shows literally and
can never become markup or a link. The builders use no such tag themselves: Plotly draws
each as an inline ``style`` attribute, which the site's Content-Security-Policy refuses;
bold text is a font weight instead. Every trace is an SVG trace, except the parallel
coordinates of a run comparison, which Plotly draws only with WebGL (one chart per page).
"""

from dashboard.figures.base import (
    ACTUAL,
    CONFIG,
    FONT,
    GRID,
    HOVER_EXAMPLES,
    INK,
    LOOP,
    MUTED,
    NARROW_BELOW,
    ONGOING,
    PALETTE,
    PLANNED,
    REASON_CHARS,
    Figure,
    _text,
)
from dashboard.figures.experiments import (
    DASHES,
    FEW_TICKS,
    GOOD,
    GOOD_ZONE,
    LOG_SPAN,
    MARKERS_UP_TO,
    MAX_PARAM_AXES,
    MISSING,
    NARROW_LABEL_CHARS,
    NARROW_TICK_CHARS,
    RANKED_SCALE,
    SHORT,
    TICK_CHARS,
    Curve,
    RunParams,
    as_number,
    metric_curves,
    parallel_coordinates,
    success_gauge,
    varying_params,
    worth_drawing,
)
from dashboard.figures.monitoring import FeatureScore, Point, feature_drift, monitor_series
from dashboard.figures.portfolio import (
    LoopBack,
    PhaseCount,
    PhaseStay,
    loop_backs,
    projects_per_phase,
    time_in_phase,
)
from dashboard.figures.project import Finish, Move, PlannedPhase, Visit, phase_timeline
from dashboard.figures.registry import VersionValue, version_values

__all__ = [
    "ACTUAL",
    "CONFIG",
    "DASHES",
    "FEW_TICKS",
    "FONT",
    "GOOD",
    "GOOD_ZONE",
    "GRID",
    "HOVER_EXAMPLES",
    "INK",
    "LOG_SPAN",
    "LOOP",
    "MARKERS_UP_TO",
    "MAX_PARAM_AXES",
    "MISSING",
    "MUTED",
    "NARROW_BELOW",
    "NARROW_LABEL_CHARS",
    "NARROW_TICK_CHARS",
    "ONGOING",
    "PALETTE",
    "PLANNED",
    "RANKED_SCALE",
    "REASON_CHARS",
    "SHORT",
    "TICK_CHARS",
    "Curve",
    "FeatureScore",
    "Figure",
    "Finish",
    "LoopBack",
    "Move",
    "PhaseCount",
    "PhaseStay",
    "PlannedPhase",
    "Point",
    "RunParams",
    "VersionValue",
    "Visit",
    "_text",
    "as_number",
    "feature_drift",
    "loop_backs",
    "metric_curves",
    "monitor_series",
    "parallel_coordinates",
    "phase_timeline",
    "projects_per_phase",
    "success_gauge",
    "time_in_phase",
    "varying_params",
    "version_values",
    "worth_drawing",
]

"""Metric series for charts, reduced on the server to the points a chart can show.

A chart needs a few thousand points, not the million a long training run logs. A series
short enough is read whole (a few packed chunks, no per-point Python objects) and
reduced with MinMaxLTTB, which keeps the shape, the extremes and both ends. A long one is
drawn from its rollups instead: the lowest and highest point of each block of steps,
which ingest keeps current and which are exactly MinMaxLTTB's preselection, so no read
scans a million rows. Points that are NaN or infinite cannot be drawn: a full series
returns them as ``None`` (a gap); a reduced one is chosen among the finite points.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tsdownsample import LTTBDownsampler, MinMaxLTTBDownsampler

from experiments import selectors
from experiments.models import MetricRollup, MetricSeries, Run
from mlprojects.exceptions import DomainError

# Read the points themselves while they are fewer than this many times the chart's points;
# past it, the rollups hold enough candidates and cost far less to read.
_ROLLUP_FROM = 16


@dataclass(frozen=True, slots=True)
class Series:
    run_id: str
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float | None]
    total_points: int
    downsampled: bool


def _arrays(series_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, timestamps, values) in step order, NaN where the point is NaN."""
    points = selectors.series_points(series_id)
    return points.steps, points.timestamps, points.values


def _reduce(steps: np.ndarray, values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` finite points that keep the series' shape."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) <= max_points:
        return finite
    chosen = MinMaxLTTBDownsampler().downsample(
        steps[finite], values[finite], n_out=max_points, parallel=False
    )
    return finite[np.sort(chosen)]


def _rollup_arrays(series_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each block's lowest and highest point, in step order (one point where they agree)."""
    rows = MetricRollup.objects.filter(series_id=series_id).order_by("bucket")
    candidates = []
    for low_step, low_time, low, high_step, high_time, high in rows.values_list(
        "min_step", "min_timestamp", "min_value", "max_step", "max_timestamp", "max_value"
    ):
        first, second = sorted([(low_step, low_time, low), (high_step, high_time, high)])
        candidates.append(first)
        if second[0] != first[0]:
            candidates.append(second)
    table = np.array(candidates, dtype=np.float64).reshape(-1, 3)
    return (
        table[:, 0].astype(np.int64),
        table[:, 1].astype(np.int64),
        np.ascontiguousarray(table[:, 2]),
    )


def _build(run_id: str, key: str, series_id: int, total: int, max_points: int) -> Series:
    if total > max_points * _ROLLUP_FROM:
        steps, timestamps, values = _rollup_arrays(series_id)
        if len(steps) > max_points:
            keep = np.sort(LTTBDownsampler().downsample(steps, values, n_out=max_points))
            steps, timestamps, values = steps[keep], timestamps[keep], values[keep]
    else:
        steps, timestamps, values = _arrays(series_id)
        if total > max_points:
            keep = _reduce(steps, values, max_points)
            steps, timestamps, values = steps[keep], timestamps[keep], values[keep]
    drawn = [v if math.isfinite(v) else None for v in values.tolist()]
    return Series(
        run_id=run_id,
        key=key,
        steps=steps.tolist(),
        timestamps=timestamps.tolist(),
        values=drawn,
        total_points=total,
        downsampled=total > max_points,
    )


def _check(max_points: int) -> None:
    if max_points < 3:
        raise DomainError.invalid("points", "must be at least 3")


def metric_series(*, run: Run, key: str, max_points: int = 2000) -> Series:
    """One run's series of ``key``, reduced to at most ``max_points`` points."""
    _check(max_points)
    found = MetricSeries.objects.filter(run=run, key=key).values_list("pk", "point_count").first()
    if found is None:
        raise DomainError(
            "not_found", f"Run {run.run_id} has logged no metric “{key}”.", fields={"key": []}
        )
    return _build(run.run_id, key, *found, max_points)


def compare(*, runs: Sequence[Run], key: str, max_points: int = 1000) -> list[Series]:
    """``key`` across ``runs``, in the order given; runs that never logged it are left out."""
    _check(max_points)
    found = {
        run: (pk, total)
        for run, pk, total in MetricSeries.objects.filter(run__in=runs, key=key).values_list(
            "run_id", "pk", "point_count"
        )
    }
    return [_build(run.run_id, key, *found[run.pk], max_points) for run in runs if run.pk in found]

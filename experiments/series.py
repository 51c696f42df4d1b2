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


def _reduce(steps: np.ndarray, values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` finite points that keep the series' shape."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) <= max_points:
        return finite
    chosen = MinMaxLTTBDownsampler().downsample(
        steps[finite], values[finite], n_out=max_points, parallel=False
    )
    return finite[np.sort(chosen)]


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # steps, timestamps, values (NaN kept)


def _rollup_arrays(series_ids: list[int]) -> dict[int, Arrays]:
    """Each block's lowest and highest point, in step order (one point where they agree),
    of each series, in one query."""
    rows = MetricRollup.objects.filter(series_id__in=series_ids).order_by("series_id", "bucket")
    table = np.array(
        rows.values_list(
            "series_id",
            "min_step",
            "min_timestamp",
            "min_value",
            "max_step",
            "max_timestamp",
            "max_value",
        ),
        dtype=object,
    ).reshape(-1, 7)
    found = {}
    for series_id in series_ids:
        mine = table[table[:, 0] == series_id] if len(series_ids) > 1 else table
        low_step, low_time, high_step, high_time = (
            mine[:, column].astype(np.int64) for column in (1, 2, 4, 5)
        )
        low, high = mine[:, 3].astype(np.float64), mine[:, 6].astype(np.float64)
        # Per block, the earlier of the two points first; one point where both are one.
        low_first = (low_step < high_step) | ((low_step == high_step) & (low_time <= high_time))
        first_step = np.where(low_first, low_step, high_step)
        first_time = np.where(low_first, low_time, high_time)
        first_value = np.where(low_first, low, high)
        second_step = np.where(low_first, high_step, low_step)
        second_time = np.where(low_first, high_time, low_time)
        second_value = np.where(low_first, high, low)
        two = second_step != first_step
        steps = np.column_stack((first_step, second_step)).ravel()
        times = np.column_stack((first_time, second_time)).ravel()
        values = np.column_stack((first_value, second_value)).ravel()
        keep = np.column_stack((np.ones_like(two), two)).ravel()
        found[series_id] = (steps[keep], times[keep], values[keep])
    return found


def _reduced(arrays: Arrays, total: int, max_points: int, from_rollups: bool) -> Arrays:
    steps, timestamps, values = arrays
    if from_rollups:
        if len(steps) > max_points:
            keep = np.sort(LTTBDownsampler().downsample(steps, values, n_out=max_points))
            return steps[keep], timestamps[keep], values[keep]
    elif total > max_points:
        keep = _reduce(steps, values, max_points)
        return steps[keep], timestamps[keep], values[keep]
    return arrays


def _build_all(found: list[tuple[str, str, int, int]], max_points: int) -> list[Series]:
    """``found``: (run id, key, series id, point count) of each series, in the order wanted.
    Long series are read from their rollups, the others whole: two queries at most."""
    long = [pk for _, _, pk, total in found if total > max_points * _ROLLUP_FROM]
    short = [pk for _, _, pk, total in found if total <= max_points * _ROLLUP_FROM]
    arrays: dict[int, Arrays] = _rollup_arrays(long) if long else {}
    if short:
        for pk, points in selectors.many_series_points(short).items():
            arrays[pk] = (points.steps, points.timestamps, points.values)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    built = []
    for run_id, key, pk, total in found:
        steps, timestamps, values = _reduced(
            arrays.get(pk, empty), total, max_points, from_rollups=pk in long
        )
        built.append(
            Series(
                run_id=run_id,
                key=key,
                steps=steps.tolist(),
                timestamps=timestamps.tolist(),
                values=[v if math.isfinite(v) else None for v in values.tolist()],
                total_points=total,
                downsampled=total > max_points,
            )
        )
    return built


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
    return _build_all([(run.run_id, key, *found)], max_points)[0]


def run_series(*, run: Run, keys: Sequence[str], max_points: int = 2000) -> list[Series]:
    """Several of one run's series, in the order of ``keys``; keys it never logged are left
    out. Three queries whatever the number of keys."""
    _check(max_points)
    found = {
        key: (pk, total)
        for key, pk, total in MetricSeries.objects.filter(run=run, key__in=keys).values_list(
            "key", "pk", "point_count"
        )
    }
    return _build_all([(run.run_id, key, *found[key]) for key in keys if key in found], max_points)


def compare(*, runs: Sequence[Run], key: str, max_points: int = 1000) -> list[Series]:
    """``key`` across ``runs``, in the order given; runs that never logged it are left out."""
    _check(max_points)
    found = {
        run: (pk, total)
        for run, pk, total in MetricSeries.objects.filter(run__in=runs, key=key).values_list(
            "run_id", "pk", "point_count"
        )
    }
    return _build_all(
        [(run.run_id, key, *found[run.pk]) for run in runs if run.pk in found], max_points
    )

"""Metric points as arrays, and the packed form a series' points are stored in.

A run logs millions of points; a row per point would spend more on row headers and index
entries than on the points. A series is stored instead as chunks (``MetricChunk``) of up to
:data:`CHUNK_MAX` points, each packed as three columns of big-endian 8-byte numbers: the
steps, then the timestamps, then the values (IEEE 754, NaN and infinities as they are).
Big-endian is PostgreSQL's own binary order, so SQL can build or read a chunk with
``int8send``/``float8send`` where a script needs to.

Points within a chunk are in order and distinct. A point is its (step, timestamp, value);
logging it again stores nothing, as in MLflow, whose primary key is the whole point.
"""

from dataclasses import dataclass

import numpy as np

CHUNK_MAX = 1024
_STEP = np.dtype(">i8")
_VALUE = np.dtype(">f8")


@dataclass(frozen=True, slots=True)
class Points:
    """Points of one series as parallel arrays (int64, int64, float64)."""

    steps: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, where) -> "Points":
        return Points(self.steps[where], self.timestamps[where], self.values[where])

    @classmethod
    def empty(cls) -> "Points":
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def concat(cls, parts: list["Points"]) -> "Points":
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.steps for p in parts]),
            np.concatenate([p.timestamps for p in parts]),
            np.concatenate([p.values for p in parts]),
        )

    def first(self) -> tuple[int, int]:
        return int(self.steps[0]), int(self.timestamps[0])

    def records(self) -> np.ndarray:
        """Each point as 24 comparable bytes: equal records are the same point."""
        table = np.empty((len(self), 3), dtype=np.int64)
        table[:, 0] = self.steps
        table[:, 1] = self.timestamps
        table[:, 2] = self.values.view(np.int64)
        return table.view("V24").ravel()


def canonical(points: Points) -> Points:
    """``points`` in (step, timestamp, value) order without repeats; NaN after numbers.

    Values are normalised first so that equal points have equal bytes: every NaN becomes
    the one quiet NaN and -0.0 becomes 0.0.
    """
    values = points.values + 0.0
    nan = np.isnan(values)
    if nan.any():
        values[nan] = np.nan
    steps, timestamps = points.steps, points.timestamps
    if len(steps) > 1 and not _ordered(steps, timestamps, values):
        order = np.lexsort((values, timestamps, steps))
        steps, timestamps, values = steps[order], timestamps[order], values[order]
    result = Points(steps, timestamps, values)
    if len(steps) > 1:
        records = result.records()
        repeat = records[1:] == records[:-1]
        if repeat.any():
            result = result[np.concatenate(([True], ~repeat))]
    return result


def _ordered(steps: np.ndarray, timestamps: np.ndarray, values: np.ndarray) -> bool:
    step_up = steps[1:] > steps[:-1]
    if step_up.all():
        return True
    same_step = steps[1:] == steps[:-1]
    if not (step_up | same_step).all():
        return False
    time_up = timestamps[1:] > timestamps[:-1]
    same_time = timestamps[1:] == timestamps[:-1]
    later = step_up | (same_step & time_up)
    tied = same_step & same_time
    # Equal values and NaN after NaN count as in order: repeats are dropped next.
    value_ok = (values[1:] >= values[:-1]) | np.isnan(values[1:])
    return bool((later | (tied & value_ok)).all())


def without(points: Points, stored: Points) -> Points:
    """The points of ``points`` that ``stored`` does not hold already."""
    if not len(stored) or not len(points):
        return points
    return points[~np.isin(points.records(), stored.records())]


def pack(points: Points) -> bytes:
    return b"".join(
        (
            points.steps.astype(_STEP).tobytes(),
            points.timestamps.astype(_STEP).tobytes(),
            points.values.astype(_VALUE).tobytes(),
        )
    )


def unpack(data: bytes | memoryview) -> Points:
    size = len(data) // 24
    buffer = memoryview(data)
    steps = np.frombuffer(buffer, _STEP, size, 0).astype(np.int64)
    timestamps = np.frombuffer(buffer, _STEP, size, 8 * size).astype(np.int64)
    values = np.frombuffer(buffer, _VALUE, size, 16 * size).astype(np.float64)
    return Points(steps, timestamps, values)


def split(points: Points, size: int = CHUNK_MAX) -> list[Points]:
    """``points`` in pieces of at most ``size``."""
    return [points[start : start + size] for start in range(0, len(points), size)]

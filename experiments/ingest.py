"""The fast path that writes metric points; called only by ``services`` (``log_batch`` and
``log_columns``, and ``run_record`` for a run it has just inserted) with the transaction
open and the run's row locked.

Points arrive as arrays (:class:`Columns`) and leave as packed chunks (``MetricChunk``, see
``experiments.points``). Per series, in a few statements whatever the batch size:

- the points are put in order and repeats dropped, with numpy;
- points after the series' latest point are new by construction: nothing stored is read.
  They go to the series' last chunk while it is small, else to new chunks. Only points
  at or before the latest one (a retried or late batch) make ingest read the chunks whose
  steps they overlap, to leave out what is stored already: a retried batch costs what the
  first one did, however long the series;
- the series row keeps its latest point and point count, and ``MetricRollup`` each block's
  lowest and highest finite point, from the points that were actually new.

On PostgreSQL new chunks go in with one binary ``COPY`` and rollups with one upsert;
elsewhere (SQLite, the embedded default) the ORM does the same in a few more queries.
"""

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Q

from experiments.models import ROLLUP_SHIFT, MetricChunk, MetricRollup, MetricSeries
from experiments.points import CHUNK_MAX, Points, canonical, pack, split, unpack, without

# A last chunk smaller than this takes the next points in, so that series logged a point
# or a few at a time still end up in large chunks; a bigger one is left as it is.
SMALL_CHUNK = 256

_CHUNKS = MetricChunk._meta.db_table
_SERIES = MetricSeries._meta.db_table
_ROLLUPS = MetricRollup._meta.db_table


@dataclass(frozen=True, slots=True)
class Columns:
    """Points of several series of one run: ``key[i]`` indexes ``keys`` for point ``i``."""

    keys: Sequence[str]
    key: np.ndarray
    steps: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    def by_key(self) -> dict[str, Points]:
        """Each key's points, in order and without repeats."""
        if len(self.keys) == 1:
            return {self.keys[0]: canonical(Points(self.steps, self.timestamps, self.values))}
        order = np.argsort(self.key, kind="stable")
        codes = self.key[order]
        bounds = np.flatnonzero(np.diff(codes)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(codes)]))
        grouped = {}
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            rows = order[start:end]
            points = Points(self.steps[rows], self.timestamps[rows], self.values[rows])
            grouped[self.keys[int(codes[start])]] = canonical(points)
        return grouped


def latest_of(points: Points) -> tuple[int, int, float, bool]:
    """The latest point as the series row keeps it: greatest (step, timestamp), then the
    greatest value, a NaN counting as the 0 it is stored as."""
    last_step, last_time = int(points.steps[-1]), int(points.timestamps[-1])
    tied = (points.steps == last_step) & (points.timestamps == last_time)
    values = points.values[tied]
    stored = np.where(np.isnan(values), 0.0, values)
    best = int(np.argmax(stored[::-1]))  # the last of equal values: NaN sorts after numbers
    value = float(values[::-1][best])
    nan = value != value
    return last_step, last_time, 0.0 if nan else value, nan


@dataclass(slots=True)
class _Plan:
    """What one series' share of a batch does to the stored series."""

    series: MetricSeries
    new: Points
    tail: MetricChunk | None = None  # the last chunk, when it takes the new points in
    late: bool = False  # some points at or before the series' latest: maybe stored already


def write(*, run_pk: int, columns: Columns) -> int:
    """Store ``columns`` in the run's series; the number of points that were new."""
    if not len(columns):
        return 0
    grouped = columns.by_key()
    series = _series(run_pk, grouped)
    plans = _dedupe([_Plan(series[key], points) for key, points in grouped.items()])
    plans = [plan for plan in plans if len(plan.new)]
    if not plans:
        return 0
    chunks: list[MetricChunk] = []
    tails: list[MetricChunk] = []
    for plan in plans:
        new = plan.new
        if plan.tail is not None:
            merged = Points.concat([unpack(plan.tail.data), new])
            plan.tail.data, plan.tail.size = pack(merged), len(merged)
            plan.tail.last_step = int(merged.steps[-1])
            tails.append(plan.tail)
        else:
            chunks += _chunks(plan.series.pk, new)
        _advance(plan.series, new)
    _save_chunks(chunks)
    _update(tails, ["data", "size", "last_step"])
    _update(
        [plan.series for plan in plans],
        ["latest_step", "latest_timestamp", "latest_value", "latest_is_nan", "point_count"],
    )
    _widen_rollups(plans)
    return sum(len(plan.new) for plan in plans)


def write_new(*, run_pk: int, columns: Columns) -> int:
    """``write`` for a run created in this transaction, which has no series yet: nothing is
    read, and each series row goes in with its latest point (three statements in all)."""
    if not len(columns):
        return 0
    grouped = columns.by_key()
    plans = [_Plan(_empty_series(run_pk, key), points) for key, points in grouped.items()]
    for plan in plans:
        _advance(plan.series, plan.new)
    MetricSeries.objects.bulk_create([plan.series for plan in plans])
    _save_chunks([chunk for plan in plans for chunk in _chunks(plan.series.pk, plan.new)])
    _widen_rollups(plans)
    return sum(len(plan.new) for plan in plans)


def _empty_series(run_pk: int, key: str) -> MetricSeries:
    return MetricSeries(
        run_id=run_pk, key=key, latest_step=0, latest_timestamp=0, latest_value=0.0, point_count=0
    )


def _chunks(series_pk: int, points: Points) -> list[MetricChunk]:
    return [
        MetricChunk(
            series_id=series_pk,
            first_step=int(piece.steps[0]),
            last_step=int(piece.steps[-1]),
            size=len(piece),
            data=pack(piece),
        )
        for piece in split(points)
    ]


def _series(run_pk: int, grouped: dict[str, Points]) -> dict[str, MetricSeries]:
    """The run's series of these keys, created where missing, each with its last chunk's
    id and size (``tail_id``, ``tail_size``) and, when small, its data (``tail_data``)."""
    keys = list(grouped)
    with connection.cursor() as cursor:
        # Raw SQL: the ORM would spend longer compiling this than the database running it.
        cursor.execute(
            f"""
            SELECT s.id, s.key, s.latest_step, s.latest_timestamp, s.latest_value,
                   s.latest_is_nan, s.point_count, t.id, t.size,
                   CASE WHEN t.size < {SMALL_CHUNK} THEN t.data END
            FROM {_SERIES} AS s
            LEFT JOIN {_CHUNKS} AS t ON t.id = (
                SELECT c.id FROM {_CHUNKS} AS c WHERE c.series_id = s.id
                ORDER BY c.last_step DESC, c.id DESC LIMIT 1
            )
            WHERE s.run_id = %s AND s.key IN ({", ".join(["%s"] * len(keys))})
            """,  # noqa: S608  (table names from the models, an integer constant)
            [run_pk, *keys],
        )
        rows = cursor.fetchall()
    found = {}
    for pk, key, step, timestamp, value, is_nan, count, tail_id, tail_size, tail_data in rows:
        series = MetricSeries(
            pk=pk,
            run_id=run_pk,
            key=key,
            latest_step=step,
            latest_timestamp=timestamp,
            latest_value=value,
            latest_is_nan=is_nan,
            point_count=count,
        )
        series.tail_id, series.tail_size, series.tail_data = tail_id, tail_size, tail_data
        found[key] = series
    missing = [key for key in grouped if key not in found]
    if missing:
        created = MetricSeries.objects.bulk_create([_empty_series(run_pk, key) for key in missing])
        for series in created:
            series.tail_id = series.tail_size = series.tail_data = None
            found[series.key] = series
    return found


def _dedupe(plans: list[_Plan]) -> list[_Plan]:
    """Leave out points already stored, reading only chunks that a late point overlaps;
    choose the plans whose points go into the series' last chunk."""
    for plan in plans:
        series = plan.series
        plan.late = bool(series.point_count) and plan.new.first() <= (
            series.latest_step,
            series.latest_timestamp,
        )
    late = [plan for plan in plans if plan.late]
    if late:
        overlap = Q()
        for plan in late:
            overlap |= Q(
                series_id=plan.series.pk,
                last_step__gte=int(plan.new.steps[0]),
                first_step__lte=int(plan.new.steps[-1]),
            )
        stored: dict[int, list[Points]] = {}
        for series_id, data in MetricChunk.objects.filter(overlap).values_list("series_id", "data"):
            stored.setdefault(series_id, []).append(unpack(data))
        for plan in late:
            plan.new = without(plan.new, Points.concat(stored.get(plan.series.pk, [])))
    for plan in plans:
        series = plan.series
        if plan.late or series.tail_size is None or series.tail_size >= SMALL_CHUNK:
            continue
        if series.tail_size + len(plan.new) <= CHUNK_MAX:
            plan.tail = MetricChunk(
                pk=series.tail_id, series_id=series.pk, data=bytes(series.tail_data)
            )
    return plans


def _advance(series: MetricSeries, new: Points) -> None:
    latest = latest_of(new)
    current = (series.latest_step, series.latest_timestamp, series.latest_value)
    if not series.point_count or latest[:3] > current:
        series.latest_step, series.latest_timestamp = latest[0], latest[1]
        series.latest_value, series.latest_is_nan = latest[2], latest[3]
    series.point_count += len(new)


def _update(rows: list[MetricChunk] | list[MetricSeries], names: list[str]) -> None:
    """Save ``names`` of ``rows`` (all of one model) in one statement. On PostgreSQL an
    ``UPDATE ... FROM (VALUES ...)``: ``bulk_update``'s CASE expressions cost more to build
    in the ORM than the whole write of a batch."""
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, names)
        return
    fields = [model._meta.get_field(name) for name in names]
    # "(%s)::bigint", not "%s::bigint": the driver writes the value in, and the cast binds
    # before a minus sign, so -9223372036854775808::bigint would cast 9223372036854775808.
    row = "(%s, " + ", ".join(f"(%s)::{field.db_type(connection)}" for field in fields) + ")"
    params: list[object] = []
    for instance in rows:
        params.append(instance.pk)
        params += [getattr(instance, field.attname) for field in fields]
    assignments = ", ".join(
        f"{field.column} = v.column{index}" for index, field in enumerate(fields, start=2)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} AS t SET {assignments} "  # noqa: S608  (names from the model)
            f"FROM (VALUES {', '.join([row] * len(rows))}) AS v WHERE t.id = v.column1",
            params,
        )


def _save_chunks(chunks: list[MetricChunk]) -> None:
    if connection.vendor != "postgresql" or len(chunks) < 2:
        MetricChunk.objects.bulk_create(chunks)
        return
    # Binary COPY: the packed bytes go as they are, without the hex escaping of a literal.
    parts = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for chunk in chunks:
        parts.append(
            struct.pack(
                ">hiqiqiqiii",
                5,
                8,
                chunk.series_id,
                8,
                chunk.first_step,
                8,
                chunk.last_step,
                4,
                chunk.size,
                len(chunk.data),
            )
        )
        parts.append(chunk.data)
    parts.append(struct.pack(">h", -1))
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {_CHUNKS} (series_id, first_step, last_step, size, data) "
            "FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(b"".join(parts)),
        )


def _blocks(series_id: int, points: Points) -> list[tuple]:
    """Each block's lowest and highest finite point among ``points``, as rollup rows
    ``(series, bucket, min step, min time, min value, max step, max time, max value)``."""
    finite = np.isfinite(points.values)
    steps, times, values = (
        points.steps[finite],
        points.timestamps[finite],
        points.values[finite],
    )
    if not len(steps):
        return []
    # The points are in step order, so each block is a slice: reduce each slice, then take
    # the first point of the slice that holds its extreme (the earliest step wins ties).
    buckets = steps >> ROLLUP_SHIFT
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    sizes = np.diff(np.concatenate((starts, [len(steps)])))

    def first_where(extremes: np.ndarray) -> np.ndarray:
        hits = np.flatnonzero(values == np.repeat(extremes, sizes))
        return hits[np.searchsorted(hits, starts)]

    lows = first_where(np.minimum.reduceat(values, starts))
    highs = first_where(np.maximum.reduceat(values, starts))
    return list(
        zip(
            [series_id] * len(starts),
            buckets[lows].tolist(),
            steps[lows].tolist(),
            times[lows].tolist(),
            values[lows].tolist(),
            steps[highs].tolist(),
            times[highs].tolist(),
            values[highs].tolist(),
            strict=True,
        )
    )


def _widen_rollups(plans: list[_Plan]) -> None:
    rows = [row for plan in plans for row in _blocks(plan.series.pk, plan.new)]
    if not rows:
        return
    if connection.vendor == "postgresql":
        _upsert_rollups(rows)
        return
    stored = {
        (r.series_id, r.bucket): r
        for r in MetricRollup.objects.filter(
            series_id__in={row[0] for row in rows}, bucket__in={row[1] for row in rows}
        )
    }
    new, changed = [], []
    for series_id, bucket, *extremes in rows:
        low_step, low_time, low, high_step, high_time, high = extremes
        rollup = stored.get((series_id, bucket))
        if rollup is None:
            new.append(
                MetricRollup(
                    series_id=series_id,
                    bucket=bucket,
                    min_step=low_step,
                    min_timestamp=low_time,
                    min_value=low,
                    max_step=high_step,
                    max_timestamp=high_time,
                    max_value=high,
                )
            )
            continue
        if low >= rollup.min_value and high <= rollup.max_value:
            continue
        if low < rollup.min_value:
            rollup.min_value, rollup.min_step, rollup.min_timestamp = low, low_step, low_time
        if high > rollup.max_value:
            rollup.max_value, rollup.max_step, rollup.max_timestamp = high, high_step, high_time
        changed.append(rollup)
    MetricRollup.objects.bulk_create(new)
    MetricRollup.objects.bulk_update(
        changed,
        ["min_value", "min_step", "min_timestamp", "max_value", "max_step", "max_timestamp"],
    )


def _upsert_rollups(rows: list[tuple]) -> None:
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_ROLLUPS} AS r (series_id, bucket, min_step, min_timestamp, min_value,
                                        max_step, max_timestamp, max_value)
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],
                                 %s::float8[], %s::bigint[], %s::bigint[], %s::float8[])
            ON CONFLICT (series_id, bucket) DO UPDATE SET
                min_step = CASE WHEN EXCLUDED.min_value < r.min_value
                    THEN EXCLUDED.min_step ELSE r.min_step END,
                min_timestamp = CASE WHEN EXCLUDED.min_value < r.min_value
                    THEN EXCLUDED.min_timestamp ELSE r.min_timestamp END,
                min_value = LEAST(r.min_value, EXCLUDED.min_value),
                max_step = CASE WHEN EXCLUDED.max_value > r.max_value
                    THEN EXCLUDED.max_step ELSE r.max_step END,
                max_timestamp = CASE WHEN EXCLUDED.max_value > r.max_value
                    THEN EXCLUDED.max_timestamp ELSE r.max_timestamp END,
                max_value = GREATEST(r.max_value, EXCLUDED.max_value)
            WHERE EXCLUDED.min_value < r.min_value OR EXCLUDED.max_value > r.max_value
            """,  # noqa: S608  (a constant table name; values are parameters)
            # Array literals as text: psycopg2 would adapt a list element by element.
            ["{" + ",".join(map(str, column)) + "}" for column in columns],
        )

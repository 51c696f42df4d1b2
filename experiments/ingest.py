"""The fast path that writes metric points; called only by ``services.log_batch`` and its kin.

Two invariants make it cheap whatever a run already holds: writing a point is an insert
that ignores an identical existing point (the point is its own primary key), and the
run's latest value per key is updated only when a new point is later. Nothing here reads
the points already stored, so a retried batch costs what the first one did.

On PostgreSQL a batch is three round trips: the series upsert (which also returns the
series ids), ``COPY`` into a session-local staging table, and one statement that moves the
points in with ``INSERT ... ON CONFLICT DO NOTHING`` and, from the points it actually
inserted, adds to each series' point count and widens its rollups (``MetricRollup``).
Elsewhere (SQLite, the embedded default) the ORM does the same in a few more queries. The
caller holds the transaction and the run's row lock.
"""

import io
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Count, OuterRef, Subquery

from experiments.models import ROLLUP_SHIFT, MetricPoint, MetricRollup, MetricSeries

# (key, step, timestamp, stored value, is_nan), with a NaN already stored as 0.0.
Point = tuple[str, int, int, float, bool]
Latest = tuple[int, int, float, bool]

_SERIES = MetricSeries._meta.db_table
_POINTS = MetricPoint._meta.db_table
_ROLLUPS = MetricRollup._meta.db_table
_STAGE = "experiments_point_stage"


def latest_by_key(points: Iterable[Point]) -> dict[str, Latest]:
    """Each key's latest point in ``points``: greatest step, then timestamp, then value."""
    latest: dict[str, Latest] = {}
    for key, step, timestamp, value, is_nan in points:
        current = latest.get(key)
        if current is None or (step, timestamp, value) > current[:3]:
            latest[key] = (step, timestamp, value, is_nan)
    return latest


def write_points(*, run_pk: int, points: Sequence[Point]) -> None:
    if not points:
        return
    latest = latest_by_key(points)
    if connection.vendor == "postgresql":
        _write_postgresql(run_pk, latest, points)
    else:
        _write_portable(run_pk, latest, points)


def _write_postgresql(run_pk: int, latest: dict[str, Latest], points: Sequence[Point]) -> None:
    keys = sorted(latest)  # one lock order for every writer of the same series
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(keys))
    params: list[object] = []
    for key in keys:
        params += [run_pk, key, *latest[key]]
    params += [run_pk, keys]
    with connection.cursor() as cursor:
        # The staging table lives as long as the connection and empties at each commit, so
        # a batch creates no catalog rows; the upsert answers every key's series id, new or
        # not, in the same round trip.
        cursor.execute(
            f"""
            CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
                series_id bigint, step bigint, "timestamp" bigint,
                value double precision, is_nan boolean
            ) ON COMMIT DELETE ROWS;
            WITH upserted AS (
                INSERT INTO {_SERIES} AS s
                    (run_id, key, latest_step, latest_timestamp, latest_value, latest_is_nan)
                VALUES {rows}
                ON CONFLICT (run_id, key) DO UPDATE SET
                    latest_step = EXCLUDED.latest_step,
                    latest_timestamp = EXCLUDED.latest_timestamp,
                    latest_value = EXCLUDED.latest_value,
                    latest_is_nan = EXCLUDED.latest_is_nan
                WHERE (EXCLUDED.latest_step, EXCLUDED.latest_timestamp, EXCLUDED.latest_value)
                    > (s.latest_step, s.latest_timestamp, s.latest_value)
                RETURNING id, key
            )
            SELECT id, key FROM upserted
            UNION ALL
            SELECT id, key FROM {_SERIES}
            WHERE run_id = %s AND key = ANY(%s) AND key NOT IN (SELECT key FROM upserted)
            """,  # noqa: S608  (table names are constants; values are parameters)
            params,
        )
        series = {key: pk for pk, key in cursor.fetchall()}
        data = io.StringIO(
            "".join(
                f"{series[key]}\t{step}\t{timestamp}\t{value!r}\t{'t' if is_nan else 'f'}\n"
                for key, step, timestamp, value, is_nan in points
            )
        )
        cursor.copy_expert(f"COPY {_STAGE} FROM STDIN", data)
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO {_POINTS} (series_id, step, "timestamp", value, is_nan)
                SELECT series_id, step, "timestamp", value, is_nan FROM {_STAGE}
                ON CONFLICT DO NOTHING
                RETURNING series_id, step, "timestamp", value, is_nan
            ), counted AS (
                UPDATE {_SERIES} AS s SET point_count = s.point_count + c.n
                FROM (SELECT series_id, count(*) AS n FROM inserted GROUP BY series_id) AS c
                WHERE s.id = c.series_id
            ), finite AS (
                SELECT series_id, step >> {ROLLUP_SHIFT} AS bucket, step, "timestamp", value
                FROM inserted
                WHERE NOT is_nan AND value <> 'Infinity' AND value <> '-Infinity'
            ), lows AS (
                SELECT DISTINCT ON (series_id, bucket) * FROM finite
                ORDER BY series_id, bucket, value, step
            ), highs AS (
                SELECT DISTINCT ON (series_id, bucket) * FROM finite
                ORDER BY series_id, bucket, value DESC, step
            )
            INSERT INTO {_ROLLUPS} AS r (series_id, bucket, min_step, min_timestamp, min_value,
                                        max_step, max_timestamp, max_value)
            SELECT l.series_id, l.bucket, l.step, l."timestamp", l.value,
                   h.step, h."timestamp", h.value
            FROM lows AS l JOIN highs AS h USING (series_id, bucket)
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
            WHERE EXCLUDED.min_value < r.min_value OR EXCLUDED.max_value > r.max_value;
            DELETE FROM {_STAGE};
            """  # noqa: S608  (constant table names and an integer constant)
        )


def _write_portable(run_pk: int, latest: dict[str, Latest], points: Sequence[Point]) -> None:
    existing = {s.key: s for s in MetricSeries.objects.filter(run_id=run_pk, key__in=latest)}
    created = MetricSeries.objects.bulk_create(
        [
            MetricSeries(
                run_id=run_pk,
                key=key,
                latest_step=step,
                latest_timestamp=timestamp,
                latest_value=value,
                latest_is_nan=is_nan,
            )
            for key, (step, timestamp, value, is_nan) in latest.items()
            if key not in existing
        ]
    )
    later = []
    for key, series in existing.items():
        step, timestamp, value, is_nan = latest[key]
        if (step, timestamp, value) > (
            series.latest_step,
            series.latest_timestamp,
            series.latest_value,
        ):
            series.latest_step, series.latest_timestamp = step, timestamp
            series.latest_value, series.latest_is_nan = value, is_nan
            later.append(series)
    MetricSeries.objects.bulk_update(
        later, ["latest_step", "latest_timestamp", "latest_value", "latest_is_nan"]
    )
    ids = {series.key: series.pk for series in [*existing.values(), *created]}
    MetricPoint.objects.bulk_create(
        [
            MetricPoint(
                series_id=ids[key], step=step, timestamp=timestamp, value=value, is_nan=is_nan
            )
            for key, step, timestamp, value, is_nan in points
        ],
        ignore_conflicts=True,
    )
    # The portable path cannot tell which points were new: recount the touched series.
    count = (
        MetricPoint.objects.filter(series=OuterRef("pk"))
        .values("series")
        .annotate(n=Count("*"))
        .values("n")
    )
    MetricSeries.objects.filter(pk__in=ids.values()).update(point_count=Subquery(count))
    _widen_rollups(ids, points)


def _widen_rollups(ids: dict[str, int], points: Sequence[Point]) -> None:
    """Lowest and highest finite point per block, merged into the stored rollups; points
    already stored change nothing, as on PostgreSQL."""
    blocks: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
    for key, step, timestamp, value, is_nan in points:
        if is_nan or value in (float("inf"), float("-inf")):
            continue
        block = blocks.setdefault((ids[key], step >> ROLLUP_SHIFT), [])
        block.append((value, step, timestamp))
    if not blocks:
        return
    stored = {
        (r.series_id, r.bucket): r
        for r in MetricRollup.objects.filter(
            series_id__in={series for series, _ in blocks},
            bucket__in={bucket for _, bucket in blocks},
        )
    }
    new, changed = [], []
    for (series, bucket), candidates in blocks.items():
        low = min(candidates, key=lambda c: (c[0], c[1]))
        high = min(candidates, key=lambda c: (-c[0], c[1]))
        rollup = stored.get((series, bucket))
        if rollup is None:
            new.append(
                MetricRollup(
                    series_id=series,
                    bucket=bucket,
                    min_value=low[0],
                    min_step=low[1],
                    min_timestamp=low[2],
                    max_value=high[0],
                    max_step=high[1],
                    max_timestamp=high[2],
                )
            )
            continue
        if low[0] >= rollup.min_value and high[0] <= rollup.max_value:
            continue
        if low[0] < rollup.min_value:
            rollup.min_value, rollup.min_step, rollup.min_timestamp = low
        if high[0] > rollup.max_value:
            rollup.max_value, rollup.max_step, rollup.max_timestamp = high
        changed.append(rollup)
    MetricRollup.objects.bulk_create(new)
    MetricRollup.objects.bulk_update(
        changed,
        ["min_value", "min_step", "min_timestamp", "max_value", "max_step", "max_timestamp"],
    )

"""The fast path that writes metric points; called only by ``services.log_batch`` and its kin.

Two invariants make it cheap whatever a run already holds: writing a point is an insert
that ignores an identical existing point (the point is its own primary key), and the
run's latest value per key is updated only when a new point is later. Nothing here reads
the points already stored, so a retried batch costs what the first one did.

On PostgreSQL a batch is three round trips: the series upsert (which also returns the
series ids), ``COPY`` into a session-local staging table, and one ``INSERT ... SELECT ...
ON CONFLICT DO NOTHING`` from it. Elsewhere (SQLite, the embedded default) the ORM does the
same with ``bulk_create``. The caller holds the transaction and the run's row lock.
"""

import io
from collections.abc import Iterable, Sequence

from django.db import connection

from experiments.models import MetricPoint, MetricSeries

# (key, step, timestamp, stored value, is_nan), with a NaN already stored as 0.0.
Point = tuple[str, int, int, float, bool]
Latest = tuple[int, int, float, bool]

_SERIES = MetricSeries._meta.db_table
_POINTS = MetricPoint._meta.db_table
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
            INSERT INTO {_POINTS} (series_id, step, "timestamp", value, is_nan)
            SELECT series_id, step, "timestamp", value, is_nan FROM {_STAGE}
            ON CONFLICT DO NOTHING;
            DELETE FROM {_STAGE};
            """  # noqa: S608  (constant table names)
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

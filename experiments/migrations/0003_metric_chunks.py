"""Metric points move from a row each to packed chunks (see ``experiments.points``).

Points already stored are repacked series by series, in the layout of that module as it
was when this migration was written, so the migration keeps working if it changes later.
"""

import struct

import django.db.models.deletion
from django.db import migrations, models

CHUNK_MAX = 1024


def _pack(points):
    steps = [p[0] for p in points]
    timestamps = [p[1] for p in points]
    # As ingest stores them: one NaN, and 0.0 for -0.0, so that equal points have equal bytes.
    values = [float("nan") if p[3] else p[2] + 0.0 for p in points]
    count = len(points)
    return (
        struct.pack(f">{count}q", *steps)
        + struct.pack(f">{count}q", *timestamps)
        + struct.pack(f">{count}d", *values)
    )


def repack_points(apps, schema_editor):
    MetricSeries = apps.get_model("experiments", "MetricSeries")
    MetricPoint = apps.get_model("experiments", "MetricPoint")
    MetricChunk = apps.get_model("experiments", "MetricChunk")
    for series_id in MetricSeries.objects.values_list("pk", flat=True).iterator():
        points = list(
            MetricPoint.objects.filter(series_id=series_id)
            .order_by("step", "timestamp", "is_nan", "value")
            .values_list("step", "timestamp", "value", "is_nan")
        )
        MetricChunk.objects.bulk_create(
            MetricChunk(
                series_id=series_id,
                first_step=piece[0][0],
                last_step=piece[-1][0],
                size=len(piece),
                data=_pack(piece),
            )
            for piece in (
                points[start : start + CHUNK_MAX] for start in range(0, len(points), CHUNK_MAX)
            )
        )


def store_uncompressed(apps, schema_editor):
    """Packed numbers barely compress: PostgreSQL is told not to try."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE experiments_metricchunk ALTER COLUMN data SET STORAGE EXTERNAL"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0002_metric_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="MetricChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_step", models.BigIntegerField()),
                ("last_step", models.BigIntegerField()),
                ("size", models.PositiveIntegerField(help_text="Points in the chunk.")),
                ("data", models.BinaryField()),
                (
                    "series",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="experiments.metricseries",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="metricchunk",
            index=models.Index(fields=["series", "last_step"], name="metric_chunk_series_step"),
        ),
        migrations.RunPython(store_uncompressed, migrations.RunPython.noop),
        migrations.RunPython(repack_points, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="MetricPoint",
        ),
    ]

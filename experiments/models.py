"""Experiment tracking in MLflow's model: experiments of a project, their runs, and each run's
params, tags, metric series and dataset inputs.

Invariants a newcomer must know are in ``experiments/README.md``. Every write goes through
``experiments.services``; these models hold data and database constraints only. Times are
integers in milliseconds since the epoch, as MLflow sends and expects them.
"""

import uuid

from django.db import models
from django.db.models import Q

from experiments.choices import LifecycleStage, RunStatus
from mlprojects.db import optional_user

MAX_KEY_LENGTH = 250
# Points are rolled up in blocks of 2**ROLLUP_SHIFT steps (64): a million-step series keeps
# about 15,600 blocks, twice that many candidate points for a 2,000-point chart.
ROLLUP_SHIFT = 6


def new_run_id() -> str:
    """MLflow's run id: a random UUID as 32 lowercase hex digits, unique across projects."""
    return uuid.uuid4().hex


class Experiment(models.Model):
    project = models.ForeignKey(
        "phases.Project", on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.CharField(max_length=500)
    is_default = models.BooleanField(
        default=False,
        editable=False,
        help_text="MLflow's default experiment of the project, addressed as experiment id 0.",
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    artifact_location = models.CharField(max_length=1000, blank=True, editable=False)
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()

    class Meta:
        constraints = [
            # A deleted experiment keeps its name, as in MLflow: restoring it must not collide.
            models.UniqueConstraint(fields=["project", "name"], name="experiment_name_unique"),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(is_default=True),
                name="one_default_experiment_per_project",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentTag(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="experiment_tag_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class Run(models.Model):
    run_id = models.CharField(max_length=32, unique=True, default=new_run_id, editable=False)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=MAX_KEY_LENGTH, blank=True)
    created_by = optional_user(
        help_text="Who created the run, as authenticated (not what the client claimed)."
    )
    user_id = models.CharField(
        max_length=256, blank=True, help_text="MLflow's user_id: the creator's username."
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    start_time = models.BigIntegerField()
    end_time = models.BigIntegerField(null=True, blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    artifact_uri = models.CharField(max_length=1000, editable=False)

    class Meta:
        indexes = [
            # Search's default order within experiments: newest first.
            models.Index(
                "experiment", "lifecycle_stage", models.F("start_time").desc(), name="run_search"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.run_id


class Param(models.Model):
    """Write-once: a param keeps the value it was first logged with."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="param_unique")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class RunTag(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="run_tag_unique")]

    def __str__(self) -> str:
        return self.key


class MetricSeries(models.Model):
    """One metric key of one run: the key, kept out of the point rows, and the run's latest
    value of it (MLflow's "latest metric"), which search and ``runs/get`` read.

    The latest point is the one with the greatest ``(step, timestamp, value)``, a NaN
    counting as the value 0 it is stored with; the ingest service keeps it current.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_series")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    latest_step = models.BigIntegerField()
    latest_timestamp = models.BigIntegerField()
    latest_value = models.FloatField()
    latest_is_nan = models.BooleanField(default=False)
    # A database default: the ingest SQL inserts series rows without naming this column.
    point_count = models.BigIntegerField(
        db_default=0, help_text="Distinct points stored, kept by the ingest service."
    )

    class Meta:
        verbose_name_plural = "metric series"
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="metric_series_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class MetricChunk(models.Model):
    """A stretch of one series' points, packed (see ``experiments.points``).

    Runs hold millions of points: as chunks of up to a thousand, a series costs one row and
    one index entry per chunk instead of per point, and is read with a few rows. Chunks of a
    series are in step order and hold distinct points; a chunk written by a late or retried
    batch may overlap others in steps, never in points. ``ingest`` is the only writer.
    """

    series = models.ForeignKey(
        MetricSeries, on_delete=models.CASCADE, related_name="chunks", db_index=False
    )
    first_step = models.BigIntegerField()
    last_step = models.BigIntegerField()
    size = models.PositiveIntegerField(help_text="Points in the chunk.")
    data = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["series", "last_step"], name="metric_chunk_series_step")]

    def __str__(self) -> str:
        return f"{self.series_id}@{self.first_step}-{self.last_step}"


class MetricRollup(models.Model):
    """The lowest and the highest finite point of each block of 2**``ROLLUP_SHIFT`` steps.

    A chart of a million-point series is drawn from these few rows instead of the points:
    they are exactly what MinMaxLTTB would preselect, kept current at ingest so that no
    read has to scan the series. Identical points logged again change nothing here either.
    """

    pk = models.CompositePrimaryKey("series", "bucket")
    series = models.ForeignKey(
        MetricSeries,
        on_delete=models.CASCADE,
        related_name="rollups",
        db_constraint=False,
        db_index=False,
    )
    bucket = models.BigIntegerField(help_text="step >> ROLLUP_SHIFT")
    min_step = models.BigIntegerField()
    min_timestamp = models.BigIntegerField()
    min_value = models.FloatField()
    max_step = models.BigIntegerField()
    max_timestamp = models.BigIntegerField()
    max_value = models.FloatField()

    def __str__(self) -> str:
        return f"{self.series_id}#{self.bucket}"


class RunInput(models.Model):
    """A dataset a run used, as ``runs/log-inputs`` reports it; kept minimal."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="inputs")
    name = models.CharField(max_length=500)
    digest = models.CharField(max_length=36)
    source_type = models.CharField(max_length=36)
    source = models.TextField()
    schema = models.TextField(blank=True)
    profile = models.TextField(blank=True)
    context = models.CharField(
        max_length=500, blank=True, help_text="The mlflow.data.context input tag (train, test…)."
    )
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "name", "digest"], name="run_input_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RunEvidence(models.Model):
    """A run offered as evidence for a phase outcome (for example "model good enough")."""

    outcome = models.ForeignKey(
        "phases.Outcome", on_delete=models.CASCADE, related_name="run_evidence"
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="evidence")
    note = models.TextField(blank=True)
    linked_by = optional_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "run evidence"
        constraints = [
            models.UniqueConstraint(fields=["outcome", "run"], name="run_evidence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run} → {self.outcome}"

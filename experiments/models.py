"""Experiment tracking in MLflow's model: experiments of a project, their runs, and each run's
params, tags, metric series and dataset inputs.

Invariants a newcomer must know are in ``experiments/README.md``. Every write goes through
``experiments.services``; these models hold data and database constraints only. Times are
integers in milliseconds since the epoch, as MLflow sends and expects them.
"""

import datetime as dt
import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q

from experiments.choices import (
    DatasetSource,
    LifecycleStage,
    Pruner,
    RunStatus,
    Strategy,
    SweepStatus,
    Task,
    TrialStatus,
)
from mlprojects.db import optional_user
from phases.choices import MetricDirection

MAX_KEY_LENGTH = 250
# Points are rolled up in blocks of 2**ROLLUP_SHIFT steps (64): a million-step series keeps
# about 15,600 blocks, twice that many candidate points for a 2,000-point chart.
ROLLUP_SHIFT = 6


def epoch_ms(moment: dt.datetime) -> int:
    """``moment`` as these models store times: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def new_run_id() -> str:
    """MLflow's run id: a random UUID as 32 lowercase hex digits, unique across projects."""
    return uuid.uuid4().hex


class KeyValue(models.Model):
    """A tag or a param as MLflow stores them: a key of up to ``MAX_KEY_LENGTH`` characters,
    unique within what it belongs to (:func:`unique_key`), and any text as its value."""

    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.key


def unique_key(owner: str, name: str) -> models.UniqueConstraint:
    """One value a key within ``owner``."""
    return models.UniqueConstraint(fields=[owner, "key"], name=name)


class ParamValue(KeyValue):
    """Write-once: a param keeps the value it was first logged with."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


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


class ExperimentTag(KeyValue):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="tags")

    class Meta:
        constraints = [unique_key("experiment", "experiment_tag_unique")]


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


class Param(ParamValue):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params")

    class Meta:
        constraints = [unique_key("run", "param_unique")]


class RunTag(KeyValue):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")

    class Meta:
        constraints = [unique_key("run", "run_tag_unique")]


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


# --- Sweeps (experiment jobs) -----------------------------------------------------------


class DatasetStorage(FileSystemStorage):
    """Dataset files under ``EXPERIMENTS_DATASET_ROOT`` (the var dir by default), read on
    every access: a field's storage is made once, when the model class loads, so a fixed
    location would ignore a setting changed afterwards (as tests change it)."""

    @property
    def base_location(self) -> str:
        return str(settings.EXPERIMENTS_DATASET_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def dataset_storage() -> FileSystemStorage:
    return DatasetStorage()


def dataset_path(dataset: "Dataset", filename: str) -> str:
    return f"{dataset.project_id}/{uuid.uuid4().hex}.csv"


class Dataset(models.Model):
    """A table a sweep trains on: one of scikit-learn's own, a CSV a contributor uploaded,
    or production's labelled rows exported as a CSV (``origin`` says from where). Never
    changed once made, so trials may cache what they read."""

    project = models.ForeignKey("phases.Project", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=DatasetSource.choices)
    builtin = models.CharField(max_length=32, blank=True)
    file = models.FileField(upload_to=dataset_path, storage=dataset_storage, blank=True)
    target = models.CharField(max_length=200)
    task = models.CharField(
        max_length=16, choices=Task.choices, help_text="What the target suggests; a hint."
    )
    columns = models.JSONField(
        default=dict, help_text='Feature columns: name -> "numeric" or "categorical".'
    )
    rows = models.PositiveIntegerField()
    origin = models.JSONField(
        default=dict,
        blank=True,
        help_text="Where exported rows came from: the deployment, the window of its batches, "
        "the counts, and a summary in words. Empty for built-in and uploaded datasets.",
    )
    created_by = optional_user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="dataset_name_unique"),
            models.CheckConstraint(
                condition=(Q(source=DatasetSource.BUILTIN) & ~Q(builtin=""))
                | (Q(source__in=[DatasetSource.UPLOAD, DatasetSource.PRODUCTION]) & Q(builtin="")),
                name="dataset_source_matches",
            ),
            models.CheckConstraint(
                condition=Q(source=DatasetSource.PRODUCTION) | Q(origin={}),
                name="dataset_origin_of_exports_only",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TrialQuota(models.Model):
    """How many trials of one project may run at once, over all its sweeps."""

    project = models.OneToOneField(
        "phases.Project", on_delete=models.CASCADE, related_name="trial_quota"
    )
    max_concurrent = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_concurrent__gte=1), name="trial_quota_positive")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.max_concurrent}"


class Sweep(models.Model):
    """A search over estimator families and their hyperparameters; its trials are the
    ledger (``Trial``) and each trial that ran is a run of ``experiment``."""

    project = models.ForeignKey("phases.Project", on_delete=models.CASCADE, related_name="sweeps")
    experiment = models.OneToOneField(Experiment, on_delete=models.RESTRICT, related_name="sweep")
    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(Dataset, on_delete=models.RESTRICT, related_name="sweeps")
    task = models.CharField(max_length=16, choices=Task.choices)
    target = models.CharField(max_length=200)
    families = models.JSONField(default=list)
    space = models.JSONField(
        default=dict, help_text="family -> param -> {type, low, high, choices}"
    )
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    pruner = models.CharField(max_length=24, choices=Pruner.choices, default=Pruner.NONE)
    max_trials = models.PositiveIntegerField()
    max_seconds = models.PositiveIntegerField(null=True, blank=True)
    folds = models.PositiveSmallIntegerField()
    metrics = models.JSONField(default=list, help_text="The first is the objective.")
    direction = models.CharField(
        max_length=16, choices=MetricDirection.choices, help_text="The objective's."
    )
    seed = models.BigIntegerField()
    max_concurrent = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=SweepStatus.choices, default=SweepStatus.QUEUED
    )
    best_trial = models.ForeignKey(
        "Trial", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The params' importances, kept by the worker that ended the sweep's last trial so that
    # its page neither reruns fANOVA nor imports Optuna: {"succeeded": n, "family": key,
    # "values": {param: share}}, current while the sweep has n succeeded trials.
    importances = models.JSONField(default=dict, blank=True, editable=False)
    created_by = optional_user()
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="sweep_name_unique"),
            models.CheckConstraint(condition=Q(folds__gte=2), name="sweep_folds_at_least_two"),
        ]
        indexes = [models.Index(fields=["project", "status"], name="sweep_project_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def maximizes(self) -> bool:
        """Whether a higher value of the objective is better."""
        return MetricDirection.maximizes(self.direction)


class Trial(models.Model):
    """One point of a sweep: a ledger row claimed by one worker at a time under a lease.

    ``number`` is unique in the sweep; ``grid_point`` (grid sweeps) too, so no point of a
    grid can be run twice. The run is written in the transaction that finishes the trial.
    """

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    grid_point = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=TrialStatus.choices, default=TrialStatus.QUEUED
    )
    params = models.JSONField(default=dict, blank=True)
    sampler_attrs = models.JSONField(
        default=dict, blank=True, help_text="Optuna's system attributes of the trial."
    )
    intermediate = models.JSONField(
        default=list, blank=True, help_text="The objective's running mean after each fold."
    )
    run = models.OneToOneField(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="trial"
    )
    value = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "number"], name="trial_number_unique"),
            models.UniqueConstraint(
                fields=["sweep", "grid_point"],
                condition=Q(grid_point__isnull=False),
                name="trial_grid_point_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status=TrialStatus.RUNNING)
                | (~Q(lease_owner="") & Q(lease_expires_at__isnull=False)),
                name="trial_running_holds_lease",
            ),
        ]
        indexes = [models.Index(fields=["sweep", "status"], name="trial_sweep_status")]

    def __str__(self) -> str:
        return f"{self.sweep_id}#{self.number}"

"""The model registry in MLflow 3's model: logged models (a model a run produced, with its
artifacts), registered models of a project, their numbered versions, aliases, and the
deployment events that moving a project's production alias records.

Invariants a newcomer must know are in ``registry/README.md``. Every write goes through
``registry.services``; these models hold data and database constraints only. Times of the
MLflow objects are integers in milliseconds since the epoch, as MLflow sends them.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from experiments.choices import LifecycleStage
from experiments.models import MAX_KEY_LENGTH, KeyValue, ParamValue, unique_key
from mlprojects.db import optional_user
from registry.choices import DEFAULT_PRODUCTION_ALIAS, DeploymentKind, LoggedModelStatus, Stage

MAX_MODEL_NAME_LENGTH = 256
MAX_LOGGED_MODEL_NAME_LENGTH = 500
MAX_ALIAS_LENGTH = 255
MAX_URI_LENGTH = 1000


def new_model_id() -> str:
    """MLflow 3's logged model id: ``m-`` and a random UUID as 32 hex digits."""
    return f"m-{uuid.uuid4().hex}"


class RegistrySettings(models.Model):
    """Per project: which alias of its registered models means "in production"."""

    project = models.OneToOneField(
        "phases.Project",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="registry_settings",
    )
    production_alias = models.CharField(
        max_length=MAX_ALIAS_LENGTH,
        default=DEFAULT_PRODUCTION_ALIAS,
        help_text="Moving this alias to a version is a recorded deployment of that version.",
    )

    class Meta:
        verbose_name = "registry settings"
        verbose_name_plural = "registry settings"

    def __str__(self) -> str:
        return f"{self.project}: {self.production_alias}"


# --- Logged models ----------------------------------------------------------------------


class LoggedModel(models.Model):
    """A model a run (or a script) logged: its artifacts live beside the run's, under the
    experiment's ``models/<model id>/artifacts`` folder."""

    model_id = models.CharField(max_length=36, unique=True, default=new_model_id, editable=False)
    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="logged_models"
    )
    name = models.CharField(max_length=MAX_LOGGED_MODEL_NAME_LENGTH)
    source_run = models.ForeignKey(
        "experiments.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="logged_models",
    )
    model_type = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=32, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING
    )
    status_message = models.TextField(blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    artifact_location = models.CharField(max_length=MAX_URI_LENGTH, editable=False)
    created_by = optional_user()
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()

    class Meta:
        indexes = [
            # Search's default order within experiments: newest first.
            models.Index(
                "experiment",
                "lifecycle_stage",
                models.F("creation_time").desc(),
                name="logged_model_search",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"


class LoggedModelTag(KeyValue):
    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="tags")

    class Meta:
        constraints = [unique_key("model", "logged_model_tag_unique")]


class LoggedModelParam(ParamValue):
    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="params")

    class Meta:
        constraints = [unique_key("model", "logged_model_param_unique")]


_METRIC_POINT = ["model", "key", "timestamp", "step", "dataset_name", "dataset_digest"]


class LoggedModelMetric(models.Model):
    """A metric point logged for a model (``log-batch`` items that name a ``model_id``),
    optionally on a dataset. A NaN is stored as 0 with ``is_nan`` set, as run series are."""

    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="metrics")
    run = models.ForeignKey(
        "experiments.Run", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.FloatField()
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    dataset_name = models.CharField(max_length=500, blank=True)
    dataset_digest = models.CharField(max_length=36, blank=True)

    class Meta:
        # One point per model, key, time, step, run and dataset. A point without a run gets
        # its own constraint rather than NULLS NOT DISTINCT, which SQLite cannot enforce.
        constraints = [
            models.UniqueConstraint(
                fields=[*_METRIC_POINT, "run"],
                condition=Q(run__isnull=False),
                name="logged_model_metric_unique",
            ),
            models.UniqueConstraint(
                fields=_METRIC_POINT,
                condition=Q(run__isnull=True),
                name="logged_model_metric_unique_without_run",
            ),
        ]
        indexes = [models.Index(fields=["key", "model"], name="logged_model_metric_key")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class RunModelLink(models.Model):
    """A run's model outputs (``runs/outputs``: the run produced the model at a step) and
    model inputs (``runs/log-inputs``: the run used the model, for example to evaluate it)."""

    class Direction(models.TextChoices):
        OUTPUT = "output", "Output"
        INPUT = "input", "Input"

    run = models.ForeignKey("experiments.Run", on_delete=models.CASCADE, related_name="model_links")
    model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="run_links")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    step = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "model", "direction"], name="run_model_link_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.direction} {self.model_id}"


# --- Registered models ------------------------------------------------------------------


class RegisteredModel(models.Model):
    project = models.ForeignKey(
        "phases.Project", on_delete=models.CASCADE, related_name="registered_models"
    )
    name = models.CharField(max_length=MAX_MODEL_NAME_LENGTH)
    description = models.TextField(blank=True)
    last_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="The highest version number handed out; numbers of deleted versions are "
        "never reused.",
    )
    created_by = optional_user()
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="registered_model_name")
        ]

    def __str__(self) -> str:
        return self.name


class RegisteredModelTag(KeyValue):
    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="tags"
    )

    class Meta:
        constraints = [unique_key("registered_model", "registered_model_tag_unique")]


class ModelVersion(models.Model):
    """A numbered version of a registered model: the artifacts at ``storage_location``, with
    the run and the logged model they came from when this server holds them."""

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=MAX_URI_LENGTH, help_text="The URI it was created from.")
    storage_location = models.CharField(
        max_length=MAX_URI_LENGTH, help_text="Where its artifacts are, as the client reads them."
    )
    run = models.ForeignKey(
        "experiments.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="model_versions",
    )
    logged_model = models.ForeignKey(
        LoggedModel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="versions",
    )
    run_link = models.CharField(max_length=MAX_URI_LENGTH, blank=True)
    description = models.TextField(blank=True)
    current_stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE)
    created_by = optional_user()
    user_id = models.CharField(max_length=256, blank=True)
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()

    class Meta:
        ordering = ["registered_model", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "version"], name="model_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="model_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model_id} v{self.version}"


class ModelVersionTag(KeyValue):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")

    class Meta:
        constraints = [unique_key("model_version", "model_version_tag_unique")]


class ModelAlias(models.Model):
    """A name pointing at one version of a registered model; one alias names one version."""

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="aliases"
    )
    alias = models.CharField(max_length=MAX_ALIAS_LENGTH)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="aliases"
    )
    set_by = optional_user()
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "model aliases"
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "alias"], name="model_alias_unique")
        ]

    def __str__(self) -> str:
        return self.alias


class DeploymentEvent(models.Model):
    """The audit trail of a project's production alias: one row per move, never edited.

    What moved is kept twice: as links (for pages) and as copies (name, version number, run
    id, metric values), so the history survives deleting the model, the version or the run.
    A ``withdrawn`` event (the alias removed, or its version or model deleted) names no
    version; ``previous_*`` is what was at the alias before.
    """

    project = models.ForeignKey(
        "phases.Project", on_delete=models.CASCADE, related_name="deployment_events"
    )
    kind = models.CharField(max_length=16, choices=DeploymentKind.choices)
    alias = models.CharField(max_length=MAX_ALIAS_LENGTH)
    registered_model = models.ForeignKey(
        RegisteredModel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployment_events",
    )
    model_name = models.CharField(max_length=MAX_MODEL_NAME_LENGTH)
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployment_events",
    )
    version = models.PositiveIntegerField(null=True, blank=True)
    previous_model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    previous_version = models.PositiveIntegerField(null=True, blank=True)
    run = models.ForeignKey(
        "experiments.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployment_events",
    )
    mlflow_run_id = models.CharField(
        max_length=32, blank=True, help_text="The run's MLflow id, kept when the run goes."
    )
    metrics = models.JSONField(
        default=dict,
        blank=True,
        help_text="The version's metric values when it moved, by key (NaN as null).",
    )
    by = optional_user()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["project", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=DeploymentKind.WITHDRAWN, version__isnull=True)
                | Q(kind=DeploymentKind.PROMOTED, version__isnull=False),
                name="deployment_event_version_unless_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == DeploymentKind.WITHDRAWN:
            return f"{self.model_name}@{self.alias} withdrawn"
        return f"{self.model_name} v{self.version}@{self.alias}"

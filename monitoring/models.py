"""Production monitoring: deployments and their reference, batches, monitors, results, alerts.

Invariants a newcomer must know are in ``monitoring/README.md``. Every write goes through
``monitoring.services``; these models hold data and database constraints only.
"""

import datetime as dt

from django.db import models
from django.db.models import F, Q

from mlprojects.db import optional_user
from monitoring.choices import (
    AlertState,
    ChannelKind,
    ColumnKind,
    ColumnRole,
    DeliveryStatus,
    MonitorKind,
    NotificationEvent,
    ReferenceSource,
    ResultStatus,
)

# --- Deployments ------------------------------------------------------------------------


class Deployment(models.Model):
    """What runs in production for a project: the version at its production alias, from the
    moment the alias pointed at it until it moved on (``ended_at``)."""

    project = models.ForeignKey(
        "phases.Project", on_delete=models.CASCADE, related_name="deployments"
    )
    name = models.CharField(max_length=250, help_text="The deployed version, in words.")
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployments",
    )
    event = models.OneToOneField(
        "registry.DeploymentEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployment",
        help_text="The move of the production alias that started it.",
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = optional_user()
    reference_source = models.CharField(max_length=16, choices=ReferenceSource.choices, blank=True)
    reference_rows = models.PositiveIntegerField(default=0)
    reference_set_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(ended_at__isnull=True),
                name="one_current_deployment_per_project",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="deployment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.name}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ReferenceColumn(models.Model):
    """One column of a deployment's reference data, summarised once (``monitoring.drift``):
    the schema production batches are checked against and the baseline of every test."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="reference_columns"
    )
    name = models.CharField(max_length=250)
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=16, choices=ColumnRole.choices)
    kind = models.CharField(max_length=16, choices=ColumnKind.choices)
    stats = models.JSONField(help_text="The profile: counts, moments, range, categories.")
    sample = models.BinaryField(
        default=bytes, help_text="Sorted values or quantiles of a numeric column (float64)."
    )

    class Meta:
        ordering = ["deployment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "name"], name="reference_column_name"),
            models.UniqueConstraint(
                fields=["deployment", "position"], name="reference_column_position"
            ),
            models.UniqueConstraint(
                fields=["deployment"],
                condition=Q(role=ColumnRole.PREDICTION),
                name="one_prediction_column",
            ),
            models.UniqueConstraint(
                fields=["deployment"],
                condition=Q(role=ColumnRole.LABEL),
                name="one_label_column",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()} {self.get_role_display().lower()})"


class Batch(models.Model):
    """Production rows of one deployment as they were sent: features and predictions, kept
    as one Arrow IPC stream (columns as the reference names them, plus ``row_id``)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="batches")
    observed_at = models.DateTimeField(
        help_text="When production saw these rows; windows are cut on it."
    )
    received_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField()
    digest = models.CharField(
        max_length=64, help_text="SHA-256 of the rows as stored: the same rows are one batch."
    )
    data = models.BinaryField()
    type_errors = models.JSONField(
        default=dict, blank=True, help_text="Values of the wrong type, per column, kept as missing."
    )
    sent_by = optional_user()

    class Meta:
        ordering = ["deployment", "observed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "digest"], name="batch_sent_once"),
            models.CheckConstraint(condition=Q(rows__gt=0), name="batch_not_empty"),
        ]
        indexes = [models.Index(fields=["deployment", "observed_at"], name="batch_window")]

    def __str__(self) -> str:
        return f"{self.rows} rows at {self.observed_at:%Y-%m-%d %H:%M}"


class Record(models.Model):
    """One production row's prediction, and its label once known: labels arrive later and
    join by ``row_id``, which is unique within a deployment."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="records")
    row_id = models.CharField(max_length=200)
    prediction = models.JSONField(null=True)
    label = models.JSONField(null=True, blank=True)
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "row_id"], name="record_row_id"),
            models.CheckConstraint(
                condition=Q(label__isnull=True) | Q(labelled_at__isnull=False),
                name="record_label_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["batch"], condition=Q(labelled_at__isnull=False), name="record_labelled"
            )
        ]

    def __str__(self) -> str:
        return self.row_id


# --- Monitors and results ---------------------------------------------------------------


class Monitor(models.Model):
    """A scheduled check of a project. Deployment monitors follow the project's current
    deployment (re-baselined when it changes); the health monitor reads the project."""

    project = models.ForeignKey("phases.Project", on_delete=models.CASCADE, related_name="monitors")
    kind = models.CharField(max_length=20, choices=MonitorKind.choices)
    name = models.CharField(max_length=120)
    deployment = models.ForeignKey(
        Deployment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="monitors",
        help_text="The deployment it compares against; moves with the production alias.",
    )
    baseline_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last re-baselined on a new deployment."
    )
    config = models.JSONField(
        default=dict, blank=True, help_text="Thresholds and options; see monitoring/README.md."
    )
    window = models.DurationField(help_text="How much data one result covers.")
    for_duration = models.DurationField(
        default=dt.timedelta(0),
        help_text="How long the condition must hold before the alert fires (Grafana's 'for').",
    )
    repeat_interval = models.DurationField(
        help_text="How often a firing alert is notified again while nobody acknowledged it."
    )
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="monitor",
        editable=False,
    )
    enabled = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="monitor_name_unique"),
            models.CheckConstraint(
                condition=Q(window__gt=dt.timedelta(0)), name="monitor_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.name}"


class Result(models.Model):
    """One evaluation of a monitor over one window: a point of its time series."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="results"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    value = models.FloatField(null=True, blank=True, help_text="The headline number.")
    threshold = models.FloatField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    summary = models.TextField()
    details = models.JSONField(default=dict, blank=True, help_text="The numbers per feature.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["monitor", "-window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "window_start"], name="one_result_per_window"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="result_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.monitor} {self.window_start:%Y-%m-%d %H:%M}: {self.status}"


# --- Alerts and notifications -----------------------------------------------------------


class Alert(models.Model):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    state = models.CharField(max_length=16, choices=AlertState.choices)
    summary = models.TextField()
    started_at = models.DateTimeField(help_text="When the condition was first seen.")
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = optional_user(help_text="Empty when the monitor resolved it by being ok again.")
    resolution = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = optional_user()
    silenced_until = models.DateTimeField(null=True, blank=True)
    last_result = models.ForeignKey(
        Result, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_notified_at = models.DateTimeField(null=True, blank=True)
    follow_up_task = models.ForeignKey(
        "phases.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    moved_back = models.ForeignKey(
        "phases.Transition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        help_text="The move back a manager made from this alert.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor"],
                condition=Q(state__in=[AlertState.PENDING, AlertState.FIRING]),
                name="one_open_alert_per_monitor",
            ),
            models.CheckConstraint(
                condition=~Q(state=AlertState.FIRING) | Q(fired_at__isnull=False),
                name="firing_alert_has_fired_at",
            ),
            models.CheckConstraint(
                condition=Q(state=AlertState.RESOLVED, resolved_at__isnull=False)
                | (~Q(state=AlertState.RESOLVED) & Q(resolved_at__isnull=True)),
                name="resolved_alert_has_resolved_at",
            ),
        ]
        indexes = [models.Index(fields=["state"], name="alert_state")]

    def __str__(self) -> str:
        return f"{self.monitor} ({self.get_state_display().lower()})"

    @property
    def label(self) -> str:
        """How every page, task and transition names this alert: by its id, the number the
        API and the URLs use, so one alert never goes by two numbers."""
        return f"alert #{self.pk} of “{self.monitor.name}”"


class Channel(models.Model):
    """Where a project's alerts are sent: email addresses, or a Standard Webhooks endpoint."""

    project = models.ForeignKey("phases.Project", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=120)
    address = models.CharField(
        max_length=2000, help_text="Comma-separated email addresses, or the webhook's URL."
    )
    secret = models.CharField(
        max_length=120, blank=True, editable=False, help_text="The webhook signing secret."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="channel_name_unique"),
            models.CheckConstraint(
                condition=~Q(kind=ChannelKind.WEBHOOK) | ~Q(secret=""),
                name="webhook_channel_has_secret",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Notification(models.Model):
    """The outbox: a message to send, written in the transaction that changed the alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    message_id = models.CharField(
        max_length=40, unique=True, help_text="webhook-id: the same on every retry."
    )
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.PENDING) | Q(next_attempt_at__isnull=False),
                name="pending_notification_is_due",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=DeliveryStatus.PENDING),
                name="notification_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} to {self.channel}"


class DeliveryAttempt(models.Model):
    """One try at sending a notification. The receiver's answer is never kept beyond its
    status code: nothing a remote server says is shown back to users."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    attempted_at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["notification", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.notification} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"

"""Every choice of the monitoring domain, in one place."""

from django.db import models


class ColumnKind(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    CATEGORICAL = "categorical", "Categorical"


class ColumnRole(models.TextChoices):
    FEATURE = "feature", "Feature"
    PREDICTION = "prediction", "Prediction"
    LABEL = "label", "Label"


class ReferenceSource(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    TRAINING_RUN = "training_run", "Training data of the version's run"


class DriftMethod(models.TextChoices):
    """The per-feature tests; ``AUTO`` picks one by kind and sample size (``monitoring.drift``)."""

    AUTO = "auto", "Chosen by type and sample size"
    KS = "ks", "Kolmogorov-Smirnov p-value"
    CHISQUARE = "chisquare", "Chi-squared p-value"
    Z = "z", "Two-proportion z-test p-value"
    WASSERSTEIN = "wasserstein", "Wasserstein distance (normed)"
    JENSENSHANNON = "jensenshannon", "Jensen-Shannon distance"
    PSI = "psi", "Population stability index"


class MonitorKind(models.TextChoices):
    DATA_DRIFT = "data_drift", "Data drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    PERFORMANCE = "performance", "Model performance"
    DATA_QUALITY = "data_quality", "Data quality"
    FRESHNESS = "freshness", "Freshness"
    HEALTH = "health", "Project health"


class ResultStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    ALERT = "alert", "Alert"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
    ERROR = "error", "Error"


class AlertState(models.TextChoices):
    """Grafana's alert states: pending until the condition has held for the rule's "for"
    duration, then firing; resolved when the monitor is ok again or a person says so."""

    PENDING = "pending", "Pending"
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


OPEN_ALERT_STATES = (AlertState.PENDING, AlertState.FIRING)


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (Standard Webhooks)"


class NotificationEvent(models.TextChoices):
    FIRING = "firing", "Firing"
    REPEAT = "repeat", "Still firing"
    RESOLVED = "resolved", "Resolved"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    DELIVERED = "delivered", "Delivered"
    ABANDONED = "abandoned", "Given up after the last retry"

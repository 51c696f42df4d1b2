"""Every choice of the model registry, in one place.

Values are MLflow's own spellings where MLflow has them, so the MLflow layer passes them
through unchanged.
"""

from django.db import models

DEFAULT_PRODUCTION_ALIAS = "champion"


class LoggedModelStatus(models.TextChoices):
    """MLflow 3's ``LoggedModelStatus``: a model is pending until its artifacts are up."""

    PENDING = "LOGGED_MODEL_PENDING", "Pending"
    READY = "LOGGED_MODEL_READY", "Ready"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED", "Upload failed"


class Stage(models.TextChoices):
    """The legacy stages of a model version, for clients older than aliases."""

    NONE = "None", "None"
    STAGING = "Staging", "Staging"
    PRODUCTION = "Production", "Production"
    ARCHIVED = "Archived", "Archived"


class DeploymentKind(models.TextChoices):
    """What happened to a project's production alias."""

    PROMOTED = "promoted", "Promoted"
    WITHDRAWN = "withdrawn", "Withdrawn"

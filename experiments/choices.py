"""Every choice of the experiment-tracking domain, in one place.

Values are MLflow's own spellings, so the MLflow layer passes them through unchanged.
"""

from django.db import models


class LifecycleStage(models.TextChoices):
    ACTIVE = "active", "Active"
    DELETED = "deleted", "Deleted"


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    SCHEDULED = "SCHEDULED", "Scheduled"
    FINISHED = "FINISHED", "Finished"
    FAILED = "FAILED", "Failed"
    KILLED = "KILLED", "Killed"


class ViewType(models.TextChoices):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "ACTIVE_ONLY", "Active only"
    DELETED_ONLY = "DELETED_ONLY", "Deleted only"
    ALL = "ALL", "All"

    @property
    def stages(self) -> tuple[str, ...]:
        return {
            ViewType.ACTIVE_ONLY: (LifecycleStage.ACTIVE,),
            ViewType.DELETED_ONLY: (LifecycleStage.DELETED,),
            ViewType.ALL: (LifecycleStage.ACTIVE, LifecycleStage.DELETED),
        }[self]

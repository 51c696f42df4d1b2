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


# --- Sweeps -----------------------------------------------------------------------------


class Task(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"


class DatasetSource(models.TextChoices):
    BUILTIN = "builtin", "Built into scikit-learn"
    UPLOAD = "upload", "Uploaded CSV"
    PRODUCTION = "production", "Production rows"


class Strategy(models.TextChoices):
    GRID = "grid", "Grid"
    RANDOM = "random", "Random"
    TPE = "tpe", "TPE (model-based)"


class Pruner(models.TextChoices):
    NONE = "none", "None"
    MEDIAN = "median", "Median"
    SUCCESSIVE_HALVING = "successive_halving", "Successive halving"


class SweepStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class TrialStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PRUNED = "pruned", "Pruned"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A trial in one of these states is done: nothing runs it again unless a person asks
# (retry the failed ones, resume the cancelled ones).
TRIAL_DONE = (TrialStatus.SUCCEEDED, TrialStatus.PRUNED, TrialStatus.FAILED, TrialStatus.CANCELLED)
# The trials a sweep's progress counts as done ("16 of 40"): those that ran to an end. A
# cancelled trial is over but never ran (or stopped part way), so it is counted apart.
TRIAL_RAN = (TrialStatus.SUCCEEDED, TrialStatus.PRUNED, TrialStatus.FAILED)
SWEEP_ACTIVE = (SweepStatus.QUEUED, SweepStatus.RUNNING, SweepStatus.CANCELLING)

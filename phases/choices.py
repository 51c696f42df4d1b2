"""Every choice of the lifecycle domain, in one place."""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    CONTRIBUTOR = "contributor", "Contributor"
    MANAGER = "manager", "Manager"


class Health(models.TextChoices):
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


class PhaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"


class TaskStatus(models.TextChoices):
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class OutcomeKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    DATASET = "dataset", "Dataset"
    MODEL = "model", "Model"
    PIPELINE = "pipeline", "Pipeline"
    DEPLOYMENT = "deployment", "Deployment"
    REPORT = "report", "Report"
    OTHER = "other", "Other"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class MetricDirection(models.TextChoices):
    MAXIMIZE = "maximize", "Higher is better"
    MINIMIZE = "minimize", "Lower is better"

    @classmethod
    def maximizes(cls, direction: str) -> bool:
        """Whether a metric of this direction is better higher (``phases.metrics`` takes
        the answer as its ``maximize``)."""
        return direction == cls.MAXIMIZE


class TransitionKind(models.TextChoices):
    START = "start", "Start"
    FORWARD = "forward", "Forward"
    BACK = "back", "Back"
    # The last phase's gate held and the project finished; a loop back reopens it.
    COMPLETE = "complete", "Complete"


class EvidenceRule(models.TextChoices):
    """Criteria a gate evaluates from data; the evaluator of each lives in the app that owns
    the data and registers itself with ``phases.gates.register_evidence_check``."""

    BEST_RUN_MEETS_TARGET = (
        "best_run_meets_target",
        "A run of this project reaches the project's target on its success metric",
    )
    PRODUCTION_VERSION_MEETS_TARGET = (
        "production_version_meets_target",
        "A registered version of this project is at the production alias and meets the target",
    )
    PRODUCTION_MONITORS_OK = (
        "production_monitors_ok",
        "The production deployment's monitors have been ok for the last days",
    )

"""The Celery application shared by the worker, beat and the web process that enqueues."""

import os
from enum import StrEnum

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")


class Queue(StrEnum):
    """Every queue the workers consume, named once. Each kind of work has its own, so a large
    sweep never delays a scheduled check, and neither delays what a person waits for."""

    # Interactive work: what a request enqueues and someone waits for.
    DEFAULT = "default"
    # Experiment jobs: the trials of sweeps, which may come by the thousand.
    EXPERIMENTS = "experiments"
    # What beat schedules: project health, monitors, alert notifications.
    SCHEDULED = "scheduled"


app = Celery("mlprojects")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Beat's jobs: the health check, the monitors and their alert notifications.
app.conf.task_routes = {
    "phases.*": {"queue": Queue.SCHEDULED.value},
    "monitoring.*": {"queue": Queue.SCHEDULED.value},
    # What beat runs for sweeps: sending again the trials whose worker died.
    "experiments.recover_trials": {"queue": Queue.SCHEDULED.value},
    # Sweep trials, fanned out to every worker that consumes the experiments queue.
    "experiments.*": {"queue": Queue.EXPERIMENTS.value},
}
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_stale_connections(sender=None, **kwargs) -> None:
    """Close a database connection past its age or no longer usable, around each task,
    as Django does around each request: with ``CELERY_DB_REUSE_MAX`` Celery keeps the
    connection between tasks and no longer checks it. Not for a task run eagerly (inside a
    test's or a request's transaction)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()

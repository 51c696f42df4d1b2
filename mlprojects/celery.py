"""The Celery application shared by the worker, beat and the web process that enqueues."""

import os
from enum import StrEnum

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")


class Queue(StrEnum):
    """Every queue the workers consume, named once."""

    DEFAULT = "default"
    MONITORING = "monitoring"
    SCHEDULED = "scheduled"


app = Celery("mlprojects")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Scheduled checks go to their own queue so a burst of experiment work never delays them.
app.conf.task_routes = {
    "phases.*": {"queue": Queue.MONITORING},
    "monitoring.*": {"queue": Queue.SCHEDULED},
}
app.autodiscover_tasks()

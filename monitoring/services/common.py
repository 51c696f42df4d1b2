"""What the monitoring services share: task names, limits, and the row lock on an alert."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from mlprojects.db import locked
from monitoring.models import Alert

User = AbstractBaseUser

RUN_MONITOR_TASK = "monitoring.run_monitor"
DELIVER_TASK = "monitoring.deliver_notification"
NAME_LIMIT = 250


def locked_alert(alert: Alert) -> Alert:
    """``alert`` again, its row locked for the rest of the transaction, with its project."""
    return locked(alert, "monitor__project")

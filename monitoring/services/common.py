"""What the monitoring services share: task names, limits, and the row lock on an alert."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from monitoring.models import Alert

User = AbstractBaseUser

RUN_MONITOR_TASK = "monitoring.run_monitor"
DELIVER_TASK = "monitoring.deliver_notification"
NAME_LIMIT = 250


def locked(alert: Alert) -> Alert:
    """``alert`` again, its row locked for the rest of the transaction."""
    return Alert.objects.select_for_update().select_related("monitor__project").get(pk=alert.pk)

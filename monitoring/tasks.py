"""Celery tasks of the monitoring domain: ids in, a service call, the outcome in the database.

All of them run on the scheduled queue (``mlprojects.celery`` routes ``monitoring.*``).
"""

from celery import shared_task

from monitoring import services

DELIVER_DUE_TASK = "monitoring.deliver_due_notifications"


@shared_task(name=services.RUN_MONITOR_TASK, time_limit=600, soft_time_limit=540)
def run_monitor(monitor_id: int) -> None:
    """Evaluate one monitor on its last whole window; scheduled by beat from the database."""
    services.monitor_run(monitor_id=monitor_id)


@shared_task(name=services.DELIVER_TASK, time_limit=120, soft_time_limit=100)
def deliver_notification(notification_id: int) -> None:
    """One attempt at one notification; the row says whether it is due."""
    services.notification_deliver(notification_id=notification_id)


@shared_task(name=DELIVER_DUE_TASK, time_limit=120, soft_time_limit=100)
def deliver_due_notifications() -> None:
    """Enqueue the retries that are due (and any notification whose task was lost)."""
    for notification_id in services.notifications_due():
        deliver_notification.delay(notification_id)

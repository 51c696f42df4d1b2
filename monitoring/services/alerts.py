"""Alerts: their states over time (pending, firing, resolved, acknowledged, silenced)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from mlprojects.exceptions import DomainError
from monitoring.choices import (
    AlertState,
    NotificationEvent,
    ResultStatus,
)
from monitoring.models import (
    Alert,
    Monitor,
    Result,
)
from monitoring.services.common import User, locked_alert
from monitoring.services.loop import _follow_up
from monitoring.services.notifications import _notify

# --- Alerts -----------------------------------------------------------------------------


def _open_alert(monitor: Monitor) -> Alert | None:
    return (
        Alert.objects.select_for_update()
        .filter(monitor=monitor, state__in=[AlertState.PENDING, AlertState.FIRING])
        .first()
    )


def alert_evaluate(*, monitor: Monitor, result: Result, now: dt.datetime) -> Alert | None:
    """Move the monitor's alert on from one result, as Grafana's alert rules do.

    An ``alert`` result opens an alert, pending while the condition has held for less than
    the monitor's "for" duration, then firing. An ``ok`` result resolves it (a pending
    alert silently, a firing one with a "resolved" notification). "Warning", "not enough
    data" and "error" leave the alert as it is. A firing alert is notified again every
    repeat interval, unless it is acknowledged or silenced.
    """
    alert = _open_alert(monitor)
    if result.status == ResultStatus.ALERT:
        if alert is None:
            alert = Alert.objects.create(
                monitor=monitor,
                deployment=monitor.deployment,
                state=AlertState.PENDING,
                summary=result.summary,
                started_at=now,
                last_result=result,
            )
        else:
            alert.summary, alert.last_result = result.summary, result
        if alert.state == AlertState.PENDING and now - alert.started_at >= monitor.for_duration:
            alert.state, alert.fired_at = AlertState.FIRING, now
            _notify(alert, NotificationEvent.FIRING, now=now)
            alert.save()
            _follow_up(alert, by=None)
            _refresh_health(alert)
        elif alert.state == AlertState.FIRING and _repeat_due(alert, monitor, now):
            _notify(alert, NotificationEvent.REPEAT, now=now)
        alert.save()
        return alert
    if result.status == ResultStatus.OK and alert is not None:
        alert.last_result = result
        _resolve(alert, now=now, by=None, note=f"The monitor is ok again: {result.summary}")
    return alert


def _repeat_due(alert: Alert, monitor: Monitor, now: dt.datetime) -> bool:
    if alert.acknowledged_at is not None:
        return False
    if alert.silenced_until is not None and now < alert.silenced_until:
        return False
    last = alert.last_notified_at or alert.fired_at
    return now - last >= monitor.repeat_interval


def _resolve(alert: Alert, *, now: dt.datetime, by: User | None, note: str) -> None:
    fired = alert.state == AlertState.FIRING
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = by
    alert.resolution = note
    if fired:
        _notify(alert, NotificationEvent.RESOLVED, now=now)
    alert.save()
    if fired:
        _refresh_health(alert)


def _refresh_health(alert: Alert) -> None:
    """A firing alert counts in project health: recompute the project's after commit
    rather than leave it up to the scheduled job's ten minutes stale."""
    from phases.services import project_health_refresh

    project_id = alert.monitor.project_id
    transaction.on_commit(lambda: project_health_refresh(project_ids=[project_id]))


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User | None, now: dt.datetime | None = None) -> Alert:
    """Someone is on it: the alert stays firing, and repeats stop."""
    alert = locked_alert(alert)
    if alert.state == AlertState.RESOLVED:
        raise DomainError(
            "alert_resolved", "The alert is resolved; there is nothing to acknowledge."
        )
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now or timezone.now()
        alert.acknowledged_by = by
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


@transaction.atomic
def alert_resolve(
    *, alert: Alert, by: User | None, note: str = "", now: dt.datetime | None = None
) -> Alert:
    """A person closes the alert; if the condition still holds, the next result opens a
    new one."""
    alert = locked_alert(alert)
    if alert.state == AlertState.RESOLVED:
        raise DomainError("alert_resolved", "The alert is already resolved.")
    who = getattr(by, "get_username", lambda: "someone")()
    _resolve(alert, now=now or timezone.now(), by=by, note=note.strip() or f"Resolved by {who}.")
    return alert


@transaction.atomic
def alert_silence(
    *, alert: Alert, by: User | None, until: dt.datetime, now: dt.datetime | None = None
) -> Alert:
    """No notification for this alert until ``until`` (a resolution is still sent)."""
    now = now or timezone.now()
    if until <= now:
        raise DomainError.invalid("until", "must be in the future")
    alert = locked_alert(alert)
    if alert.state == AlertState.RESOLVED:
        raise DomainError("alert_resolved", "The alert is resolved; there is nothing to silence.")
    alert.silenced_until = until
    alert.save(update_fields=["silenced_until"])
    return alert

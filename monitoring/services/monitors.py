"""Monitors: creating, editing and running them on their schedule."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mlprojects.exceptions import DomainError
from monitoring.choices import (
    MonitorKind,
)
from monitoring.evaluate import ConfigError, evaluate, validate_config
from monitoring.models import (
    Deployment,
    Monitor,
    Result,
)
from monitoring.services.alerts import alert_evaluate
from monitoring.services.common import RUN_MONITOR_TASK, User
from phases.models import Project

# --- Monitors ---------------------------------------------------------------------------


def _interval(every: dt.timedelta) -> IntervalSchedule:
    seconds = int(every.total_seconds())
    if seconds < 1:
        raise DomainError.invalid("every", "must be at least a second")
    for period, size in (
        (IntervalSchedule.DAYS, 86400),
        (IntervalSchedule.HOURS, 3600),
        (IntervalSchedule.MINUTES, 60),
        (IntervalSchedule.SECONDS, 1),
    ):
        if seconds % size == 0:
            schedule, _ = IntervalSchedule.objects.get_or_create(
                every=seconds // size, period=period
            )
            return schedule
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def monitor_config_check(kind: str, config: Any) -> dict:
    """``config`` if it suits a monitor of ``kind``, else DomainError naming the key."""
    try:
        validate_config(kind, config)
    except ConfigError as error:
        field, _, rule = str(error).partition(": ")
        raise DomainError.invalid(f"config.{field}", rule or str(error)) from None
    return dict(config)


@transaction.atomic
def monitor_create(
    *,
    project: Project,
    kind: str,
    name: str,
    by: User | None,
    window: dt.timedelta,
    every: dt.timedelta | None = None,
    config: dict | None = None,
    for_duration: dt.timedelta = dt.timedelta(0),
    repeat_interval: dt.timedelta | None = None,
    enabled: bool = True,
) -> Monitor:
    """A monitor with its schedule: a django-celery-beat task, editable in the admin, that
    runs it every ``every`` (by default every ``window``) on the scheduled queue."""
    from mlprojects.celery import Queue

    if kind not in MonitorKind.values:
        raise DomainError.invalid("kind", f"must be one of {', '.join(MonitorKind.values)}")
    name = name.strip()
    if not name:
        raise DomainError.invalid("name", "must not be blank")
    if Monitor.objects.filter(project=project, name=name).exists():
        raise DomainError.invalid("name", f"“{name}” is already a monitor of this project")
    if window <= dt.timedelta(0):
        raise DomainError.invalid("window", "must be longer than zero")
    if for_duration < dt.timedelta(0):
        raise DomainError.invalid("for_duration", "must not be negative")
    config = monitor_config_check(kind, config or {})
    deployment = None
    if kind != MonitorKind.HEALTH:
        deployment = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    monitor = Monitor.objects.create(
        project=project,
        kind=kind,
        name=name,
        deployment=deployment,
        config=config,
        window=window,
        for_duration=for_duration,
        repeat_interval=repeat_interval or settings.MONITORING_REPEAT_INTERVAL,
        enabled=enabled,
    )
    monitor.schedule = PeriodicTask.objects.create(
        name=f"Monitor {monitor.pk}: {project.slug} / {name}"[:200],
        task=RUN_MONITOR_TASK,
        interval=_interval(every or window),
        args=json.dumps([monitor.pk]),
        queue=Queue.SCHEDULED,
        enabled=enabled,
        description=f"Runs the {MonitorKind(kind).label.lower()} monitor “{name}” of {project}.",
    )
    monitor.save(update_fields=["schedule"])
    return monitor


def window_for(monitor: Monitor, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last whole window before ``now``: windows are cut on multiples of the monitor's
    window length since the Unix epoch, so every run in one window names the same one."""
    length = monitor.window.total_seconds()
    end_seconds = (now.timestamp() // length) * length
    end = dt.datetime.fromtimestamp(end_seconds, tz=dt.UTC)
    return end - monitor.window, end


def monitor_run(*, monitor_id: int, now: dt.datetime | None = None) -> Result | None:
    """Evaluate the monitor on its last whole window, once: a second run for a window that
    has a result (a retry, a redelivered task, two workers) returns that result and changes
    nothing. Returns None for a monitor that is gone or disabled."""
    now = now or timezone.now()
    if Monitor.objects.filter(pk=monitor_id, kind=MonitorKind.HEALTH, enabled=True).exists():
        # Health depends on today's date: recompute it before reading it.
        from phases.services import project_health_refresh

        project_health_refresh(
            project_ids=list(
                Monitor.objects.filter(pk=monitor_id).values_list("project_id", flat=True)
            )
        )
    with transaction.atomic():
        monitor = (
            Monitor.objects.select_for_update(of=("self",))
            .select_related("project", "deployment")
            .filter(pk=monitor_id)
            .first()
        )
        if monitor is None or not monitor.enabled:
            return None
        start, end = window_for(monitor, now)
        existing = Result.objects.filter(monitor=monitor, window_start=start).first()
        if existing is not None:
            return existing
        outcome = evaluate(monitor, start, end, now)
        result = Result.objects.create(
            monitor=monitor,
            deployment=monitor.deployment,
            window_start=start,
            window_end=end,
            status=outcome.status,
            value=_finite(outcome.value),
            threshold=_finite(outcome.threshold),
            rows=outcome.rows,
            summary=outcome.summary,
            details=outcome.details,
            computed_at=now,
        )
        monitor.last_run_at = now
        monitor.save(update_fields=["last_run_at"])
        alert_evaluate(monitor=monitor, result=result, now=now)
        return result


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


MONITOR_FIELDS = frozenset({"config", "for_duration", "repeat_interval", "enabled"})


@transaction.atomic
def monitor_update(*, monitor: Monitor, by: User | None, **fields) -> Monitor:
    """Change a monitor's thresholds and alert rule, or switch it (and its schedule) off."""
    unknown = sorted(fields.keys() - MONITOR_FIELDS)
    if unknown:
        raise DomainError.invalid(unknown[0], "cannot be changed here")
    monitor = (
        Monitor.objects.select_for_update(of=("self",))
        .select_related("schedule")
        .get(pk=monitor.pk)
    )
    if "config" in fields:
        fields["config"] = monitor_config_check(monitor.kind, fields["config"])
    if fields.get("for_duration", dt.timedelta(0)) < dt.timedelta(0):
        raise DomainError.invalid("for_duration", "must not be negative")
    if fields.get("repeat_interval", dt.timedelta(minutes=1)) < dt.timedelta(minutes=1):
        raise DomainError.invalid("repeat_interval", "must be at least a minute")
    for name, value in fields.items():
        setattr(monitor, name, value)
    monitor.save(update_fields=list(fields) or None)
    if "enabled" in fields:
        monitor_schedule_follow(monitor)
    return monitor


def monitor_schedule_follow(monitor: Monitor, *, every: dt.timedelta | None = None) -> None:
    """The monitor's periodic task runs while the monitor is enabled, and every ``every``
    when given (an interval replaces any crontab, solar or clocked schedule it had)."""
    schedule = monitor.schedule
    if schedule is None:
        return
    changed = schedule.enabled != monitor.enabled
    schedule.enabled = monitor.enabled
    interval = None if every is None else _interval(every)
    if interval is not None and schedule.interval_id != interval.pk:
        schedule.interval = interval
        schedule.crontab = schedule.solar = schedule.clocked = None
        changed = True
    if changed:
        schedule.save()

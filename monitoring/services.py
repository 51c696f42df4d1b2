"""Every write of the monitoring domain that matters. Keyword-only, atomic.

Views, the admin, tasks and the registry hook call these. Refusals raise
:class:`mlprojects.exceptions.DomainError` and leave nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mlprojects.exceptions import DomainError
from monitoring import batches, drift, webhooks
from monitoring.batches import ROW_ID
from monitoring.choices import (
    OPEN_ALERT_STATES,
    AlertState,
    ChannelKind,
    ColumnKind,
    ColumnRole,
    DeliveryStatus,
    MonitorKind,
    NotificationEvent,
    ReferenceSource,
    ResultStatus,
)
from monitoring.evaluate import ConfigError, evaluate, validate_config
from monitoring.models import (
    Alert,
    Batch,
    Channel,
    DeliveryAttempt,
    Deployment,
    Monitor,
    Notification,
    Record,
    ReferenceColumn,
    Result,
)
from phases.models import Project

User = AbstractBaseUser
log = logging.getLogger(__name__)

RUN_MONITOR_TASK = "monitoring.run_monitor"
DELIVER_TASK = "monitoring.deliver_notification"
NAME_LIMIT = 250


# --- Deployments and their reference -----------------------------------------------------

# The monitors a deployment gets when its project has none: (kind, name, window, every).
DEFAULT_MONITORS = (
    (MonitorKind.DATA_DRIFT, "Data drift", dt.timedelta(days=1)),
    (MonitorKind.PREDICTION_DRIFT, "Prediction drift", dt.timedelta(days=1)),
    (MonitorKind.PERFORMANCE, "Model performance", dt.timedelta(days=1)),
    (MonitorKind.DATA_QUALITY, "Data quality", dt.timedelta(days=1)),
    (MonitorKind.FRESHNESS, "Freshness", dt.timedelta(hours=1)),
    (MonitorKind.HEALTH, "Project health", dt.timedelta(minutes=10)),
)


@transaction.atomic
def deployment_start(
    *,
    project: Project,
    name: str,
    by: User | None,
    now: dt.datetime | None = None,
    model_version=None,
    event=None,
) -> Deployment:
    """A new deployment of ``project``: the previous one ends, monitors are re-baselined on
    the new one (their open alerts about the old one are resolved, since what they were
    about is no longer in production), and a project without monitors gets the defaults."""
    now = now or timezone.now()
    project = Project.objects.select_for_update().get(pk=project.pk)
    current = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    if current is not None and now < current.started_at:
        raise DomainError.invalid(
            "now", f"the current deployment {current.name} started before that"
        )
    if current is not None:
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    deployment = Deployment.objects.create(
        project=project,
        name=name[:NAME_LIMIT],
        model_version=model_version,
        event=event,
        started_at=now,
        started_by=by,
    )
    if not _rebaseline(project, deployment, now=now, by=by):
        for kind, monitor_name, window in DEFAULT_MONITORS:
            monitor_create(project=project, kind=kind, name=monitor_name, window=window, by=by)
    return deployment


def _rebaseline(
    project: Project, deployment: Deployment | None, *, now: dt.datetime, by: User | None
) -> list[Monitor]:
    """Point the project's deployment monitors at ``deployment`` (None: nothing deployed)
    and resolve their open alerts, which were about what ran before."""
    why = (
        f"Re-baselined on the new deployment {deployment.name}."
        if deployment is not None
        else "The production alias was withdrawn: nothing is deployed."
    )
    monitors = list(Monitor.objects.select_for_update().filter(project=project))
    for monitor in monitors:
        if monitor.kind == MonitorKind.HEALTH:
            continue
        open_alerts = Alert.objects.filter(monitor=monitor, state__in=OPEN_ALERT_STATES)
        for alert in open_alerts.select_for_update():
            _resolve(alert, now=now, by=by, note=why)
        monitor.deployment = deployment
        monitor.baseline_at = now
        monitor.save(update_fields=["deployment", "baseline_at"])
    return monitors


@transaction.atomic
def deployment_end(*, project: Project, by: User | None, now: dt.datetime | None = None) -> None:
    """Nothing of ``project`` is in production any more (its production alias went away)."""
    now = now or timezone.now()
    project = Project.objects.select_for_update().get(pk=project.pk)
    current = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    if current is None:
        return
    current.ended_at = max(now, current.started_at)
    current.save(update_fields=["ended_at"])
    _rebaseline(project, None, now=current.ended_at, by=by)


def production_alias_moved(*, event) -> None:
    """The registry's hook (``registry.hooks``), inside the transaction that moved the
    alias: a promoted version starts a deployment, with its reference taken from the
    training data of the version's run when the run holds one; a withdrawal ends it."""
    from registry.choices import DeploymentKind

    if event.kind != DeploymentKind.PROMOTED:
        deployment_end(project=event.project, by=event.by, now=event.created_at)
        return
    deployment = deployment_start(
        project=event.project,
        name=f"{event.model_name} v{event.version}",
        by=event.by,
        now=event.created_at,
        model_version=event.model_version,
        event=event,
    )
    try:
        reference_from_run(deployment=deployment, by=event.by)
    except DomainError as error:
        # The alias moved all the same; the reference can be uploaded instead.
        log.info("No reference from the run of %s: %s", deployment, error.message)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _column_kind(values: Sequence[Any]) -> str:
    """Numeric when every present value is a number or text that reads as one (CSV), else
    categorical; booleans are categories."""
    present = [
        v
        for v in values
        if v is not None and v != "" and not (isinstance(v, float) and np.isnan(v))
    ]
    if present and all(_is_number(v) for v in present):
        return ColumnKind.NUMERIC
    return ColumnKind.CATEGORICAL


def _categorical(values: Sequence[Any]) -> list[str | None]:
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        else:
            out.append(str(value))
    return out


@transaction.atomic
def reference_set(
    *,
    deployment: Deployment,
    columns: Mapping[str, Sequence[Any]],
    by: User | None,
    prediction: str = "",
    label: str = "",
    kinds: Mapping[str, str] | None = None,
    source: str = ReferenceSource.UPLOADED,
) -> Deployment:
    """Profile the reference data of a deployment once and keep the profiles.

    ``columns`` maps each column name to its values (all of one length). ``prediction`` and
    ``label`` name the columns that hold those; every other column is a feature. A column's
    kind is numeric when every value is a number, unless ``kinds`` says otherwise.
    """
    kinds = dict(kinds or {})
    if not columns:
        raise DomainError.invalid("columns", "the reference needs at least one column")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise DomainError.invalid("columns", "every column must have the same number of rows")
    (rows,) = lengths
    if rows == 0:
        raise DomainError.invalid("columns", "the reference has no rows")
    for role, name in (("prediction", prediction), ("label", label)):
        if name and name not in columns:
            raise DomainError.invalid(role, f"“{name}” is not a column of the reference")
    features = [name for name in columns if name not in (prediction, label)]
    if not features:
        raise DomainError.invalid("columns", "the reference needs at least one feature column")
    for name in columns:
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
            raise DomainError.invalid(
                "columns", f"column names must be 1 to {NAME_LIMIT} characters"
            )
        if name == ROW_ID:
            raise DomainError.invalid("columns", f"“{ROW_ID}” is reserved for production row ids")
    unknown = sorted(set(kinds) - set(columns))
    if unknown:
        raise DomainError.invalid("kinds", f"“{unknown[0]}” is not a column of the reference")
    bad = sorted(name for name, kind in kinds.items() if kind not in ColumnKind.values)
    if bad:
        raise DomainError.invalid("kinds", f"{bad[0]}: must be numeric or categorical")

    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    ReferenceColumn.objects.filter(deployment=deployment).delete()
    made = []
    for position, (name, values) in enumerate(columns.items()):
        kind = kinds.get(name) or _column_kind(values)
        role = (
            ColumnRole.PREDICTION
            if name == prediction
            else ColumnRole.LABEL
            if name == label
            else ColumnRole.FEATURE
        )
        if kind == ColumnKind.NUMERIC:
            try:
                array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            except (TypeError, ValueError):
                raise DomainError.invalid(
                    "kinds", f"{name}: holds values that are not numbers"
                ) from None
            prof = drift.profile_numeric(array)
            sample = prof.sample.astype(np.float64).tobytes()
        else:
            prof = drift.profile_categorical(_categorical(values))
            sample = b""
        made.append(
            ReferenceColumn(
                deployment=deployment,
                name=name,
                position=position,
                role=role,
                kind=kind,
                stats=prof.as_dict(),
                sample=sample,
            )
        )
    ReferenceColumn.objects.bulk_create(made)
    deployment.reference_rows = rows
    deployment.reference_source = source
    deployment.reference_set_at = timezone.now()
    deployment.save(update_fields=["reference_rows", "reference_source", "reference_set_at"])
    return deployment


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


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().select_related("monitor__project").get(pk=alert.pk)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User | None, now: dt.datetime | None = None) -> Alert:
    """Someone is on it: the alert stays firing, and repeats stop."""
    alert = _locked(alert)
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
    alert = _locked(alert)
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
    alert = _locked(alert)
    if alert.state == AlertState.RESOLVED:
        raise DomainError("alert_resolved", "The alert is resolved; there is nothing to silence.")
    alert.silenced_until = until
    alert.save(update_fields=["silenced_until"])
    return alert


# --- Notifications ----------------------------------------------------------------------


def alert_payload(alert: Alert, event: str, now: dt.datetime) -> dict:
    """The body of every notification: the alert in plain words and numbers."""
    monitor = alert.monitor
    project = monitor.project
    result = alert.last_result
    return {
        "type": f"alert.{event}",
        "timestamp": now.isoformat(),
        "data": {
            "alert_id": alert.pk,
            "state": alert.state,
            "summary": alert.summary,
            "project": {"slug": project.slug, "name": project.name},
            "monitor": {"id": monitor.pk, "name": monitor.name, "kind": monitor.kind},
            "deployment": alert.deployment.name if alert.deployment_id else None,
            "started_at": alert.started_at.isoformat(),
            "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "result": None
            if result is None
            else {
                "window_start": result.window_start.isoformat(),
                "window_end": result.window_end.isoformat(),
                "status": result.status,
                "value": result.value,
                "threshold": result.threshold,
            },
        },
    }


def _notify(alert: Alert, event: str, *, now: dt.datetime) -> list[Notification]:
    """Write one outbox row per enabled channel of the project, in the caller's
    transaction; send them once it commits. Silenced alerts write none but resolutions."""
    silenced = alert.silenced_until is not None and now < alert.silenced_until
    if silenced and event != NotificationEvent.RESOLVED:
        return []
    alert.last_notified_at = now
    if alert.pk is None:
        alert.save()
    channels = Channel.objects.filter(project_id=alert.monitor.project_id, enabled=True)
    payload = alert_payload(alert, event, now)
    made = Notification.objects.bulk_create(
        [
            Notification(
                alert=alert,
                channel=channel,
                event=event,
                message_id=f"msg_{uuid.uuid4().hex}",
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            for channel in channels
        ]
    )
    from monitoring.tasks import deliver_notification

    for notification in made:
        deliver_notification.delay_on_commit(notification.pk)
    return made


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.MONITORING_DELIVERY_BACKOFF_SECONDS * 2 ** (attempts - 1)
    return dt.timedelta(seconds=min(seconds, settings.MONITORING_DELIVERY_MAX_BACKOFF_SECONDS))


def _send(notification: Notification, now: dt.datetime) -> webhooks.Outcome:
    channel = notification.channel
    body = json.dumps(notification.payload, separators=(",", ":"), sort_keys=True).encode()
    if channel.kind == ChannelKind.WEBHOOK:
        return webhooks.post(
            channel.address,
            body,
            webhooks.headers(channel.secret, notification.message_id, body, now=now.timestamp()),
            timeout=settings.MONITORING_WEBHOOK_TIMEOUT_SECONDS,
            allowed_hosts=settings.MONITORING_WEBHOOK_ALLOWED_HOSTS,
        )
    data = notification.payload["data"]
    subject = (
        f"[{data['project']['name']}] {notification.get_event_display()}: {data['monitor']['name']}"
    )
    try:
        send_mail(
            subject[:200],
            f"{data['summary']}\n\n{json.dumps(notification.payload, indent=2)}",
            None,
            [a.strip() for a in channel.address.split(",") if a.strip()],
        )
    except OSError as error:
        return webhooks.Outcome(False, error=f"could not send the email ({type(error).__name__})")
    return webhooks.Outcome(True)


def notification_deliver(*, notification_id: int, now: dt.datetime | None = None) -> str | None:
    """One delivery attempt of a due notification, recorded; failures are retried with
    exponential backoff up to ``MONITORING_DELIVERY_MAX_ATTEMPTS``, then abandoned.

    The row is locked for the attempt (skipping it if another worker holds it), so a
    notification is never sent by two workers at once, and one already delivered or not
    yet due is left alone: redelivered tasks are harmless.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel")
            .filter(pk=notification_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if notification is None:
            return None
        started = timezone.now()
        if not notification.channel.enabled:
            outcome = webhooks.Outcome(False, error="the channel is disabled")
        else:
            outcome = _send(notification, now)
        elapsed = timezone.now() - started
        notification.attempts += 1
        DeliveryAttempt.objects.create(
            notification=notification,
            attempted_at=now,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error[:300],
            duration_ms=int(elapsed.total_seconds() * 1000),
        )
        if outcome.ok:
            notification.status = DeliveryStatus.DELIVERED
            notification.delivered_at = now
            notification.next_attempt_at = None
        elif notification.attempts >= settings.MONITORING_DELIVERY_MAX_ATTEMPTS:
            notification.status = DeliveryStatus.ABANDONED
            notification.next_attempt_at = None
            log.warning(
                "Notification %s abandoned after %s attempts: %s",
                notification.pk,
                notification.attempts,
                outcome.error,
            )
        else:
            notification.next_attempt_at = now + _backoff(notification.attempts)
        notification.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
        return notification.status


def notifications_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending notifications whose next attempt is due (retries, and any whose task
    was lost): the periodic sweeper enqueues them."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Channels ---------------------------------------------------------------------------


def channel_address_check(kind: str, address: str) -> str:
    """The address, tidied, if a channel of ``kind`` may send to it."""
    address = address.strip()
    if kind == ChannelKind.EMAIL:
        emails = [a.strip() for a in address.split(",") if a.strip()]
        if not emails:
            raise DomainError.invalid("address", "give at least one email address")
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                raise DomainError.invalid("address", f"“{email}” is not an email address") from None
        return ", ".join(emails)
    try:
        _, host, _, _ = webhooks.check_url(address)
        allowed = {h.lower() for h in settings.MONITORING_WEBHOOK_ALLOWED_HOSTS}
        webhooks.check_literal(host, allowed)
    except webhooks.AddressRefused as refused:
        raise DomainError.invalid("address", str(refused)) from None
    return address


@transaction.atomic
def channel_create(
    *, project: Project, kind: str, name: str, address: str, by: User | None
) -> Channel:
    """A notification channel; a webhook gets a fresh signing secret (``whsec_...``)."""
    if kind not in ChannelKind.values:
        raise DomainError.invalid("kind", f"must be one of {', '.join(ChannelKind.values)}")
    name = name.strip()
    if not name:
        raise DomainError.invalid("name", "must not be blank")
    address = channel_address_check(kind, address)
    secret = webhooks.new_secret() if kind == ChannelKind.WEBHOOK else ""
    try:
        with transaction.atomic():
            return Channel.objects.create(
                project=project, kind=kind, name=name, address=address, secret=secret
            )
    except IntegrityError:
        raise DomainError.invalid(
            "name", f"“{name}” is already a channel of this project"
        ) from None


# --- Production batches -----------------------------------------------------------------

# Values a JSON, CSV or NDJSON parser may hand over for one cell.
SCALARS = (str, int, float, bool, type(None))


def _schema(deployment: Deployment) -> list[ReferenceColumn]:
    columns = list(deployment.reference_columns.order_by("position"))
    if not columns:
        raise DomainError(
            "no_reference",
            f"The deployment {deployment.name} has no reference data yet: set it before "
            "sending production batches.",
        )
    return columns


def _numeric_cell(value: Any) -> tuple[float, bool]:
    """The number a cell holds (NaN when missing) and whether it was of the wrong type."""
    if value is None or value == "":
        return np.nan, False
    if isinstance(value, bool):
        return np.nan, True
    if isinstance(value, int | float):
        return float(value), False
    try:
        return float(value), False
    except ValueError:
        return np.nan, True


def _text_cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json_cell(value: Any, kind: str | None = None) -> Any:
    """A prediction or label as a record keeps it: a number for a numeric column (CSV
    sends text), text for a categorical one, None when missing or of the wrong type."""
    if kind == ColumnKind.NUMERIC:
        number, _ = _numeric_cell(value)
        return None if np.isnan(number) else number
    if kind == ColumnKind.CATEGORICAL:
        return _text_cell(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _typed(columns: Mapping[str, Sequence[Any]], column, rows: int) -> list[Any]:
    if column is None or column.name not in columns:
        return [None] * rows
    return [_json_cell(value, column.kind) for value in columns[column.name]]


@transaction.atomic
def batch_add(
    *,
    deployment: Deployment,
    columns: Mapping[str, Sequence[Any]],
    by: User | None,
    observed_at: dt.datetime | None = None,
) -> tuple[Batch, bool]:
    """Store a batch of production rows, checked against the reference's schema.

    ``columns`` maps column names to values of equal length, ``row_id`` included. Every
    feature column of the reference must be there, and its prediction column when it has
    one; the label column may be (labels known at once); nothing else may. A batch that
    does not fit is refused whole, naming the column or row and the rule, and nothing of
    it is stored. A value of the wrong type (text in a numeric column) is kept as missing
    and counted, for the data quality monitor to judge. The same rows sent again are the
    same batch: it is returned with ``False`` and nothing new is stored.
    """
    if deployment.ended_at is not None:
        raise DomainError(
            "deployment_ended",
            f"The deployment {deployment.name} ended at {deployment.ended_at:%Y-%m-%d %H:%M}; "
            "send production rows to the current one.",
        )
    schema = _schema(deployment)
    names = {c.name for c in schema}
    if ROW_ID not in columns:
        raise DomainError.invalid(ROW_ID, "every row needs a row id (a column named row_id)")
    unknown = sorted(set(columns) - names - {ROW_ID})
    if unknown:
        raise DomainError.invalid(
            unknown[0], "is not a column of the reference (" + ", ".join(sorted(names)) + ")"
        )
    required = [c.name for c in schema if c.role != ColumnRole.LABEL]
    missing = [name for name in required if name not in columns]
    if missing:
        raise DomainError.invalid(missing[0], "the batch must have this column of the reference")
    lengths = {name: len(values) for name, values in columns.items()}
    rows = lengths[ROW_ID]
    for name, length in lengths.items():
        if length != rows:
            raise DomainError.invalid(name, f"has {length} values where row_id has {rows}")
    if rows == 0:
        raise DomainError.invalid(ROW_ID, "the batch has no rows")
    if rows > settings.MONITORING_MAX_BATCH_ROWS:
        raise DomainError.invalid(
            ROW_ID, f"a batch may hold at most {settings.MONITORING_MAX_BATCH_ROWS} rows"
        )
    row_ids = []
    for index, value in enumerate(columns[ROW_ID]):
        text = _text_cell(value) if isinstance(value, SCALARS) else None
        if text is None or not text.strip() or len(text) > 200:
            raise DomainError.invalid(
                ROW_ID, f"row {index + 1}: must be text of 1 to 200 characters"
            )
        row_ids.append(text)
    if len(set(row_ids)) != rows:
        seen, repeated = set(), None
        for row_id in row_ids:
            if row_id in seen:
                repeated = row_id
                break
            seen.add(row_id)
        raise DomainError.invalid(ROW_ID, f"“{repeated}” appears more than once in the batch")

    arrays, type_errors = {ROW_ID: pa.array(row_ids, pa.string())}, {}
    for column in schema:
        if column.name not in columns:
            continue
        values = columns[column.name]
        for index, value in enumerate(values):
            if not isinstance(value, SCALARS):
                raise DomainError.invalid(
                    column.name, f"row {index + 1}: must be a single value, not a list or object"
                )
        if column.kind == ColumnKind.NUMERIC:
            cells = [_numeric_cell(v) for v in values]
            arrays[column.name] = pa.array([c[0] for c in cells], pa.float64())
            wrong = sum(c[1] for c in cells)
            if wrong:
                type_errors[column.name] = wrong
        else:
            arrays[column.name] = pa.array([_text_cell(v) for v in values], pa.string())
    table = pa.table(arrays)
    data = batches.encode(table)
    digest = batches.digest(data)
    existing = Batch.objects.filter(deployment=deployment, digest=digest).first()
    if existing is not None:
        return existing, False
    taken = list(
        Record.objects.filter(deployment=deployment, row_id__in=row_ids).values_list(
            "row_id", flat=True
        )[:3]
    )
    if taken:
        raise DomainError.invalid(
            ROW_ID, f"already stored for this deployment: {', '.join(sorted(taken))}"
        )
    now = timezone.now()
    batch = Batch.objects.create(
        deployment=deployment,
        observed_at=observed_at or now,
        rows=rows,
        digest=digest,
        data=data,
        type_errors=type_errors,
        sent_by=by,
    )
    by_role = {c.role: c for c in schema}
    predictions = _typed(columns, by_role.get(ColumnRole.PREDICTION), rows)
    labels = _typed(columns, by_role.get(ColumnRole.LABEL), rows)
    Record.objects.bulk_create(
        [
            Record(
                deployment=deployment,
                batch=batch,
                row_id=row_id,
                prediction=predictions[i],
                label=labels[i],
                labelled_at=now if labels[i] is not None else None,
            )
            for i, row_id in enumerate(row_ids)
        ],
        batch_size=5000,
    )
    return batch, True


@transaction.atomic
def labels_add(
    *, deployment: Deployment, labels: Mapping[str, Any], by: User | None
) -> dict[str, int]:
    """Join labels to stored rows by row id. Every row id must be stored and each label a
    single value; a label already given again is fine, a different one is refused (a label
    is a fact about the row). All or nothing."""
    if not labels:
        raise DomainError.invalid("labels", "give at least one row_id and label")
    column = deployment.reference_columns.filter(role=ColumnRole.LABEL).first()
    kind = column.kind if column is not None else None
    typed = {}
    for row_id, value in labels.items():
        cell = _json_cell(value, kind) if isinstance(value, SCALARS) else None
        if cell is None:
            rule = "must be a number" if kind == ColumnKind.NUMERIC else "must be a single value"
            raise DomainError.invalid("label", f"row {row_id}: {rule}")
        typed[row_id] = cell
    labels = typed
    stored = dict(
        Record.objects.select_for_update()
        .filter(deployment=deployment, row_id__in=list(labels))
        .values_list("row_id", "label")
    )
    unknown = sorted(set(labels) - set(stored))
    if unknown:
        raise DomainError.invalid(
            "row_id", "not a stored row of this deployment: " + ", ".join(unknown[:3])
        )
    changed = {rid: labels[rid] for rid, old in stored.items() if old is None}
    conflicting = sorted(
        rid for rid, old in stored.items() if old is not None and old != labels[rid]
    )
    if conflicting:
        raise DomainError.invalid(
            "label", f"row {conflicting[0]} already has the label {stored[conflicting[0]]!r}"
        )
    now = timezone.now()
    records = list(Record.objects.filter(deployment=deployment, row_id__in=list(changed)))
    for record in records:
        record.label = changed[record.row_id]
        record.labelled_at = now
    Record.objects.bulk_update(records, ["label", "labelled_at"], batch_size=5000)
    return {"labelled": len(records), "unchanged": len(labels) - len(records)}


def reference_from_run(*, deployment: Deployment, by: User | None) -> Deployment:
    """Take the reference from the training data of the deployed version's run
    (``monitoring.reference`` says where it looks)."""
    from monitoring import reference

    version = deployment.model_version
    run = version.run if version is not None else None
    if run is None:
        raise DomainError(
            "no_training_run",
            f"{deployment.name} has no run on this server to take training data from; "
            "upload the reference instead.",
        )
    run = type(run).objects.select_related("experiment").get(pk=run.pk)
    path = reference.training_file(run)
    if path is None:
        raise DomainError(
            "no_training_data",
            f"The run {run.run_id} has no training data among its artifacts (a train dataset "
            "input's file, or reference.csv, training_data.csv, ...); upload the reference "
            "instead.",
        )
    parsed = reference.read(path)
    columns = dict(parsed.columns)
    columns.pop(ROW_ID, None)
    prediction, label = reference.roles(columns)
    return reference_set(
        deployment=deployment,
        columns=columns,
        prediction=prediction,
        label=label,
        by=by,
        source=ReferenceSource.TRAINING_RUN,
    )


# --- The loop back ----------------------------------------------------------------------

# The phase that must act on an alert of each kind, by name in either built-in lifecycle
# (ML development phases, MLOps lifecycle): drift and performance go back to modelling,
# data quality and freshness to the data pipelines.
ACTING_PHASES = {
    MonitorKind.DATA_DRIFT: ("Experimentation", "Modeling"),
    MonitorKind.PREDICTION_DRIFT: ("Experimentation", "Modeling"),
    MonitorKind.PERFORMANCE: ("Experimentation", "Modeling"),
    MonitorKind.DATA_QUALITY: ("Pipeline building", "Data"),
    MonitorKind.FRESHNESS: ("Pipeline building", "Data"),
}


def acting_phase(alert: Alert):
    """The project's phase that must act on ``alert``, or None (project health, or a
    lifecycle without such a phase)."""
    from phases.models import Phase

    names = ACTING_PHASES.get(alert.monitor.kind)
    if not names:
        return None
    return (
        Phase.objects.filter(project_id=alert.monitor.project_id, name__in=names)
        .order_by("order")
        .first()
    )


def _follow_up(alert: Alert, *, by: User | None):
    if alert.follow_up_task_id is not None:
        return alert.follow_up_task
    phase = acting_phase(alert)
    if phase is None:
        return None
    from phases.services import follow_up_task_create

    monitor = alert.monitor
    task = follow_up_task_create(
        phase=phase,
        by=by,
        # Someone must own it: the project's owner, who may hand it on.
        assignee=monitor.project.owner,
        title=f"Act on the alert of “{monitor.name}”"[:200],
        description=(
            f"{MonitorKind(monitor.kind).label} alert #{alert.pk} in production "
            f"({alert.deployment.name if alert.deployment_id else 'no deployment'}): "
            f"{alert.summary}"
        ),
    )
    alert.follow_up_task = task
    alert.save(update_fields=["follow_up_task"])
    return task


@transaction.atomic
def alert_follow_up(*, alert: Alert, by: User | None):
    """Open (once) the follow-up task of ``alert`` in the phase that must act."""
    alert = _locked(alert)
    task = _follow_up(alert, by=by)
    if task is None:
        raise DomainError(
            "no_acting_phase",
            f"No phase of {alert.monitor.project} acts on "
            f"{MonitorKind(alert.monitor.kind).label.lower()} alerts (it needs a phase named "
            + " or ".join(ACTING_PHASES.get(alert.monitor.kind, ("…",)))
            + ").",
        )
    return task


@transaction.atomic
def alert_move_back(*, alert: Alert, by: User | None):
    """Move the project back to the phase that must act on ``alert``, in one step, with the
    alert as the recorded reason; the follow-up task is opened there if it was not yet."""
    from phases.services import phase_move_back

    alert = _locked(alert)
    if alert.moved_back_id is not None:
        raise DomainError(
            "already_moved_back", "The project was already moved back from this alert."
        )
    phase = acting_phase(alert)
    if phase is None:
        raise DomainError(
            "no_acting_phase",
            f"No phase of {alert.monitor.project} acts on this alert; move the project back "
            "from its page instead.",
        )
    monitor = alert.monitor
    reason = (
        f"Alert #{alert.pk} from the monitor “{monitor.name}” "
        f"({alert.get_state_display().lower()} since {alert.started_at:%Y-%m-%d %H:%M} UTC): "
        f"{alert.summary}"
    )
    transition = phase_move_back(project=monitor.project, to_phase=phase, by=by, reason=reason)
    alert.moved_back = transition
    alert.save(update_fields=["moved_back"])
    _follow_up(alert, by=by)
    return transition


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
    if "enabled" in fields and monitor.schedule is not None:
        monitor.schedule.enabled = monitor.enabled
        monitor.schedule.save(update_fields=["enabled"])
    return monitor

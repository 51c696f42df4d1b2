"""Notifications from the outbox (email and signed webhooks), and the channels they go to."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from mlprojects.exceptions import DomainError
from monitoring import webhooks
from monitoring.choices import (
    ChannelKind,
    DeliveryStatus,
    NotificationEvent,
)
from monitoring.models import (
    Alert,
    Channel,
    DeliveryAttempt,
    Notification,
)
from monitoring.services.common import User
from phases.models import Project

log = logging.getLogger(__name__)


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

"""Alert states over time, as Grafana and Alertmanager have them: pending for the rule's
"for" duration, firing, repeated, acknowledged, silenced, resolved by the monitor or by
a person, one open alert per monitor."""

import datetime as dt
import itertools

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from mlprojects.exceptions import DomainError
from monitoring import services
from monitoring.choices import AlertState, ChannelKind, MonitorKind, NotificationEvent, ResultStatus
from monitoring.models import Alert, Monitor, Notification, Result

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
_windows = itertools.count()


@pytest.fixture
def monitor(production) -> Monitor:
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    monitor.for_duration = dt.timedelta(minutes=10)
    monitor.repeat_interval = dt.timedelta(hours=1)
    monitor.save()
    services.channel_create(
        project=production.project,
        kind=ChannelKind.EMAIL,
        name="ops",
        address="ops@example.com",
        by=None,
    )
    return monitor


def observe(monitor: Monitor, status: str, minutes: float) -> Alert | None:
    """A result of ``status`` seen ``minutes`` after T0, and the alert rule applied to it."""
    start = T0 + dt.timedelta(hours=next(_windows))
    result = Result.objects.create(
        monitor=monitor,
        window_start=start,
        window_end=start + dt.timedelta(hours=1),
        status=status,
        summary=f"{status} at +{minutes} min",
        computed_at=T0 + dt.timedelta(minutes=minutes),
    )
    with transaction.atomic():
        alert = services.alert_evaluate(
            monitor=monitor, result=result, now=T0 + dt.timedelta(minutes=minutes)
        )
    return alert


def events(alert: Alert) -> list[str]:
    return list(alert.notifications.order_by("created_at", "id").values_list("event", flat=True))


def test_pending_for_its_duration_then_firing_repeating_and_resolved(monitor):
    alert = observe(monitor, ResultStatus.ALERT, 0)
    assert alert.state == AlertState.PENDING and events(alert) == []
    assert observe(monitor, ResultStatus.ALERT, 5).state == AlertState.PENDING
    firing = observe(monitor, ResultStatus.ALERT, 10)
    assert firing.pk == alert.pk  # deduplicated: the same alert, not a new one
    assert firing.state == AlertState.FIRING
    assert firing.fired_at == T0 + dt.timedelta(minutes=10)
    assert events(firing) == [NotificationEvent.FIRING]
    observe(monitor, ResultStatus.ALERT, 30)
    assert events(firing) == [NotificationEvent.FIRING]  # within the repeat interval
    observe(monitor, ResultStatus.ALERT, 70)
    assert events(firing) == [NotificationEvent.FIRING, NotificationEvent.REPEAT]

    resolved = observe(monitor, ResultStatus.OK, 90)
    assert resolved.state == AlertState.RESOLVED
    assert resolved.resolved_by is None and "ok again" in resolved.resolution
    assert events(resolved)[-1] == NotificationEvent.RESOLVED

    again = observe(monitor, ResultStatus.ALERT, 100)
    assert again.pk != alert.pk and again.state == AlertState.PENDING
    assert Alert.objects.filter(monitor=monitor).count() == 2


def test_a_pending_alert_that_clears_never_notifies(monitor):
    alert = observe(monitor, ResultStatus.ALERT, 0)
    cleared = observe(monitor, ResultStatus.OK, 5)
    assert cleared.pk == alert.pk and cleared.state == AlertState.RESOLVED
    assert not Notification.objects.exists()


def test_no_for_duration_fires_at_once(monitor):
    monitor.for_duration = dt.timedelta(0)
    monitor.save()
    assert observe(monitor, ResultStatus.ALERT, 0).state == AlertState.FIRING


@pytest.mark.parametrize(
    "status", [ResultStatus.WARNING, ResultStatus.NOT_ENOUGH_DATA, ResultStatus.ERROR]
)
def test_warnings_missing_data_and_errors_leave_the_alert_alone(monitor, status):
    observe(monitor, ResultStatus.ALERT, 0)
    observe(monitor, ResultStatus.ALERT, 10)
    alert = observe(monitor, status, 20)
    assert alert.state == AlertState.FIRING
    assert observe(monitor, status, 200).state == AlertState.FIRING
    assert observe(Monitor.objects.get(pk=monitor.pk), ResultStatus.OK, 300).state == "resolved"


def test_acknowledged_alerts_stop_repeating(monitor, production):
    observe(monitor, ResultStatus.ALERT, 0)
    alert = observe(monitor, ResultStatus.ALERT, 10)
    services.alert_acknowledge(alert=alert, by=production.user, now=T0 + dt.timedelta(minutes=15))
    alert = observe(monitor, ResultStatus.ALERT, 200)
    assert alert.state == AlertState.FIRING
    assert alert.acknowledged_by == production.user
    assert events(alert) == [NotificationEvent.FIRING]


def test_silenced_until_a_time(monitor, production):
    observe(monitor, ResultStatus.ALERT, 0)
    alert = observe(monitor, ResultStatus.ALERT, 10)
    services.alert_silence(
        alert=alert,
        by=production.user,
        until=T0 + dt.timedelta(hours=3),
        now=T0 + dt.timedelta(minutes=11),
    )
    observe(monitor, ResultStatus.ALERT, 100)
    assert events(alert) == [NotificationEvent.FIRING]
    observe(monitor, ResultStatus.ALERT, 190)  # the silence is over
    assert events(alert) == [NotificationEvent.FIRING, NotificationEvent.REPEAT]
    with pytest.raises(DomainError, match="future"):
        services.alert_silence(alert=alert, by=None, until=T0, now=T0 + dt.timedelta(hours=4))


def test_resolved_by_a_person_with_a_note(monitor, production):
    observe(monitor, ResultStatus.ALERT, 0)
    alert = observe(monitor, ResultStatus.ALERT, 10)
    services.alert_resolve(
        alert=alert,
        by=production.user,
        note="Retrained on May data.",
        now=T0 + dt.timedelta(minutes=20),
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert (alert.resolved_by, alert.resolution) == (production.user, "Retrained on May data.")
    assert events(alert) == [NotificationEvent.FIRING, NotificationEvent.RESOLVED]
    with pytest.raises(DomainError, match="already resolved"):
        services.alert_resolve(alert=alert, by=production.user)
    with pytest.raises(DomainError, match="nothing to acknowledge"):
        services.alert_acknowledge(alert=alert, by=production.user)
    assert observe(monitor, ResultStatus.ALERT, 30).pk != alert.pk


def test_one_open_alert_per_monitor_is_a_database_rule(monitor):
    observe(monitor, ResultStatus.ALERT, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            monitor=monitor, state=AlertState.FIRING, summary="twin", started_at=T0, fired_at=T0
        )


def test_a_new_deployment_resolves_the_alerts_about_the_old_one(monitor, production):
    observe(monitor, ResultStatus.ALERT, 0)
    firing = observe(monitor, ResultStatus.ALERT, 10)
    later = production.deployment.started_at + dt.timedelta(days=1)
    with pytest.raises(DomainError, match="started before"):
        services.deployment_start(project=production.project, name="early", by=None, now=T0)
    new = services.deployment_start(
        project=production.project, name="churn v2", by=production.user, now=later
    )
    firing.refresh_from_db()
    monitor.refresh_from_db()
    assert firing.state == AlertState.RESOLVED and "churn v2" in firing.resolution
    assert monitor.deployment == new and monitor.baseline_at == later
    production.deployment.refresh_from_db()
    assert production.deployment.ended_at == later


def test_notifications_are_delivered_by_email_and_recorded(monitor):
    observe(monitor, ResultStatus.ALERT, 0)
    alert = observe(monitor, ResultStatus.ALERT, 10)
    (notification,) = alert.notifications.all()
    assert notification.payload["type"] == "alert.firing"
    assert notification.payload["data"]["monitor"]["name"] == monitor.name
    assert (
        services.notification_deliver(
            notification_id=notification.pk, now=T0 + dt.timedelta(minutes=11)
        )
        == "delivered"
    )
    (email,) = mail.outbox
    assert email.to == ["ops@example.com"]
    assert "Firing" in email.subject and monitor.name in email.subject
    attempt = notification.delivery_attempts.get()
    assert attempt.ok
    # Delivered once: a redelivered task sends nothing more.
    assert services.notification_deliver(notification_id=notification.pk) is None
    assert len(mail.outbox) == 1

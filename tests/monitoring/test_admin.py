"""The monitoring admin: every list opens, a monitor added there gets its beat schedule,
a webhook to a private address is refused on the form, and alerts are acted on."""

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.choices import AlertState, MonitorKind
from monitoring.models import Alert, Channel, Monitor
from tests.factories import UserFactory
from tests.monitoring.test_loop import fire, in_production

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", ["deployment", "monitor", "result", "alert", "channel", "notification"]
)
def test_every_list_opens(admin_client_, production, model):
    response = admin_client_.get(reverse(f"admin:monitoring_{model}_changelist"))
    assert response.status_code == 200


def test_a_monitor_added_in_the_admin_gets_its_schedule(admin_client_, production):
    response = admin_client_.post(
        reverse("admin:monitoring_monitor_add"),
        {
            "project": production.project.pk,
            "kind": MonitorKind.DATA_QUALITY,
            "name": "Hourly quality",
            "window": "01:00:00",
            "every": "00:15:00",
            "config": '{"missing_tolerance": 0.1}',
            "for_duration": "00:00:00",
            "repeat_interval": "04:00:00",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    monitor = Monitor.objects.get(name="Hourly quality")
    assert (monitor.schedule.interval.every, monitor.schedule.interval.period) == (15, "minutes")
    assert monitor.schedule.queue == "scheduled"
    refused = admin_client_.post(
        reverse("admin:monitoring_monitor_add"),
        {
            "project": production.project.pk,
            "kind": MonitorKind.DATA_DRIFT,
            "name": "Bad",
            "window": "01:00:00",
            "config": '{"method": "magic"}',
            "for_duration": "00:00:00",
            "repeat_interval": "04:00:00",
        },
    )
    assert refused.status_code == 200 and "must be one of" in refused.content.decode()
    assert not Monitor.objects.filter(name="Bad").exists()


def test_a_webhook_to_a_private_address_is_refused_on_the_form(admin_client_, production, settings):
    settings.MONITORING_WEBHOOK_ALLOWED_HOSTS = []
    response = admin_client_.post(
        reverse("admin:monitoring_channel_add"),
        {
            "project": production.project.pk,
            "kind": "webhook",
            "name": "hook",
            "address": "http://169.254.169.254/latest",
            "enabled": "on",
        },
    )
    assert response.status_code == 200 and "link-local" in response.content.decode()
    assert not Channel.objects.exists()


def test_alerts_are_acknowledged_and_resolved_from_the_list(admin_client_):
    project = in_production()
    alert = fire(project, MonitorKind.DATA_DRIFT)
    url = reverse("admin:monitoring_alert_changelist")
    admin_client_.post(url, {"action": "acknowledge", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    admin_client_.post(url, {"action": "resolve", "_selected_action": [alert.pk]})
    assert Alert.objects.get(pk=alert.pk).state == AlertState.RESOLVED

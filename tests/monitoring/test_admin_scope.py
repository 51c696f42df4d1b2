"""The monitoring admins for managers: as the manager of project A (only a contributor on
B), every list holds A's rows and B's neither open nor change; monitors and channels are
added to A only; A's manager sets how often A's monitors run on the monitor's page, while
the periodic task admin stays the superuser's; the actions touch A's rows only."""

import numpy as np
import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from monitoring import services
from monitoring.choices import AlertState, MonitorKind
from monitoring.models import Alert, Channel, Deployment, Monitor, Notification, Result
from tests.admin_scope import build_world, check_add_refused, check_scoped, client_for, url
from tests.monitoring.conftest import reference_columns
from tests.monitoring.test_loop import fire

pytestmark = pytest.mark.django_db


def fill(project, *, by) -> Alert:
    """A deployment with its default monitors and their schedules, a channel, and a firing
    drift alert with its notification."""
    deployment = services.deployment_start(project=project, name="churn v1", by=by)
    columns = reference_columns(np.random.default_rng(0), 200)
    services.reference_set(
        deployment=deployment, columns=columns, prediction="score", label="label", by=by
    )
    services.channel_create(
        project=project, kind="email", name="team", address="team@example.com", by=by
    )
    return fire(project, MonitorKind.DATA_DRIFT)


@pytest.fixture
def world():
    world = build_world()
    world.alert_a = fill(world.a, by=world.manager)
    world.alert_b = fill(world.b, by=world.b.owner)
    return world


@pytest.mark.parametrize("model", [Deployment, Monitor, Result, Alert, Channel, Notification])
def test_a_manager_lists_and_opens_only_the_rows_of_their_projects(world, model):
    check_scoped(world, model)


def monitor_form(monitor: Monitor, **changes) -> dict:
    data = {
        "name": monitor.name,
        "window": "1 00:00:00",
        "every": "",
        "config": "{}",
        "for_duration": "00:00:00",
        "repeat_interval": "04:00:00",
        "enabled": "on",
    }
    return {**data, **changes}


def test_a_monitor_is_added_to_a_managed_project_only(world):
    data = {
        "project": world.a.pk,
        "kind": MonitorKind.DATA_QUALITY,
        "name": "Hourly quality",
        "window": "01:00:00",
        "every": "00:15:00",
        "config": "{}",
        "for_duration": "00:00:00",
        "repeat_interval": "04:00:00",
        "enabled": "on",
    }
    check_add_refused(world, Monitor, data, foreign={"project": world.b.pk})
    added = Monitor.objects.get(name="Hourly quality")
    assert added.project == world.a
    assert (added.schedule.interval.every, added.schedule.interval.period) == (15, "minutes")


def test_a_channel_is_added_to_a_managed_project_only(world):
    data = {
        "project": world.a.pk,
        "kind": "email",
        "name": "on call",
        "address": "oncall@example.com",
        "enabled": "on",
    }
    check_add_refused(world, Channel, data, foreign={"project": world.b.pk})
    assert Channel.objects.get(name="on call").project == world.a


def test_a_manager_sets_the_schedule_of_their_monitor_and_no_other(world):
    manager = client_for(world.manager)
    own = Monitor.objects.get(project=world.a, kind=MonitorKind.FRESHNESS)
    page = manager.get(url(Monitor, "change", own.pk))
    assert page.context["adminform"].form["every"].value() == "01:00:00"
    html = page.content.decode()
    assert "every hour" in html and "periodictask" not in html
    zero = manager.post(url(Monitor, "change", own.pk), monitor_form(own, every="00:00:00"))
    assert "Must be at least a second." in zero.content.decode()

    saved = manager.post(url(Monitor, "change", own.pk), monitor_form(own, every="00:20:00"))
    assert saved.status_code == 302
    schedule = PeriodicTask.objects.get(pk=own.schedule_id)
    assert (schedule.interval.every, schedule.interval.period) == (20, IntervalSchedule.MINUTES)
    assert schedule.enabled and schedule.queue == "scheduled"
    manager.post(url(Monitor, "change", own.pk), monitor_form(own, every="", enabled=""))
    schedule.refresh_from_db()
    assert not schedule.enabled and schedule.interval.every == 20

    theirs = Monitor.objects.get(project=world.b, kind=MonitorKind.FRESHNESS)
    before = PeriodicTask.objects.values().get(pk=theirs.schedule_id)
    manager.post(url(Monitor, "change", theirs.pk), monitor_form(theirs, every="00:01:00"))
    assert PeriodicTask.objects.values().get(pk=theirs.schedule_id) == before
    # The periodic task admin runs any task with any arguments: the superuser's alone.
    for pk in (own.schedule_id, theirs.schedule_id):
        assert manager.get(url(PeriodicTask, "change", pk)).status_code == 403
    assert manager.get(url(PeriodicTask, "changelist")).status_code == 403
    root = client_for(world.root)
    assert root.get(url(PeriodicTask, "change", theirs.schedule_id)).status_code == 200
    assert "periodictask" in root.get(url(Monitor, "change", theirs.pk)).content.decode()


def test_the_actions_act_on_the_managed_projects_rows_only(world):
    manager = client_for(world.manager)
    both = [world.alert_a.pk, world.alert_b.pk]
    manager.post(url(Alert, "changelist"), {"action": "acknowledge", "_selected_action": both})
    assert Alert.objects.get(pk=world.alert_a.pk).acknowledged_at is not None
    assert Alert.objects.get(pk=world.alert_b.pk).acknowledged_at is None
    manager.post(url(Alert, "changelist"), {"action": "resolve", "_selected_action": both})
    assert Alert.objects.get(pk=world.alert_b.pk).state == AlertState.FIRING
    health = Monitor.objects.filter(kind=MonitorKind.HEALTH)
    selected = list(health.values_list("pk", flat=True))
    manager.post(url(Monitor, "changelist"), {"action": "run_now", "_selected_action": selected})
    ran = set(health.filter(last_run_at__isnull=False).values_list("project", flat=True))
    assert ran == {world.a.pk}

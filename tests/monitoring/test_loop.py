"""The loop back from production: a firing alert opens a follow-up task in the phase that
must act, a manager moves the project back there from the alert in one step, and the last
phase's gate reads the monitors."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from mlprojects.exceptions import DomainError
from monitoring import services
from monitoring.choices import AlertState, MonitorKind, ResultStatus
from monitoring.evidence import production_monitors_ok
from monitoring.models import Alert, Monitor, Result
from phases import services as phases
from phases.choices import EvidenceRule, PhaseStatus, TaskStatus, TransitionKind
from phases.selectors import phase_gate
from tests.factories import make_project
from tests.monitoring.conftest import reference_columns
from tests.phases.test_services import complete

pytestmark = pytest.mark.django_db


def in_production(template: str = "ml-development-phases"):
    """A project walked through every phase to the last, with a deployment."""
    import numpy as np

    project = make_project(template=template, success_metric="auc", success_target=0.7)
    while True:
        project.refresh_from_db()
        phase = project.current_phase
        if phase.order == project.phases.order_by("-order").first().order:
            break
        complete(phase, by=project.owner)
        phases.phase_advance(project=project, by=project.owner)
    deployment = services.deployment_start(
        project=project,
        name="churn v3",
        by=project.owner,
        now=timezone.now() - dt.timedelta(days=20),
    )
    services.reference_set(
        deployment=deployment,
        columns=reference_columns(np.random.default_rng(0), 300),
        prediction="score",
        label="label",
        by=None,
    )
    return project


def fire(project, kind: str) -> Alert:
    monitor = Monitor.objects.get(project=project, kind=kind)
    now = timezone.now()
    result = Result.objects.create(
        monitor=monitor,
        deployment=monitor.deployment,
        window_start=now - dt.timedelta(days=1),
        window_end=now,
        status=ResultStatus.ALERT,
        summary="Dataset drift: 2 of 3 features drifted (x, y).",
        computed_at=now,
    )
    with transaction.atomic():
        alert = services.alert_evaluate(monitor=monitor, result=result, now=now)
    assert alert.state == AlertState.FIRING
    return alert


@pytest.mark.parametrize(
    ("template", "kind", "phase"),
    [
        ("ml-development-phases", MonitorKind.DATA_DRIFT, "Experimentation"),
        ("ml-development-phases", MonitorKind.PERFORMANCE, "Experimentation"),
        ("ml-development-phases", MonitorKind.DATA_QUALITY, "Pipeline building"),
        ("mlops-lifecycle", MonitorKind.PREDICTION_DRIFT, "Modeling"),
        ("mlops-lifecycle", MonitorKind.DATA_QUALITY, "Data"),
    ],
)
def test_a_firing_alert_opens_a_follow_up_task_where_it_must_be_acted_on(template, kind, phase):
    project = in_production(template)
    alert = fire(project, kind)
    task = alert.follow_up_task
    assert task is not None and task.phase.name == phase
    assert task.phase.status == PhaseStatus.COMPLETED  # it waits there for the loop back
    assert task.required and task.status == TaskStatus.TODO
    assert "Dataset drift" in task.description
    assert services.alert_follow_up(alert=alert, by=None) == task  # opened once


def test_a_monitor_firing_again_adds_no_second_task_until_the_first_is_done():
    project = in_production()
    first = fire(project, MonitorKind.DATA_DRIFT)
    services.alert_resolve(alert=first, by=None)
    again = fire(project, MonitorKind.DATA_DRIFT)
    assert again.pk != first.pk and again.follow_up_task == first.follow_up_task
    assert first.follow_up_task.title == f"Act on alert #{first.pk} of “Data drift”"
    services.alert_move_back(alert=again, by=project.owner)  # its phase opens again
    task = phases.task_set_status(task=first.follow_up_task, status=TaskStatus.DONE, by=None)
    services.alert_resolve(alert=again, by=None)
    third = fire(project, MonitorKind.DATA_DRIFT)
    assert third.follow_up_task not in (None, task)
    assert third.follow_up_task.title == f"Act on alert #{third.pk} of “Data drift”"


def test_a_manager_moves_the_project_back_from_the_alert_in_one_step():
    project = in_production()
    manager = project.owner
    alert = fire(project, MonitorKind.DATA_DRIFT)
    transition = services.alert_move_back(alert=alert, by=manager)
    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    assert transition.kind == TransitionKind.BACK and transition.by == manager
    assert transition.reason.startswith(f"Alert #{alert.pk} of “Data drift” (firing since")
    assert alert.follow_up_task.description.startswith(f"Alert #{alert.pk} of “Data drift”")
    assert "Dataset drift: 2 of 3 features drifted" in transition.reason
    alert.refresh_from_db()
    assert alert.moved_back == transition
    # The follow-up is now work of the active phase, and its gate asks for it.
    gate = phase_gate(phase=project.current_phase)
    assert any(c.subject == alert.follow_up_task.title and not c.met for c in gate.criteria)
    with pytest.raises(DomainError, match="already moved back"):
        services.alert_move_back(alert=alert, by=manager)


def test_a_follow_up_is_due_when_the_phase_it_blocks_is():
    """Opened while its phase waits completed, the task is dated with it; the move back
    that reopens the phase re-plans it to the reopened phase's due date."""
    project = in_production()
    alert = fire(project, MonitorKind.DATA_DRIFT)
    task = alert.follow_up_task
    assert task.due_date is not None and task.due_date == task.phase.due_date
    services.alert_move_back(alert=alert, by=project.owner)
    task.refresh_from_db()
    project.refresh_from_db()
    assert project.current_phase == task.phase
    assert task.due_date == project.current_phase.due_date >= timezone.localdate()


def test_firing_alerts_turn_health_amber_and_say_how_many(django_capture_on_commit_callbacks):
    """A sponsor sees a firing production alert in the project's health, at once (the
    health monitor's own alert aside: it fires on red health and would keep it amber)."""
    from phases.choices import Health

    project = in_production()
    phases.project_health_refresh(project_ids=[project.pk])
    project.refresh_from_db()
    assert (project.health, project.health_reasons) == (Health.GREEN, [])
    with django_capture_on_commit_callbacks(execute=True):
        drift = fire(project, MonitorKind.DATA_DRIFT)
        fire(project, MonitorKind.PREDICTION_DRIFT)
    project.refresh_from_db()
    assert project.health == Health.AMBER
    assert project.health_reasons == ["2 firing alerts in production."]
    Alert.objects.create(
        monitor=Monitor.objects.get(project=project, kind=MonitorKind.HEALTH),
        state=AlertState.FIRING, summary="red", started_at=timezone.now(),
        fired_at=timezone.now(),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_resolve(alert=drift, by=None)
    project.refresh_from_db()
    assert project.health_reasons == ["1 firing alert in production."]


def test_health_alerts_have_no_phase_to_send_work_to():
    project = in_production()
    late = Monitor.objects.get(project=project, kind=MonitorKind.HEALTH)
    alert = Alert.objects.create(
        monitor=late, state=AlertState.FIRING, summary="red", started_at=timezone.now(),
        fired_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        services.alert_move_back(alert=alert, by=project.owner)
    assert refused.value.code == "no_acting_phase"


# --- Gate evidence ----------------------------------------------------------------------


@pytest.fixture
def three_days(settings):
    settings.MONITORING_GATE_OK_DAYS = 3


def gate_outcome(project):
    return project.current_phase.outcomes.get(evidence_rule=EvidenceRule.PRODUCTION_MONITORS_OK)


def report(project, status_of=lambda monitor, day: ResultStatus.OK):
    now = timezone.now()
    for monitor in Monitor.objects.filter(project=project):
        for day in range(4):
            end = now - dt.timedelta(days=day)
            Result.objects.create(
                monitor=monitor, window_start=end - dt.timedelta(days=1), window_end=end,
                status=status_of(monitor, day), summary="-", computed_at=end,
            )  # fmt: skip


def test_the_last_phase_gate_asks_for_monitors_ok_for_n_days(three_days):
    project = in_production()
    outcome = gate_outcome(project)
    assert outcome.required
    silent = production_monitors_ok(outcome)
    assert not silent.met and "no ok result" in silent.message

    report(project)
    ok = production_monitors_ok(outcome)
    assert ok.met, ok.message
    assert "All 6 monitors of churn v3 have been ok for the last 3 days" in ok.message
    gate = phase_gate(phase=project.current_phase)
    assert any(c.kind == "evidence" and c.met for c in gate.criteria)


def test_an_alert_in_the_period_or_an_open_alert_breaks_the_rule(three_days):
    project = in_production()
    report(
        project,
        lambda m, day: ResultStatus.ALERT if m.kind == MonitorKind.FRESHNESS and day == 1 else "ok",
    )
    criterion = production_monitors_ok(gate_outcome(project))
    assert not criterion.met
    assert "“Freshness” reported alerts or errors in the last 3 days" in criterion.message
    assert criterion.evidence["monitors"]["Freshness"] == {"ok": 2, "alert": 1}  # 3 days back

    other = in_production()
    report(other)
    fire(other, MonitorKind.DATA_QUALITY)
    criterion = production_monitors_ok(gate_outcome(other))
    assert not criterion.met and "“Data quality” has an open alert" in criterion.message


def test_a_deployment_younger_than_n_days_or_none_is_not_enough(three_days, settings):
    project = in_production()
    report(project)
    settings.MONITORING_GATE_OK_DAYS = 30
    young = production_monitors_ok(gate_outcome(project))
    assert not young.met and "in production for 20 days" in young.message
    services.deployment_end(project=project, by=None)
    gone = production_monitors_ok(gate_outcome(project))
    assert not gone.met and "Nothing of this project is in production" in gone.message

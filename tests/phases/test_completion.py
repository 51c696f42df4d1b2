"""Finishing a project, and a loop back that re-plans instead of turning the project red.

Through the services, as every surface calls them: the dashboard, the admin and the API.
"""

import datetime as dt

import pytest
from django.utils import timezone

from mlprojects.exceptions import DomainError
from monitoring import services as monitoring
from monitoring.choices import MonitorKind, ResultStatus
from phases import services
from phases.choices import Health, PhaseStatus, ReviewStatus, TransitionKind
from phases.models import Phase
from tests.factories import complete, fresh, make_project, to_last_phase

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def overdue(phase: Phase) -> None:
    today = timezone.localdate()
    Phase.objects.filter(pk=phase.pk).update(start_date=today - 90 * DAY, due_date=today - 60 * DAY)


# --- Completing -------------------------------------------------------------------------


def test_complete_is_recorded_like_a_transition_and_stops_health_alarms():
    project = to_last_phase(make_project())
    last = project.current_phase
    overdue(last)
    services.project_health_refresh(project_ids=[project.pk])
    assert fresh(project).health == Health.RED
    complete(last, by=project.owner)

    transition = services.project_complete(
        project=project, by=project.owner, reason="Live and handed over."
    )

    project = fresh(project)
    assert project.completed_at is not None
    assert project.current_phase == last
    assert project.current_phase.status == PhaseStatus.COMPLETED
    assert (transition.kind, transition.from_phase, transition.to_phase) == (
        TransitionKind.COMPLETE,
        last,
        last,
    )
    assert transition.reason == "Live and handed over."
    assert (project.health, project.health_reasons) == (Health.GREEN, [])
    services.project_health_refresh()
    assert (fresh(project).health, fresh(project).health_reasons) == (Health.GREEN, [])


def test_the_health_monitor_raises_nothing_for_a_completed_project():
    project = to_last_phase(make_project())
    complete(project.current_phase, by=project.owner)
    services.project_complete(project=project, by=project.owner)
    monitor = monitoring.monitor_create(
        project=project,
        kind=MonitorKind.HEALTH,
        name="Project health",
        window=dt.timedelta(minutes=10),
        by=project.owner,
    )
    overdue(project.current_phase)

    result = monitoring.monitor_run(monitor_id=monitor.pk, now=timezone.now())

    assert result.status == ResultStatus.OK


def test_complete_is_refused_before_the_last_phase_and_while_the_gate_is_shut():
    project = make_project()
    complete(project.current_phase, by=project.owner)
    with pytest.raises(DomainError) as refused:
        services.project_complete(project=project, by=project.owner)
    assert refused.value.code == "not_last_phase"
    assert "advance to Experimentation first" in refused.value.message

    project = to_last_phase(project)
    with pytest.raises(services.GateNotMet) as shut:
        services.project_complete(project=project, by=project.owner)
    assert "Productionization cannot complete the project yet" in shut.value.message
    assert fresh(project).completed_at is None


def test_a_completed_project_does_not_advance_or_complete_twice():
    project = to_last_phase(make_project())
    complete(project.current_phase, by=project.owner)
    services.project_complete(project=project, by=project.owner)
    for act in (services.project_complete, services.phase_advance):
        with pytest.raises(DomainError) as refused:
            act(project=project, by=project.owner)
        assert refused.value.code == "project_completed"


def test_a_loop_back_reopens_a_completed_project():
    project = to_last_phase(make_project())
    last = project.current_phase
    complete(last, by=project.owner)
    services.project_complete(project=project, by=project.owner)

    services.phase_move_back(
        project=project,
        to_phase=project.phases.get(name="Experimentation"),
        by=project.owner,
        reason="Drift in production: retrain on this quarter's data.",
    )

    project = fresh(project)
    assert project.completed_at is None
    assert project.current_phase.name == "Experimentation"
    last.refresh_from_db()
    assert last.status == PhaseStatus.PLANNED
    assert set(last.outcomes.values_list("review_status", flat=True)) == {ReviewStatus.PENDING}
    assert list(project.transitions.values_list("kind", flat=True)[4:]) == [
        TransitionKind.COMPLETE,
        TransitionKind.BACK,
    ]


# --- Re-planning a loop back ------------------------------------------------------------


def late_loop(*, due_date=None):
    """A project whose Experimentation ended 48 days past its plan, then Pipeline building
    sent it back there."""
    today = timezone.localdate()
    project = make_project(start_date=today - 200 * DAY)
    complete(project.current_phase, by=project.owner)
    services.phase_advance(project=project, by=project.owner)
    project = fresh(project)
    complete(project.current_phase, by=project.owner)
    services.phase_advance(project=project, by=project.owner)
    before = {p.name: (p.start_date, p.due_date) for p in project.phases.all()}
    experimentation = project.phases.get(name="Experimentation")
    services.phase_move_back(
        project=project,
        to_phase=experimentation,
        by=project.owner,
        reason="The pipeline shows a leak in the features.",
        due_date=due_date,
    )
    return fresh(project), before


def test_move_back_gives_the_reopened_phase_its_planned_length_from_today():
    project, before = late_loop()
    today = timezone.localdate()
    start, due = before["Experimentation"]
    reopened = project.current_phase
    assert (reopened.start_date, reopened.due_date) == (today, today + (due - start))
    slip = reopened.due_date - due
    for name in ("Pipeline building", "Productionization"):
        phase = project.phases.get(name=name)
        assert (phase.start_date, phase.due_date) == (
            before[name][0] + slip,
            before[name][1] + slip,
        )
    services.project_health_refresh(project_ids=[project.pk])
    assert fresh(project).health == Health.GREEN, fresh(project).health_reasons


def test_move_back_takes_a_chosen_due_date_and_moves_open_tasks_with_the_plan():
    today = timezone.localdate()
    project, before = late_loop(due_date=today + 20 * DAY)
    reopened = project.current_phase
    assert (reopened.start_date, reopened.due_date) == (today, today + 20 * DAY)
    slip = reopened.due_date - before["Experimentation"][1]
    later = project.phases.get(name="Productionization")
    assert later.due_date == before["Productionization"][1] + slip
    assert set(later.tasks.values_list("due_date", flat=True)) == {later.due_date}
    # The planned finish is the first plan's, kept to show the slip.
    assert project.planned_finish == before["Productionization"][1]


def test_move_back_refuses_a_due_date_before_today_and_moves_nothing():
    today = timezone.localdate()
    project = make_project()
    complete(project.current_phase, by=project.owner)
    services.phase_advance(project=project, by=project.owner)
    with pytest.raises(DomainError) as refused:
        services.phase_move_back(
            project=project,
            to_phase=project.phases.get(order=1),
            by=project.owner,
            reason="Scope changed.",
            due_date=today - DAY,
        )
    assert refused.value.fields == {"due_date": [refused.value.message.removeprefix("due_date: ")]}
    assert fresh(project).current_phase.name == "Experimentation"
    assert project.transitions.count() == 2


def test_project_create_keeps_the_planned_finish_and_a_metric_label():
    today = timezone.localdate()
    project = make_project(
        start_date=today, success_metric="val_pr_auc", success_metric_label="  Fraud caught  "
    )
    assert project.planned_finish == project.phases.order_by("order").last().due_date
    assert project.success_metric_label == "Fraud caught"
    assert project.metric_name == "Fraud caught"
    services.project_update(project=project, by=project.owner, success_metric_label="")
    assert fresh(project).metric_name == "val_pr_auc"

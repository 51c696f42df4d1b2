"""Where a project stands in time: its forecast finish, what is due next, whether it is in
a phase at all. Projects are made and moved through the services, as every surface does."""

import datetime as dt

import pytest
from django.utils import timezone

from phases import services
from phases.models import Project
from phases.selectors import forecast_finish, in_a_phase, planned_days, with_dates
from tests.factories import complete, make_project, to_last_phase

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def forecast(project: Project) -> dt.date | None:
    return forecast_finish(project.phases.all(), today=timezone.localdate())


# --- The forecast finish ----------------------------------------------------------------


def test_a_project_on_time_is_forecast_to_finish_as_first_planned():
    project = make_project()
    assert forecast(project) == project.planned_finish


def test_a_late_phase_ends_today_at_the_earliest_and_the_later_phases_shift_as_much():
    today = timezone.localdate()
    # Ideation and planning (21 days) started 27 days ago: due a week ago, still open.
    project = make_project(start_date=today - 27 * DAY)
    later = list(project.phases.filter(order__gt=1).select_related("template"))

    assert forecast(project) == today + sum(planned_days(phase) for phase in later) * DAY
    assert forecast(project) == project.planned_finish + 7 * DAY


def test_a_late_last_phase_is_never_forecast_to_have_finished():
    today = timezone.localdate()
    project = to_last_phase(make_project(start_date=today - 200 * DAY))
    assert project.current_phase.due_date < today

    assert forecast(project) == today


def test_a_gap_in_the_plan_absorbs_a_slip_before_it():
    """A phase planned to start later than the one before ends does not start earlier."""
    today = timezone.localdate()
    project = make_project(start_date=today - 27 * DAY)
    for phase in project.phases.filter(order__gt=1):
        services.phase_update(
            phase=phase,
            by=project.owner,
            start_date=phase.start_date + 30 * DAY,
            due_date=phase.due_date + 30 * DAY,
        )
    last = project.phases.get(order=4)

    assert forecast(project) == last.due_date


# --- In a phase, and what is due --------------------------------------------------------


def test_a_completed_project_is_in_no_phase_and_has_nothing_due():
    today = timezone.localdate()
    done = to_last_phase(make_project(start_date=today - 200 * DAY))
    complete(done.current_phase, by=done.owner)
    services.project_complete(project=done, by=done.owner)
    going = make_project()
    projects = Project.objects.filter(pk__in=[done.pk, going.pk])

    assert list(in_a_phase(projects)) == [going]
    dates = {p.pk: (p.in_phase_since, p.next_due) for p in with_dates(projects)}
    assert dates[done.pk] == (None, None)
    going.refresh_from_db()
    assert dates[going.pk] == (going.current_phase.started_at, going.current_phase.due_date)

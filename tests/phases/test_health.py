"""Project health: the rules, their reasons, and the recomputation service."""

import datetime as dt

import pytest
from django.utils import timezone

from phases import services
from phases.choices import Health, TaskStatus
from phases.models import Project
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def refreshed(project: Project) -> Project:
    services.project_health_refresh(project_ids=[project.pk])
    project.refresh_from_db()
    return project


def test_a_project_on_schedule_is_green_with_no_reasons():
    project = refreshed(make_project(start_date=TODAY))
    assert (project.health, project.health_reasons) == (Health.GREEN, [])
    assert project.health_checked_at is not None


def test_an_overdue_task_turns_the_project_amber_and_says_which():
    project = make_project(start_date=TODAY)
    task = project.current_phase.tasks.order_by("id").first()
    task.due_date = TODAY - days(3)
    task.save()

    project = refreshed(project)

    assert project.health == Health.AMBER
    assert project.health_reasons == [
        f"1 task overdue in Ideation and planning; the oldest, “{task.title}”, is 3 days late."
    ]


def test_a_done_task_is_never_overdue():
    project = make_project(start_date=TODAY)
    task = project.current_phase.tasks.first()
    task.due_date = TODAY - days(30)
    task.save()
    services.task_set_status(task=task, status=TaskStatus.DONE, by=None)
    assert refreshed(project).health == Health.GREEN


def test_a_phase_long_past_due_turns_the_project_red(settings):
    settings.MLPROJECTS_RED_AFTER_DAYS = 14
    # Started 40 days ago: the first phase (21 days) ended 20 days ago, and so did its tasks.
    project = refreshed(make_project(start_date=TODAY - days(40)))
    assert project.health == Health.RED
    assert "Ideation and planning is 20 days past its due date" in project.health_reasons[1]
    assert project.health_reasons[0].startswith("3 tasks overdue in Ideation and planning")


def test_a_phase_a_little_past_due_is_amber(settings):
    settings.MLPROJECTS_RED_AFTER_DAYS = 14
    project = make_project(start_date=TODAY - days(25))
    project.current_phase.tasks.update(due_date=None)
    project = refreshed(project)
    assert project.health == Health.AMBER
    assert project.health_reasons == [
        f"Ideation and planning is 5 days past its due date ({TODAY - days(5):%Y-%m-%d})."
    ]


def test_a_blocked_gate_is_amber_and_red_once_the_phase_is_late(settings):
    owner = UserFactory()
    project = make_project(owner=owner, start_date=TODAY)
    task = project.current_phase.tasks.first()
    services.task_set_status(task=task, status=TaskStatus.BLOCKED, by=owner)
    outcome = project.current_phase.outcomes.get()
    services.outcome_reject(outcome=outcome, by=owner, note="Too vague")

    project = refreshed(project)
    assert project.health == Health.AMBER
    assert project.health_reasons == [
        f"The gate of Ideation and planning is blocked: task “{task.title}” is blocked; "
        f"outcome “{outcome.name}” was rejected."
    ]

    phase = project.current_phase
    phase.start_date, phase.due_date = TODAY - days(10), TODAY - days(1)
    phase.save()
    project.current_phase.tasks.update(due_date=None)
    assert refreshed(project).health == Health.RED


def test_refresh_all_counts_only_changes_and_stamps_every_project():
    late = make_project(start_date=TODAY - days(40))
    on_time = make_project(start_date=TODAY)

    assert services.project_health_refresh() == 1
    assert services.project_health_refresh() == 0
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.health, on_time.health) == (Health.RED, Health.GREEN)
    assert late.health_checked_at == on_time.health_checked_at


def test_refresh_all_reads_in_constant_queries(django_assert_max_num_queries):
    for _ in range(3):
        make_project(start_date=TODAY - days(40))
    with django_assert_max_num_queries(8) as few:
        services.project_health_refresh()
    for _ in range(6):
        make_project(start_date=TODAY - days(40))
    with django_assert_max_num_queries(len(few.captured_queries)):
        services.project_health_refresh()

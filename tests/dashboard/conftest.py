"""People and projects for the dashboard's tests, built through the services as users do."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from phases import services
from phases.choices import Role, TaskStatus
from phases.models import Phase, Project, Transition
from tests.factories import UserFactory, make_project

PASSWORD = "correct-horse-battery"


def complete(phase: Phase, *, by) -> None:
    """Do everything the gate of ``phase`` asks for."""
    for task in phase.tasks.filter(required=True):
        services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
    for outcome in phase.outcomes.filter(required=True):
        services.outcome_submit(outcome=outcome, by=by, evidence_url="https://example.com/doc")
        services.outcome_accept(outcome=outcome, by=by)


def advance(project: Project, *, by) -> Transition:
    project.refresh_from_db()
    complete(project.current_phase, by=by)
    return services.phase_advance(project=project, by=by)


def backdate(project: Project, *, days: int) -> None:
    """Spread the project's transitions over the last ``days`` days, oldest first, so
    timelines and durations have something to show (the services stamp "now")."""
    transitions = list(project.transitions.order_by("created_at", "id"))
    now = timezone.now()
    step = days / max(len(transitions), 1)
    for i, transition in enumerate(transitions):
        moment = now - dt.timedelta(days=days - i * step)
        Transition.objects.filter(pk=transition.pk).update(created_at=moment)
        Phase.objects.filter(pk=transition.to_phase_id, started_at__isnull=False).update(
            started_at=moment
        )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager():
    return UserFactory(username="morgan", first_name="Morgan", last_name="Hayes")


@pytest.fixture
def viewer():
    return UserFactory(username="valerie", first_name="Valerie", last_name="Stone")


@pytest.fixture
def contributor():
    return UserFactory(username="chris")


@pytest.fixture
def outsider():
    return UserFactory(username="olga")


@pytest.fixture
def staff():
    return UserFactory(username="avery", is_staff=True, is_superuser=True)


@pytest.fixture
def project(manager, viewer, contributor):
    project = make_project(
        owner=manager,
        name="Churn early warning",
        success_metric="val_auc",
        success_target=0.85,
    )
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    services.membership_set(project=project, user=contributor, role=Role.CONTRIBUTOR)
    return project


def build_portfolio(*, manager, viewer) -> list[Project]:
    """A small portfolio with a history: projects in several phases of both lifecycles, one
    looped back twice, the clock spread over months, and health computed."""
    today = timezone.localdate()
    stories = [
        ("Subscriber churn early warning", "ml-development-phases", 12, []),
        ("Fresh produce demand forecasting", "ml-development-phases", 70, ["next"]),
        (
            "Card fraud detection",
            "ml-development-phases",
            235,
            ["next", "next", "next", "Experimentation"],
        ),
        ("Support ticket routing", "mlops-lifecycle", 90, ["next", "next"]),
        ("Warehouse damage detection", "mlops-lifecycle", 150, ["next", "next", "Data", "next"]),
    ]
    reasons = {
        "Experimentation": "Data drift after the new checkout launched: wallet payments went "
        "from 9% to 31% of volume. Retrain on post-launch data.",
        "Data": "Error analysis shows night-shift images are under-represented; label more.",
    }
    projects = []
    for name, template, days_ago, moves in stories:
        project = make_project(
            owner=manager,
            name=name,
            template=template,
            success_metric="val_f1",
            success_target=0.8,
            start_date=today - dt.timedelta(days=days_ago),
        )
        services.membership_set(project=project, user=viewer, role=Role.VIEWER)
        for move in moves:
            if move == "next":
                advance(project, by=manager)
            else:
                services.phase_move_back(
                    project=project,
                    to_phase=project.phases.get(name=move),
                    by=manager,
                    reason=reasons[move],
                )
        backdate(project, days=days_ago)
        projects.append(project)
    services.project_health_refresh()
    return projects

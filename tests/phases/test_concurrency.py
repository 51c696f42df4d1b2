"""Two transitions of one project, on two real PostgreSQL connections, cannot both succeed."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from mlprojects.exceptions import DomainError
from phases import services
from phases.choices import PhaseStatus, TaskStatus, TransitionKind
from phases.models import Project
from tests.factories import UserFactory, make_project

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def ready_to_advance(owner) -> Project:
    project = make_project(owner=owner)
    phase = project.current_phase
    for task in phase.tasks.all():
        services.task_set_status(task=task, status=TaskStatus.DONE, by=owner)
    for outcome in phase.outcomes.all():
        services.outcome_accept(outcome=outcome, by=owner)
    return project


def backend_waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def run(target, results: dict, key: str, **events):
    def body():
        try:
            results[key] = target(**events)
        except DomainError as error:
            results[key] = error
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_second_advance_waits_for_the_first_and_is_refused(on_postgres):
    owner = UserFactory()
    project = ready_to_advance(owner)
    results: dict = {}
    first_done, release, second_pid = threading.Event(), threading.Event(), {}

    def first():
        with transaction.atomic():
            transition = services.phase_advance(project=project, by=owner, reason="first")
            first_done.set()
            release.wait(timeout=30)  # hold the row lock while the second one tries
        return transition

    def second():
        first_done.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid["pid"] = cursor.fetchone()[0]
        return services.phase_advance(project=project, by=owner, reason="second")

    a = run(first, results, "first")
    b = run(second, results, "second")
    first_done.wait(timeout=30)
    for _ in range(100):  # up to 5 s for the second connection to queue behind the lock
        if "pid" in second_pid and backend_waits_on_a_lock(second_pid["pid"]):
            break
        threading.Event().wait(0.05)
    assert backend_waits_on_a_lock(second_pid["pid"]), "the second transition did not wait"
    assert "second" not in results
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)

    assert results["first"].kind == TransitionKind.FORWARD
    assert isinstance(results["second"], DomainError)
    assert results["second"].code == "gate_not_met"  # it saw the move the first one made
    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    assert project.phases.filter(status=PhaseStatus.ACTIVE).count() == 1
    assert list(project.transitions.values_list("kind", flat=True)) == ["start", "forward"]


def test_racing_advance_and_move_back_leave_one_consistent_state(on_postgres):
    owner = UserFactory()
    project = ready_to_advance(owner)
    services.phase_advance(project=project, by=owner)
    project.refresh_from_db()
    for task in project.current_phase.tasks.all():
        services.task_set_status(task=task, status=TaskStatus.DONE, by=owner)
    for outcome in project.current_phase.outcomes.all():
        services.outcome_accept(outcome=outcome, by=owner)
    ideation = project.phases.get(name="Ideation and planning")
    start = threading.Barrier(2, timeout=30)
    results: dict = {}

    def forward():
        start.wait()
        return services.phase_advance(project=project, by=owner)

    def back():
        start.wait()
        return services.phase_move_back(
            project=project, to_phase=ideation, by=owner, reason="Scope changed"
        )

    threads = [run(forward, results, "forward"), run(back, results, "back")]
    for thread in threads:
        thread.join(timeout=30)

    # Either order leaves the loser facing a refusal: after the advance, Pipeline building has
    # no loop to Ideation; after the move back, Ideation's reopened gate does not hold.
    [winner] = [k for k, v in results.items() if not isinstance(v, DomainError)]
    loser = results["back" if winner == "forward" else "forward"]
    assert loser.code in ("transition_not_allowed", "gate_not_met")
    project.refresh_from_db()
    assert list(project.phases.filter(status=PhaseStatus.ACTIVE)) == [project.current_phase]
    expected = "Pipeline building" if winner == "forward" else "Ideation and planning"
    assert project.current_phase.name == expected
    assert project.transitions.count() == 3

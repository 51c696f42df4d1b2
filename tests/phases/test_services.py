"""The lifecycle services: template instantiation, gates, transitions and their audit trail."""

import datetime as dt
import itertools

import pytest
from django.db import IntegrityError, transaction

from mlprojects.exceptions import DomainError
from phases import services
from phases.choices import PhaseStatus, ReviewStatus, Role, TaskStatus, TransitionKind
from phases.models import Membership, Outcome, Phase, Task, Transition
from phases.selectors import phase_gate
from phases.services import GateNotMet
from tests.factories import UserFactory, lifecycle, make_project

pytestmark = pytest.mark.django_db


def complete(phase: Phase, *, by) -> None:
    """Do everything the gate of ``phase`` asks for, through the services."""
    for task in phase.tasks.filter(required=True):
        services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
    for outcome in phase.outcomes.filter(required=True):
        services.outcome_submit(outcome=outcome, by=by, evidence_url="https://example.com/doc")
        services.outcome_accept(outcome=outcome, by=by)


def phase(project, name: str) -> Phase:
    return project.phases.get(name=name)


# --- Template instantiation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "names"),
    [
        (
            "ml-development-phases",
            ["Ideation and planning", "Experimentation", "Pipeline building", "Productionization"],
        ),
        ("mlops-lifecycle", ["Scoping", "Data", "Modeling", "Deployment"]),
    ],
)
def test_project_from_template_copies_phases_tasks_and_outcomes(slug, names):
    template = lifecycle(slug)
    project = make_project(template=slug, start_date=dt.date(2026, 1, 1))

    phases = list(project.phases.order_by("order"))
    assert [p.name for p in phases] == names
    for phase_, phase_template in zip(phases, template.phase_templates.all(), strict=True):
        assert phase_.goal == phase_template.goal
        assert sorted(phase_.tasks.values_list("title", flat=True)) == sorted(
            phase_template.tasks.values_list("title", flat=True)
        )
        assert sorted(phase_.outcomes.values_list("name", flat=True)) == sorted(
            phase_template.outcomes.values_list("name", flat=True)
        )
        assert set(phase_.outcomes.values_list("review_status", flat=True)) == {"pending"}

    assert [p.status for p in phases] == ["active", "planned", "planned", "planned"]
    assert project.current_phase == phases[0]
    # Planned dates follow one another, each phase as long as its template expects.
    assert phases[0].start_date == dt.date(2026, 1, 1)
    for before, after in itertools.pairwise(phases):
        assert after.start_date == before.due_date + dt.timedelta(days=1)
    start = Transition.objects.get(project=project)
    assert (start.kind, start.from_phase, start.to_phase) == (TransitionKind.START, None, phases[0])


def test_the_mlops_lifecycle_has_the_seven_topics_as_tasks():
    project = make_project(template="mlops-lifecycle")
    assert Task.objects.filter(phase__project=project).count() == 7


def test_owner_becomes_manager():
    owner = UserFactory()
    project = make_project(owner=owner)
    assert Membership.objects.get(project=project, user=owner).role == Role.MANAGER


def test_project_create_refuses_blank_name_and_taken_slug_and_writes_nothing():
    owner = UserFactory()
    with pytest.raises(DomainError) as blank:
        make_project(owner=owner, name="   ")
    assert blank.value.fields == {"name": ["must not be blank"]}

    make_project(owner=owner, name="Churn", slug="churn")
    with pytest.raises(DomainError) as taken:
        make_project(owner=owner, name="Churn again", slug="churn")
    assert "already taken" in taken.value.fields["slug"][0]
    assert Phase.objects.count() == 4


def test_slugs_are_made_unique():
    first = make_project(name="Fraud model")
    second = make_project(name="Fraud model")
    assert (first.slug, second.slug) == ("fraud-model", "fraud-model-2")


# --- Gates ------------------------------------------------------------------------------


def test_gate_lists_every_unmet_criterion_in_words():
    project = make_project()
    gate = phase_gate(phase=project.current_phase)

    assert not gate.met
    messages = [c.message for c in gate.unmet]
    assert len(messages) == 4
    assert any(
        m.startswith("Outcome “A design doc") and "nobody has submitted it" in m for m in messages
    )
    assert any(
        "“Verify that ML is the right solution to the problem” must be done" in m for m in messages
    )


def test_gate_ignores_optional_work_and_holds_when_required_work_is_done():
    owner = UserFactory()
    project = make_project(owner=owner)
    current = project.current_phase
    Task.objects.create(phase=current, title="Nice to have", required=False)
    complete(current, by=owner)

    gate = phase_gate(phase=current)
    assert gate.met
    assert gate.unmet == []
    assert all(c.met for c in gate.criteria)


def test_rejected_outcome_is_unmet_with_the_reviewers_note():
    owner = UserFactory()
    project = make_project(owner=owner)
    outcome = project.current_phase.outcomes.get()
    services.outcome_submit(outcome=outcome, by=owner)
    services.outcome_reject(outcome=outcome, by=owner, note="No cost estimate.")

    [criterion] = [c for c in phase_gate(phase=project.current_phase).unmet if c.kind == "outcome"]
    assert criterion.message.endswith("was rejected: No cost estimate.")


# --- Forward ----------------------------------------------------------------------------


def test_advance_is_refused_with_the_unmet_criteria_and_nothing_moves():
    owner = UserFactory()
    project = make_project(owner=owner)
    first = project.current_phase

    with pytest.raises(GateNotMet) as refused:
        services.phase_advance(project=project, by=owner)

    assert refused.value.code == "gate_not_met"
    assert "Ideation and planning cannot move on to Experimentation yet" in str(refused.value)
    assert len(refused.value.details) == 4
    project.refresh_from_db()
    first.refresh_from_db()
    assert project.current_phase == first
    assert first.status == PhaseStatus.ACTIVE
    assert Transition.objects.filter(project=project).count() == 1


def test_advance_moves_to_the_next_phase_and_records_who_and_why():
    owner, manager = UserFactory(), UserFactory()
    project = make_project(owner=owner)
    first = project.current_phase
    complete(first, by=owner)

    transition = services.phase_advance(project=project, by=manager, reason="Design approved")

    project.refresh_from_db()
    first.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    assert project.current_phase.status == PhaseStatus.ACTIVE
    assert project.current_phase.started_at is not None
    assert first.status == PhaseStatus.COMPLETED
    assert first.ended_at is not None
    assert (transition.kind, transition.from_phase, transition.to_phase) == (
        TransitionKind.FORWARD,
        first,
        project.current_phase,
    )
    assert (transition.by, transition.reason) == (manager, "Design approved")
    assert transition.created_at is not None


def test_advance_walks_every_phase_and_stops_at_the_last():
    owner = UserFactory()
    project = make_project(owner=owner, template="mlops-lifecycle")
    for _ in range(3):
        complete(project.current_phase, by=owner)
        services.phase_advance(project=project, by=owner)
        project.refresh_from_db()
    assert project.current_phase.name == "Deployment"
    assert list(project.phases.values_list("status", flat=True)) == [
        "completed",
        "completed",
        "completed",
        "active",
    ]
    complete(project.current_phase, by=owner)
    with pytest.raises(DomainError) as last:
        services.phase_advance(project=project, by=owner)
    assert last.value.code == "no_next_phase"


def test_advance_cannot_skip_a_phase_the_lifecycle_does_not_allow():
    owner = UserFactory()
    project = make_project(owner=owner)
    complete(project.current_phase, by=owner)

    with pytest.raises(DomainError) as refused:
        services.phase_advance(
            project=project, by=owner, to_phase=phase(project, "Productionization")
        )

    assert refused.value.code == "transition_not_allowed"
    assert "may move to: Experimentation" in refused.value.message
    project.refresh_from_db()
    assert project.current_phase.name == "Ideation and planning"


def test_advance_refuses_a_phase_of_another_project():
    owner = UserFactory()
    project, other = make_project(owner=owner), make_project(owner=owner)
    complete(project.current_phase, by=owner)
    with pytest.raises(DomainError) as refused:
        services.phase_advance(project=project, by=owner, to_phase=phase(other, "Experimentation"))
    assert refused.value.fields == {"to_phase": ["Experimentation belongs to another project"]}


def test_advance_refuses_to_move_backwards():
    owner = UserFactory()
    project = make_project(owner=owner)
    complete(project.current_phase, by=owner)
    services.phase_advance(project=project, by=owner)
    with pytest.raises(DomainError) as refused:
        services.phase_advance(
            project=project, by=owner, to_phase=phase(project, "Ideation and planning")
        )
    assert refused.value.code == "not_forward"


# --- Back -------------------------------------------------------------------------------


def walk_to(project, name: str, *, by) -> None:
    while project.current_phase.name != name:
        complete(project.current_phase, by=by)
        services.phase_advance(project=project, by=by)
        project.refresh_from_db()


def test_loop_back_from_productionization_reopens_experimentation():
    owner = UserFactory()
    project = make_project(owner=owner)
    walk_to(project, "Productionization", by=owner)
    production = project.current_phase

    transition = services.phase_move_back(
        project=project,
        to_phase=phase(project, "Experimentation"),
        by=owner,
        reason="Data drift on the March cohort",
    )

    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    statuses = dict(project.phases.values_list("name", "status"))
    assert statuses == {
        "Ideation and planning": "completed",
        "Experimentation": "active",
        "Pipeline building": "planned",
        "Productionization": "planned",
    }
    assert project.current_phase.ended_at is None
    # Work accepted before the loop must be judged again; earlier phases keep their reviews.
    reviews = dict(
        Outcome.objects.filter(phase__project=project).values_list("phase__name", "review_status")
    )
    assert reviews["Ideation and planning"] == ReviewStatus.ACCEPTED
    assert {reviews["Experimentation"], reviews["Pipeline building"]} == {ReviewStatus.PENDING}
    assert "Data drift" in phase(project, "Experimentation").outcomes.get().review_note
    assert (transition.kind, transition.from_phase, transition.reason) == (
        TransitionKind.BACK,
        production,
        "Data drift on the March cohort",
    )
    assert not phase_gate(phase=project.current_phase).met


def test_move_back_needs_a_reason():
    owner = UserFactory()
    project = make_project(owner=owner)
    walk_to(project, "Experimentation", by=owner)
    with pytest.raises(DomainError) as refused:
        services.phase_move_back(
            project=project, to_phase=phase(project, "Ideation and planning"), by=owner, reason=" "
        )
    assert refused.value.fields == {"reason": ["a move back must say why"]}
    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"


def test_move_back_only_along_an_allowed_loop():
    owner = UserFactory()
    project = make_project(owner=owner)
    walk_to(project, "Productionization", by=owner)
    with pytest.raises(DomainError) as refused:
        services.phase_move_back(
            project=project,
            to_phase=phase(project, "Ideation and planning"),
            by=owner,
            reason="Start over",
        )
    assert refused.value.code == "transition_not_allowed"
    project.refresh_from_db()
    assert project.current_phase.name == "Productionization"
    assert project.transitions.filter(kind=TransitionKind.BACK).count() == 0


def test_move_back_is_possible_even_when_the_gate_does_not_hold():
    owner = UserFactory()
    project = make_project(owner=owner, template="mlops-lifecycle")
    walk_to(project, "Modeling", by=owner)
    assert not phase_gate(phase=project.current_phase).met
    services.phase_move_back(
        project=project, to_phase=phase(project, "Data"), by=owner, reason="Labels are noisy"
    )
    project.refresh_from_db()
    assert project.current_phase.name == "Data"


def test_every_transition_is_in_the_history_in_order():
    owner = UserFactory()
    project = make_project(owner=owner)
    walk_to(project, "Pipeline building", by=owner)
    services.phase_move_back(
        project=project, to_phase=phase(project, "Experimentation"), by=owner, reason="Latency"
    )
    history = list(
        project.transitions.order_by("created_at", "id").values_list(
            "kind", "from_phase__name", "to_phase__name"
        )
    )
    assert history == [
        ("start", None, "Ideation and planning"),
        ("forward", "Ideation and planning", "Experimentation"),
        ("forward", "Experimentation", "Pipeline building"),
        ("back", "Pipeline building", "Experimentation"),
    ]


# --- Outcomes and tasks -----------------------------------------------------------------


def test_outcome_review_cycle():
    owner, reviewer = UserFactory(), UserFactory()
    project = make_project(owner=owner)
    outcome = project.current_phase.outcomes.get()

    outcome = services.outcome_submit(outcome=outcome, by=owner, evidence_url="https://x.org/d")
    assert (outcome.review_status, outcome.submitted_by) == (ReviewStatus.SUBMITTED, owner)
    with pytest.raises(DomainError):
        services.outcome_reject(outcome=outcome, by=reviewer, note="")
    outcome = services.outcome_reject(outcome=outcome, by=reviewer, note="Missing risks")
    assert (outcome.review_status, outcome.reviewer, outcome.review_note) == (
        ReviewStatus.REJECTED,
        reviewer,
        "Missing risks",
    )
    with pytest.raises(DomainError) as not_again:
        services.outcome_accept(outcome=outcome, by=reviewer)
    assert not_again.value.code == "invalid_review_state"
    services.outcome_submit(outcome=outcome, by=owner)
    outcome = services.outcome_accept(outcome=outcome, by=reviewer, note="Good")
    assert outcome.review_status == ReviewStatus.ACCEPTED
    assert outcome.evidence_url == "https://x.org/d"


def test_work_of_a_completed_phase_is_frozen():
    owner = UserFactory()
    project = make_project(owner=owner)
    first = project.current_phase
    complete(first, by=owner)
    services.phase_advance(project=project, by=owner)

    with pytest.raises(DomainError) as frozen:
        services.task_set_status(task=first.tasks.first(), status=TaskStatus.TODO, by=owner)
    assert frozen.value.code == "phase_completed"
    with pytest.raises(DomainError):
        services.outcome_reject(outcome=first.outcomes.get(), by=owner, note="Changed my mind")


def test_task_status_must_be_known():
    project = make_project()
    with pytest.raises(DomainError) as refused:
        services.task_set_status(task=project.current_phase.tasks.first(), status="nope", by=None)
    assert list(refused.value.fields) == ["status"]


# --- Database invariants ----------------------------------------------------------------


def test_database_keeps_at_most_one_active_phase_per_project():
    project = make_project()
    with pytest.raises(IntegrityError), transaction.atomic():
        Phase.objects.filter(project=project).update(status=PhaseStatus.ACTIVE)


def test_database_refuses_a_back_transition_without_reason():
    project = make_project()
    first, second = project.phases.order_by("order")[:2]
    with pytest.raises(IntegrityError), transaction.atomic():
        Transition.objects.create(
            project=project, kind=TransitionKind.BACK, from_phase=second, to_phase=first
        )


# --- Evidence rules ---------------------------------------------------------------------


def test_an_evidence_rule_without_an_evaluator_is_an_unmet_criterion(monkeypatch):
    from phases import gates

    monkeypatch.setattr(gates, "_evidence_checks", {})
    owner = UserFactory()
    project = make_project(owner=owner)
    outcome = project.current_phase.outcomes.get()
    services.outcome_update(outcome=outcome, by=owner, evidence_rule="best_run_meets_target")
    complete(project.current_phase, by=owner)

    gate = phase_gate(phase=project.current_phase)
    [unmet] = gate.unmet
    assert (unmet.kind, unmet.subject) == ("evidence", outcome.name)
    assert "Nothing can evaluate the evidence rule" in unmet.message


def test_a_registered_evidence_check_decides_its_criterion(monkeypatch):
    from phases import gates
    from phases.choices import EvidenceRule

    seen = []

    def check(outcome):
        seen.append(outcome.pk)
        return gates.Criterion("evidence", outcome.name, True, "Run 7 reaches 0.91.", {"run": 7})

    monkeypatch.setattr(gates, "_evidence_checks", {})
    gates.register_evidence_check(EvidenceRule.BEST_RUN_MEETS_TARGET, check)
    owner = UserFactory()
    project = make_project(owner=owner)
    outcome = project.current_phase.outcomes.get()
    services.outcome_update(outcome=outcome, by=owner, evidence_rule="best_run_meets_target")
    complete(project.current_phase, by=owner)

    gate = phase_gate(phase=project.current_phase)
    assert gate.met
    assert seen == [outcome.pk]
    assert [c.evidence for c in gate.criteria if c.kind == "evidence"] == [{"run": 7}]


def test_an_unknown_evidence_rule_is_refused():
    project = make_project()
    with pytest.raises(DomainError) as refused:
        services.outcome_update(
            outcome=project.current_phase.outcomes.get(), by=None, evidence_rule="vibes"
        )
    assert list(refused.value.fields) == ["evidence_rule"]

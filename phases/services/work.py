"""The work inside a phase: tasks, and outcomes with their evidence and review."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.choices import (
    EvidenceRule,
    OutcomeKind,
    PhaseStatus,
    ReviewStatus,
    TaskStatus,
)
from phases.models import (
    Membership,
    Outcome,
    Phase,
    Task,
)
from phases.services.common import _assign, _not_blank, _one_of, _only

User = AbstractBaseUser

User = AbstractBaseUser


# --- Tasks ------------------------------------------------------------------------------


TASK_FIELDS = frozenset(
    {"title", "description", "assignee", "status", "priority", "required", "due_date", "order"}
)


def _open_phase(phase: Phase, subject: str) -> None:
    if phase.status == PhaseStatus.COMPLETED:
        raise DomainError(
            "phase_completed",
            f"{phase.name} is completed; move the project back to it to change {subject}.",
        )


def _check_task_fields(fields: dict, *, project_id: int) -> None:
    _not_blank(fields, "title")
    _one_of(fields, "status", TaskStatus)
    assignee = fields.get("assignee")
    if (
        assignee is not None
        and not Membership.objects.filter(project_id=project_id, user=assignee).exists()
    ):
        raise DomainError.invalid("assignee", f"{assignee} is not a member of the project")


@transaction.atomic
def task_create(*, phase: Phase, by: User | None, title: str, **fields) -> Task:
    _only(fields, TASK_FIELDS)
    fields["title"] = title
    _check_task_fields(fields, project_id=phase.project_id)
    _open_phase(phase, f"“{fields['title']}”")
    fields.setdefault("due_date", phase.due_date)
    return Task.objects.create(phase=phase, **fields)


@transaction.atomic
def follow_up_task_create(
    *,
    phase: Phase,
    by: User | None,
    title: str,
    description: str = "",
    priority: str = "high",
    assignee: User | None = None,
) -> Task:
    """Work that a later phase hands back to ``phase`` (an alert from production, say).

    Unlike ``task_create`` this works on a completed phase too: the task is required, so
    when the project loops back to the phase its gate asks for the task to be done.

    It is due when its phase is. Being required, it holds the gate, so the phase cannot
    end before it: a date of its own earlier than the phase's would be a guess at how big
    the work is (looking into drift or retraining), which every follow-up differs in. A
    task waiting in a completed phase carries that phase's old due date, and the move back
    that reopens the phase shifts it by the phase's slip (``_replan_from``), to the due
    date of the reopened phase: it is never undated while it blocks the gate.
    """
    fields = {"title": title, "description": description, "priority": priority}
    if assignee is not None:
        fields["assignee"] = assignee
    _check_task_fields(fields, project_id=phase.project_id)
    return Task.objects.create(phase=phase, required=True, due_date=phase.due_date, **fields)


@transaction.atomic
def task_update(*, task: Task, by: User | None, **fields) -> Task:
    _only(fields, TASK_FIELDS)
    task = locked(task, "phase")
    _check_task_fields(fields, project_id=task.phase.project_id)
    _open_phase(task.phase, f"“{task.title}”")
    return _assign(task, fields)


def task_set_status(*, task: Task, status: str, by: User | None) -> Task:
    return task_update(task=task, by=by, status=status)


# --- Outcomes ---------------------------------------------------------------------------


OUTCOME_FIELDS = frozenset(
    {"name", "description", "kind", "required", "order", "evidence_url", "evidence_rule"}
)


# What RFC 3986 allows in a URI, percent-encoded bytes included: a link shown on pages and
# in the API as a URI never holds quotes, angle brackets, spaces or other characters.
_URI_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def _check_evidence_url(url: str) -> None:
    if url and not _URI_CHARACTERS.issuperset(url):
        raise DomainError.invalid(
            "evidence_url",
            "must be a URI: letters, digits and -._~:/?#[]@!$&'()*+,;=% only "
            "(percent-encode anything else)",
        )


def _check_outcome_fields(fields: dict) -> None:
    _not_blank(fields, "name")
    _check_evidence_url(fields.get("evidence_url", ""))
    _one_of(fields, "kind", OutcomeKind)
    rule = fields.get("evidence_rule", "")
    if rule and rule not in EvidenceRule.values:
        raise DomainError.invalid(
            "evidence_rule", f"must be empty or one of {', '.join(EvidenceRule.values)}"
        )


@transaction.atomic
def outcome_create(*, phase: Phase, by: User | None, name: str, **fields) -> Outcome:
    _only(fields, OUTCOME_FIELDS)
    fields["name"] = name
    _check_outcome_fields(fields)
    _open_phase(phase, f"“{fields['name']}”")
    return Outcome.objects.create(phase=phase, **fields)


@transaction.atomic
def outcome_update(*, outcome: Outcome, by: User | None, **fields) -> Outcome:
    """Edit an outcome's description or evidence; its review moves only through review."""
    _only(fields, OUTCOME_FIELDS)
    _check_outcome_fields(fields)
    return _assign(_locked_outcome(outcome), fields)


def _locked_outcome(outcome: Outcome) -> Outcome:
    outcome = locked(outcome, "phase")
    _open_phase(outcome.phase, f"“{outcome.name}”")
    return outcome


@transaction.atomic
def outcome_submit(*, outcome: Outcome, by: User | None, evidence_url: str = "") -> Outcome:
    outcome = _locked_outcome(outcome)
    _review_from(outcome, (ReviewStatus.PENDING, ReviewStatus.REJECTED), "submitted")
    _check_evidence_url(evidence_url)
    if evidence_url:
        outcome.evidence_url = evidence_url
    outcome.review_status = ReviewStatus.SUBMITTED
    outcome.submitted_by = by
    outcome.submitted_at = timezone.now()
    outcome.save()
    return outcome


@transaction.atomic
def outcome_accept(*, outcome: Outcome, by: User | None, note: str = "") -> Outcome:
    outcome = _locked_outcome(outcome)
    _review_from(outcome, (ReviewStatus.PENDING, ReviewStatus.SUBMITTED), "accepted")
    return _review(outcome, by=by, status=ReviewStatus.ACCEPTED, note=note)


@transaction.atomic
def outcome_reject(*, outcome: Outcome, by: User | None, note: str) -> Outcome:
    note = note.strip()
    if not note:
        raise DomainError.invalid("note", "a rejection must say what is missing")
    outcome = _locked_outcome(outcome)
    if outcome.review_status == ReviewStatus.REJECTED:
        raise DomainError("invalid_review_state", f"“{outcome.name}” is already rejected.")
    return _review(outcome, by=by, status=ReviewStatus.REJECTED, note=note)


def _review_from(outcome: Outcome, allowed: tuple[str, ...], done: str) -> None:
    """Refuse a review step from a state it does not start from, naming the ones it does."""
    if outcome.review_status not in allowed:
        states = " or ".join(ReviewStatus(state).label.lower() for state in allowed)
        raise DomainError(
            "invalid_review_state",
            f"“{outcome.name}” is {outcome.get_review_status_display().lower()}; only a "
            f"{states} outcome can be {done}.",
        )


def _review(outcome: Outcome, *, by: User | None, status: str, note: str) -> Outcome:
    outcome.review_status = status
    outcome.reviewer = by
    outcome.reviewed_at = timezone.now()
    outcome.review_note = note.strip()
    outcome.save()
    return outcome

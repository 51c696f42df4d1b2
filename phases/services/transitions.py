"""Moves through the lifecycle: advance through a gate, complete, move back and re-plan."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.choices import (
    PhaseStatus,
    ReviewStatus,
    TransitionKind,
)
from phases.gates import GateResult
from phases.models import (
    Outcome,
    Phase,
    Project,
    Task,
    Transition,
    TransitionRule,
)
from phases.selectors import next_phase, phase_gate, reopened_due
from phases.services.health import project_health_refresh

User = AbstractBaseUser

User = AbstractBaseUser


# --- Transitions ------------------------------------------------------------------------


def _lock(project: Project) -> tuple[Project, Phase]:
    """Lock the project row so two transitions of one project run one after the other."""
    project = locked(project)
    current = project.current_phase
    if current is None:
        raise DomainError("no_active_phase", f"{project} has no active phase to move from.")
    return project, current


def _enter(phase: Phase, *, project: Project) -> None:
    now = timezone.now()
    phase.status = PhaseStatus.ACTIVE
    phase.started_at = now
    phase.ended_at = None
    phase.save(update_fields=["status", "started_at", "ended_at"])
    project.current_phase = phase
    project.save(update_fields=["current_phase", "updated_at"])


def _rule(current: Phase, target: Phase) -> TransitionRule:
    rule = (
        TransitionRule.objects.select_related("source", "target")
        .filter(source_id=current.template_id, target_id=target.template_id)
        .first()
    )
    if rule is None:
        allowed = ", ".join(
            TransitionRule.objects.filter(source_id=current.template_id).values_list(
                "target__name", flat=True
            )
        )
        raise DomainError(
            "transition_not_allowed",
            f"The lifecycle does not allow moving from {current.name} to {target.name}. "
            f"From {current.name} a project may move to: {allowed or 'nowhere'}.",
        )
    return rule


def _target(project: Project, phase: Phase | None) -> Phase | None:
    if phase is not None and phase.project_id != project.pk:
        raise DomainError.invalid("to_phase", f"{phase.name} belongs to another project")
    return phase


class GateNotMet(DomainError):
    """Refusal to leave a phase forward (or to complete the project from its last phase),
    carrying the gate that said no."""

    def __init__(self, gate: GateResult, target: Phase | None) -> None:
        unmet = gate.unmet
        lines = "\n".join(f"- {c.message}" for c in unmet)
        count = "1 criterion is" if len(unmet) == 1 else f"{len(unmet)} criteria are"
        step = f"move on to {target.name}" if target else "complete the project"
        self.headline = f"{gate.phase.name} cannot {step} yet; {count} unmet:"
        super().__init__(
            "gate_not_met", f"{self.headline}\n{lines}", details=[c.as_dict() for c in unmet]
        )
        self.gate = gate
        self.target = target


def _not_completed(project: Project, current: Phase) -> None:
    if project.completed_at is not None:
        raise DomainError(
            "project_completed",
            f"{project} is completed; loop back to an earlier phase to reopen it.",
        )


@transaction.atomic
def phase_advance(
    *, project: Project, by: User | None, to_phase: Phase | None = None, reason: str = ""
) -> Transition:
    """Move a project forward when the gate of its current phase holds.

    Without ``to_phase`` the project moves to the nearest phase the lifecycle allows.
    """
    project, current = _lock(project)
    _not_completed(project, current)
    target = _target(project, to_phase)
    if target is None:
        target = next_phase(project=project)
        if target is None:
            raise DomainError(
                "no_next_phase",
                f"{current.name} is the last phase of {project}; there is nothing to advance "
                "to. Complete the project when its gate holds.",
            )
    if target.order <= current.order:
        raise DomainError(
            "not_forward",
            f"{target.name} does not come after {current.name}; moving back needs a reason "
            "and the move-back action.",
        )
    _rule(current, target)
    gate = phase_gate(phase=current)
    if not gate.met:
        raise GateNotMet(gate, target)

    current.status = PhaseStatus.COMPLETED
    current.ended_at = timezone.now()
    current.save(update_fields=["status", "ended_at"])
    return _move(project, current, target, kind=TransitionKind.FORWARD, by=by, reason=reason)


@transaction.atomic
def project_complete(*, project: Project, by: User | None, reason: str = "") -> Transition:
    """Finish a project at the last phase of its lifecycle, when that phase's gate holds.

    Recorded like a move (a ``complete`` transition that stays in the phase), so the history
    shows who finished it and why; a loop back reopens it. A completed project raises no
    health alarm.
    """
    project, current = _lock(project)
    _not_completed(project, current)
    ahead = next_phase(project=project)
    if ahead is not None:
        raise DomainError(
            "not_last_phase",
            f"{current.name} is not the last phase of {project}: advance to {ahead.name} first.",
        )
    gate = phase_gate(phase=current)
    if not gate.met:
        raise GateNotMet(gate, None)
    now = timezone.now()
    current.status = PhaseStatus.COMPLETED
    current.ended_at = now
    current.save(update_fields=["status", "ended_at"])
    project.completed_at = now
    project.save(update_fields=["completed_at", "updated_at"])
    return _record(project, current, current, kind=TransitionKind.COMPLETE, by=by, reason=reason)


def _replan_from(project: Project, target: Phase, due_date: dt.date | None) -> None:
    """Give the reopened ``target`` a plan from today, and shift every later phase (and the
    tasks of all of them) by the same slip, so a loop back is not late on arrival."""
    today = timezone.localdate()
    due = due_date or reopened_due(phase=target, today=today)
    if due < today:
        raise DomainError.invalid(
            "due_date",
            f"must not be before today ({today.day} {today:%b %Y}), when {target.name} reopens",
        )
    slip = dt.timedelta(days=(due - target.due_date).days if target.due_date else 0)
    target.start_date, target.due_date = today, due
    target.save(update_fields=["start_date", "due_date"])
    later = list(project.phases.filter(order__gt=target.order))
    for phase in later:
        phase.start_date = phase.start_date + slip if phase.start_date else None
        phase.due_date = phase.due_date + slip if phase.due_date else None
    Phase.objects.bulk_update(later, ["start_date", "due_date"])
    if slip:
        Task.objects.filter(
            phase__project=project, phase__order__gte=target.order, due_date__isnull=False
        ).update(due_date=F("due_date") + slip)


@transaction.atomic
def phase_move_back(
    *,
    project: Project,
    to_phase: Phase,
    by: User | None,
    reason: str,
    due_date: dt.date | None = None,
) -> Transition:
    """Loop back to an earlier phase along an allowed edge; always possible, never silent.

    The target phase is reopened, every phase after it returns to planned, and the outcomes
    of all of them go back to pending review: what was accepted before the loop must be
    judged again on the new work. The target is re-planned from today to ``due_date``
    (by default as long as it was planned to last) and the later phases slip as much; a
    completed project reopens.
    """
    reason = reason.strip()
    if not reason:
        raise DomainError.invalid("reason", "a move back must say why")
    project, current = _lock(project)
    target = _target(project, to_phase)
    if target.order >= current.order:
        raise DomainError(
            "not_back",
            f"{target.name} does not come before {current.name}; use advance to move forward.",
        )
    _rule(current, target)

    now = timezone.now()
    later = list(project.phases.filter(order__gt=target.order).exclude(status=PhaseStatus.PLANNED))
    for phase in later:
        if phase.pk == current.pk and phase.ended_at is None:
            phase.ended_at = now
        phase.status = PhaseStatus.PLANNED
    Phase.objects.bulk_update(later, ["status", "ended_at"])
    Outcome.objects.filter(
        phase__project=project,
        phase__order__gte=target.order,
        phase__order__lte=current.order,
    ).exclude(review_status=ReviewStatus.PENDING).update(
        review_status=ReviewStatus.PENDING,
        review_note=f"Reopened when {project} moved back to {target.name}: {reason}",
    )
    _replan_from(project, target, due_date)
    if project.completed_at is not None:
        project.completed_at = None
        project.save(update_fields=["completed_at", "updated_at"])
    return _move(project, current, target, kind=TransitionKind.BACK, by=by, reason=reason)


def _move(
    project: Project, current: Phase, target: Phase, *, kind: str, by: User | None, reason: str
) -> Transition:
    """Enter ``target`` and record the move; the caller has closed ``current`` as its kind
    of move requires."""
    _enter(target, project=project)
    return _record(project, current, target, kind=kind, by=by, reason=reason)


def _record(
    project: Project, current: Phase, target: Phase, *, kind: str, by: User | None, reason: str
) -> Transition:
    """The transition row of a move or a completion, and the project's health after it."""
    transition = Transition.objects.create(
        project=project,
        kind=kind,
        from_phase=current,
        to_phase=target,
        by=by,
        reason=reason.strip(),
    )
    # Health depends on the active phase and on completion: every surface shows it at once.
    project_health_refresh(project_ids=[project.pk])
    return transition

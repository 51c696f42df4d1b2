"""Every write of the lifecycle domain that matters. Keyword-only, atomic, audited.

Views, admin actions, tasks and commands call these; none of them writes the models
directly. Refusals raise :class:`mlprojects.exceptions.DomainError` and leave nothing
half-written.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, TextChoices
from django.utils import timezone
from django.utils.text import slugify

from mlprojects.exceptions import DomainError
from phases import health
from phases.choices import (
    EvidenceRule,
    MetricDirection,
    OutcomeKind,
    PhaseStatus,
    ReviewStatus,
    Role,
    TaskStatus,
    TransitionKind,
)
from phases.gates import GateResult
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    Project,
    Task,
    Transition,
    TransitionRule,
    copied,
)
from phases.selectors import next_phase, phase_gate, projects_for_health, reopened_due

User = AbstractBaseUser


# --- Projects ---------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "project"
    taken = set(Project.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def project_create(
    *,
    lifecycle: LifecycleTemplate,
    name: str,
    owner: User,
    by: User | None = None,
    slug: str = "",
    description: str = "",
    success_metric: str = "",
    success_metric_label: str = "",
    success_target: float | None = None,
    success_direction: str = MetricDirection.MAXIMIZE,
    start_date: dt.date | None = None,
) -> Project:
    """Create a project with the phases, tasks and outcomes of its lifecycle template.

    Phases are laid out one after another from ``start_date`` using each template's expected
    duration; the first phase starts at once, and the owner becomes a manager.
    """
    name = name.strip()
    if not name:
        raise DomainError.invalid("name", "must not be blank")
    if slug:
        if slug != slugify(slug):
            raise DomainError.invalid("slug", "may hold only lowercase letters, digits and dashes")
        if Project.objects.filter(slug=slug).exists():
            raise DomainError.invalid("slug", f"“{slug}” is already taken by another project")
    if success_direction not in MetricDirection.values:
        raise DomainError.invalid("success_direction", "must be maximize or minimize")
    templates = list(lifecycle.phase_templates.prefetch_related("tasks", "outcomes"))
    if not templates:
        raise DomainError.invalid("lifecycle", f"“{lifecycle}” has no phases to start from")

    project = Project.objects.create(
        name=name,
        slug=slug or _unique_slug(name),
        description=description,
        owner=owner,
        lifecycle=lifecycle,
        success_metric=success_metric,
        success_metric_label=success_metric_label.strip(),
        success_target=success_target,
        success_direction=success_direction,
    )
    Membership.objects.create(project=project, user=owner, role=Role.MANAGER)

    start = start_date or timezone.localdate()
    phases, tasks, outcomes = [], [], []
    for template in templates:
        due = start + dt.timedelta(days=max(template.expected_days, 1) - 1)
        phase = Phase(
            project=project,
            template=template,
            order=template.order,
            name=template.name,
            goal=template.goal,
            start_date=start,
            due_date=due,
        )
        phases.append(phase)
        tasks += [Task(phase=phase, due_date=due, **copied(t)) for t in template.tasks.all()]
        outcomes += [Outcome(phase=phase, **copied(o)) for o in template.outcomes.all()]
        start = due + dt.timedelta(days=1)
    project.planned_finish = phases[-1].due_date
    project.save(update_fields=["planned_finish"])
    Phase.objects.bulk_create(phases)
    Task.objects.bulk_create(tasks)
    Outcome.objects.bulk_create(outcomes)

    first = phases[0]
    _enter(first, project=project)
    Transition.objects.create(
        project=project, kind=TransitionKind.START, to_phase=first, by=by or owner
    )
    return project


PROJECT_FIELDS = frozenset(
    {
        "name",
        "description",
        "success_metric",
        "success_metric_label",
        "success_target",
        "success_direction",
    }
)


@transaction.atomic
def project_update(*, project: Project, by: User | None, **fields) -> Project:
    """Change a project's plain fields; its phase moves only through the transition services."""
    _only(fields, PROJECT_FIELDS)
    _not_blank(fields, "name")
    if "success_metric_label" in fields:
        fields["success_metric_label"] = fields["success_metric_label"].strip()
    if fields.get("success_direction", MetricDirection.MAXIMIZE) not in MetricDirection.values:
        raise DomainError.invalid("success_direction", "must be maximize or minimize")
    return _assign(project, fields)


def _only(fields: dict, allowed: frozenset[str]) -> None:
    unknown = sorted(fields.keys() - allowed)
    if unknown:
        raise DomainError.invalid(unknown[0], "cannot be changed here")


def _not_blank(fields: dict, name: str) -> None:
    """Strip the text field ``name`` in place, when it is given; blank is refused."""
    if name in fields:
        fields[name] = fields[name].strip()
        if not fields[name]:
            raise DomainError.invalid(name, "must not be blank")


def _one_of(fields: dict, name: str, choices: type[TextChoices]) -> None:
    if name in fields and fields[name] not in choices.values:
        raise DomainError.invalid(name, f"must be one of {', '.join(choices.values)}")


def _assign(instance, fields: dict):
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save()
    return instance


@transaction.atomic
def membership_set(*, project: Project, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise DomainError.invalid("role", f"must be one of {', '.join(Role.values)}")
    if user.pk == project.owner_id and role != Role.MANAGER:
        rule = "the project's owner is always a manager"
        raise DomainError("owner_is_manager", f"role: {rule}", fields={"role": [rule]})
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if membership.user_id == membership.project.owner_id:
        rule = "the project's owner cannot be removed"
        raise DomainError("owner_is_manager", f"user: {rule}", fields={"user": [rule]})
    membership.delete()


# --- Phases -----------------------------------------------------------------------------


@transaction.atomic
def phase_update(*, phase: Phase, by: User | None, **fields) -> Phase:
    """Re-plan a phase's dates; its status moves only through transitions."""
    _only(fields, frozenset({"start_date", "due_date"}))
    start = fields.get("start_date", phase.start_date)
    due = fields.get("due_date", phase.due_date)
    if start and due and due < start:
        raise DomainError.invalid("due_date", "must not be before the start date")
    return _assign(phase, fields)


# --- Transitions ------------------------------------------------------------------------


def _lock(project: Project) -> tuple[Project, Phase]:
    """Lock the project row so two transitions of one project run one after the other."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    current = locked.current_phase
    if current is None:
        raise DomainError("no_active_phase", f"{locked} has no active phase to move from.")
    return locked, current


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
    transition = Transition.objects.create(
        project=project,
        kind=TransitionKind.COMPLETE,
        from_phase=current,
        to_phase=current,
        by=by,
        reason=reason.strip(),
    )
    project_health_refresh(project_ids=[project.pk])
    return transition


def _replan_from(project: Project, target: Phase, due_date: dt.date | None) -> None:
    """Give the reopened ``target`` a plan from today, and shift every later phase (and the
    tasks of all of them) by the same slip, so a loop back is not late on arrival."""
    today = timezone.localdate()
    due = due_date or reopened_due(phase=target, today=today)
    if due < today:
        raise DomainError.invalid(
            "due_date", f"must not be before today ({today:%Y-%m-%d}), when {target.name} reopens"
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
    transition = Transition.objects.create(
        project=project,
        kind=kind,
        from_phase=current,
        to_phase=target,
        by=by,
        reason=reason.strip(),
    )
    # Health depends on the active phase: every surface shows the new one at once.
    project_health_refresh(project_ids=[project.pk])
    return transition


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
    """
    fields = {"title": title, "description": description, "priority": priority}
    if assignee is not None:
        fields["assignee"] = assignee
    _check_task_fields(fields, project_id=phase.project_id)
    due = None if phase.status == PhaseStatus.COMPLETED else phase.due_date
    return Task.objects.create(phase=phase, required=True, due_date=due, **fields)


@transaction.atomic
def task_update(*, task: Task, by: User | None, **fields) -> Task:
    _only(fields, TASK_FIELDS)
    task = Task.objects.select_for_update().select_related("phase").get(pk=task.pk)
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
    locked = Outcome.objects.select_for_update().select_related("phase").get(pk=outcome.pk)
    _open_phase(locked.phase, f"“{locked.name}”")
    return locked


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


# --- Health -----------------------------------------------------------------------------


def project_health_refresh(*, project_ids: list[int] | None = None) -> int:
    """Recompute health for the given projects (all when ``None``); returns how many changed.

    Reads in batches and writes with bulk updates outside one long transaction, so a
    schedule over thousands of projects never holds row locks for long.
    """
    today = timezone.localdate()
    now = timezone.now()
    checked, changed = [], 0
    for project in projects_for_health(project_ids=project_ids):
        # A completed project has nothing left to be late or blocked on.
        phase = project.current_phase if project.completed_at is None else None
        result = health.assess(
            phase,
            tasks=phase.tasks.all() if phase else (),
            outcomes=phase.outcomes.all() if phase else (),
            today=today,
            red_after_days=settings.MLPROJECTS_RED_AFTER_DAYS,
        )
        changed += (project.health, project.health_reasons) != (result.health, result.reasons)
        project.health = result.health
        project.health_reasons = result.reasons
        project.health_checked_at = now
        checked.append(project)
    Project.objects.bulk_update(
        checked, ["health", "health_reasons", "health_checked_at"], batch_size=500
    )
    return changed

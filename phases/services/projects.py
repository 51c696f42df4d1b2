"""Projects, their members, and the plan of their phases."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mlprojects.exceptions import DomainError
from phases.choices import MetricDirection, Role, TransitionKind
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    Project,
    Task,
    Transition,
    copied,
)
from phases.services.common import _assign, _not_blank, _only
from phases.services.transitions import _enter

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

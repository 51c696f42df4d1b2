"""Reads of the lifecycle domain, shaped for pages and endpoints and free of N+1 queries."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Least

from phases import gates
from phases.choices import PhaseStatus, TaskStatus, TransitionKind
from phases.models import Outcome, Phase, Project, Task, Transition, TransitionRule

# --- Where a project may go from here ----------------------------------------------------
#
# The lifecycle graph is read here only: the transition services, the admin and the
# dashboard ask these functions where a project may move. A move is allowed along a rule
# of the lifecycle from the template of the project's current phase to the template of the
# target; forward or back is decided by the order of the project's own phases (its copy of
# the lifecycle, which later edits of the template do not rewrite), as the services check it.


def _reachable(phases: QuerySet[Phase]) -> QuerySet[Phase]:
    """Those of ``phases`` that a rule leads to from their project's current phase."""
    rules = TransitionRule.objects.filter(
        source_id=OuterRef("project__current_phase__template_id"), target_id=OuterRef("template_id")
    )
    return phases.filter(Exists(rules))


def next_phase(*, project: Project) -> Phase | None:
    """The phase an advance moves to when none is named: the nearest one forward that the
    lifecycle allows from the current phase; ``None`` at the end (or with no current phase)."""
    forward = project.phases.filter(order__gt=F("project__current_phase__order"))
    return _reachable(forward).order_by("order").first()


def back_targets(*, project: Project) -> QuerySet[Phase]:
    """The earlier phases the lifecycle lets the project loop back to, nearest first."""
    back = project.phases.filter(order__lt=F("project__current_phase__order"))
    return _reachable(back).order_by("-order")


def back_targets_of(*, projects: Iterable[Project]) -> dict[int, list[Phase]]:
    """:func:`back_targets` of several projects in one query, by project id; a project with
    nowhere to go back to is left out."""
    back = Phase.objects.filter(
        project__in=[project.pk for project in projects],
        order__lt=F("project__current_phase__order"),
    )
    targets: dict[int, list[Phase]] = defaultdict(list)
    for phase in _reachable(back).order_by("project_id", "-order"):
        targets[phase.project_id].append(phase)
    return dict(targets)


def reopened(phase_id) -> QuerySet[Transition]:
    """The loop backs into a phase, latest first: ``.values("created_at")[:1]`` is when it
    was last reopened, as a subquery or read on its own."""
    return Transition.objects.filter(to_phase_id=phase_id, kind=TransitionKind.BACK).order_by(
        "-created_at", "-id"
    )


def reopened_at(*, phase_id: int) -> dt.datetime | None:
    """When the phase was last reopened by a loop back; ``None`` if it never was. After it,
    only new evidence counts for the phase's gate (``experiments.evidence``)."""
    return reopened(phase_id).values_list("created_at", flat=True).first()


def planned_days(phase: Phase) -> int:
    """How long ``phase`` was planned to last, in days (its template's length without a plan)."""
    if phase.start_date and phase.due_date:
        return (phase.due_date - phase.start_date).days + 1
    return max(phase.template.expected_days, 1)


def reopened_due(*, phase: Phase, today: dt.date) -> dt.date:
    """The due date a loop back gives ``phase`` unless told otherwise: as many days from
    ``today`` as it was planned to take."""
    return today + dt.timedelta(days=planned_days(phase) - 1)


# --- Where a project stands in time ----------------------------------------------------
#
# A completed project stays pointed at the phase it finished in, so pages can say where it
# ended, but it is in no phase: nothing of it is due or late, and it spends no time in a
# phase. The dashboard's portfolio and status page ask these reads rather than read
# ``current_phase`` alone.

_IN_A_PHASE = Q(completed_at__isnull=True, current_phase__isnull=False)


def in_a_phase(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Those of ``projects`` in a phase now: started and not completed."""
    return projects.filter(_IN_A_PHASE)


def with_dates(projects: QuerySet[Project]) -> QuerySet[Project]:
    """``projects`` annotated with ``in_phase_since``, when each entered the phase it is in,
    and ``next_due``, the earlier of that phase's due date and its next open task's; both
    ``None`` for a project in no phase."""
    task_due = Subquery(
        Task.objects.filter(phase=OuterRef("current_phase"), due_date__isnull=False)
        .exclude(status=TaskStatus.DONE)
        .order_by("due_date")
        .values("due_date")[:1]
    )
    phase_due = F("current_phase__due_date")
    return projects.annotate(
        in_phase_since=Case(When(_IN_A_PHASE, then=F("current_phase__started_at"))),
        # Either date may be missing, and LEAST treats a NULL differently on each database.
        next_due=Case(
            When(
                _IN_A_PHASE,
                then=Least(Coalesce(task_due, phase_due), Coalesce(phase_due, task_due)),
            )
        ),
    )


def forecast_finish(phases: Iterable[Phase], *, today: dt.date) -> dt.date | None:
    """When the plan of a project with these ``phases`` says it will finish, seen ``today``.

    Remaining work is never scheduled in the past: the active phase ends on its due date,
    or today if that has passed, and each phase after it starts the day after the one
    before ends (not before its own planned start) and lasts as long as it was planned.
    This is the status-date rule of MS Project ("reschedule uncompleted work to start
    after the status date") and the data date of Primavera P6. A pace read from the tasks
    done would be a guess: tasks differ in size, a phase with none done yet has no pace,
    and every task added would move the finish. Today is the earliest the late phase can
    end; a manager who knows it needs longer re-plans it, and the forecast follows.
    Without an active phase (a completed project) it is the plan's last due date.
    """
    ordered = sorted(phases, key=lambda phase: phase.order)
    active = next((p for p in ordered if p.status == PhaseStatus.ACTIVE), None)
    if active is None:
        return max((p.due_date for p in ordered if p.due_date), default=None)
    start = active.start_date or today
    end = max(active.due_date or start + dt.timedelta(days=planned_days(active) - 1), today)
    for phase in ordered:
        if phase.order > active.order:
            start = max(end + dt.timedelta(days=1), phase.start_date or end)
            end = start + dt.timedelta(days=planned_days(phase) - 1)
    return end


def phase_gate(*, phase: Phase) -> gates.GateResult:
    """Evaluate the gate of ``phase`` from the database, without moving anything."""
    return gates.evaluate(
        phase,
        tasks=Task.objects.filter(phase=phase, required=True),
        outcomes=Outcome.objects.filter(phase=phase, required=True),
    )


def projects_for_health(*, project_ids: list[int] | None = None) -> Iterator[Project]:
    """Projects with their active phase, its tasks and its outcomes, in three queries a batch."""
    qs = Project.objects.select_related("current_phase").prefetch_related(
        Prefetch("current_phase__tasks", queryset=Task.objects.order_by("due_date", "id")),
        Prefetch("current_phase__outcomes", queryset=Outcome.objects.all()),
    )
    if project_ids is not None:
        qs = qs.filter(pk__in=project_ids)
    return qs.order_by("pk").iterator(chunk_size=500)

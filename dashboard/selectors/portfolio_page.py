"""The portfolio page: one page of projects, and charts over every filtered project."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lead
from django.utils import timezone

from dashboard import figures
from dashboard.selectors.common import display_name
from phases.choices import TaskStatus, TransitionKind
from phases.models import LifecycleTemplate, Phase, Project, Task, Transition
from phases.roles import visible_projects

PAGE_SIZE = 50
RECENT_LOOP_BACKS = 10


@dataclass(frozen=True, slots=True)
class PortfolioFilters:
    phase: str = ""
    health: str = ""
    owner: int | None = None
    lifecycle: str = ""


@dataclass(frozen=True, slots=True)
class FilterChoices:
    phases: list[str]
    owners: list[tuple[int, str]]
    lifecycles: list[tuple[str, str]]
    # The lifecycles of every visible project with their phases, which the portfolio's
    # funnel reuses instead of reading them again.
    templates: list[LifecycleTemplate]


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    project: Project
    owner: str
    phase: Phase | None
    days_in_phase: int | None
    next_due: dt.date | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class LoopBackRow(figures.LoopBack):
    slug: str


@dataclass(slots=True)
class Portfolio:
    page: Page
    rows: list[PortfolioRow]
    funnel: list[figures.LifecycleFunnel]
    durations: list[figures.PhaseDurations]
    loop_backs: list[LoopBackRow]
    recent_loop_backs: list[LoopBackRow]


def _filtered(user, filters: PortfolioFilters) -> QuerySet[Project]:
    qs = visible_projects(user)
    if filters.phase:
        qs = qs.filter(current_phase__name=filters.phase)
    if filters.health:
        qs = qs.filter(health=filters.health)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.lifecycle:
        qs = qs.filter(lifecycle__slug=filters.lifecycle)
    return qs


def _lifecycles(project_ids: QuerySet) -> list[LifecycleTemplate]:
    return list(
        LifecycleTemplate.objects.filter(pk__in=project_ids.values("lifecycle_id"))
        .prefetch_related("phase_templates")
        .order_by("name")
    )


def filter_choices(user) -> FilterChoices:
    """What the portfolio's filters offer: only values that occur in projects ``user`` sees."""
    visible = visible_projects(user)
    lifecycles = _lifecycles(visible)
    phases = sorted({p.name for lc in lifecycles for p in lc.phase_templates.all()})
    owners = (
        get_user_model()
        .objects.filter(pk__in=visible.values("owner_id"))
        .order_by("first_name", "last_name", "username")
    )
    return FilterChoices(
        phases=phases,
        owners=[(user.pk, display_name(user)) for user in owners],
        lifecycles=[(lc.slug, lc.name) for lc in lifecycles],
        templates=lifecycles,
    )


def _row(project: Project, *, now: dt.datetime, today: dt.date) -> PortfolioRow:
    phase = project.current_phase
    days = (now - phase.started_at).days if phase and phase.started_at else None
    dues = [d for d in (project.next_task_due, phase.due_date if phase else None) if d]
    next_due = min(dues) if dues else None
    return PortfolioRow(
        project=project,
        owner=display_name(project.owner),
        phase=phase,
        days_in_phase=days,
        next_due=next_due,
        overdue=bool(next_due and next_due < today),
    )


def _funnel(projects: QuerySet, lifecycles: list[LifecycleTemplate]) -> list:
    counts = {
        (row["lifecycle_id"], row["current_phase__template_id"]): row["n"]
        for row in projects.order_by()
        .values("lifecycle_id", "current_phase__template_id")
        .annotate(n=Count("pk"))
    }
    return [
        figures.LifecycleFunnel(
            lifecycle=lc.name,
            phases=[(p.name, counts.get((lc.pk, p.pk), 0)) for p in lc.phase_templates.all()],
        )
        for lc in lifecycles
        if any(key[0] == lc.pk for key in counts)
    ]


def _durations(projects: QuerySet, *, now: dt.datetime) -> list[figures.PhaseDurations]:
    """Days each project spent in each phase, from the transition history in one query:
    a stay starts at the transition into a phase and ends at the project's next one."""
    left_at = Window(
        Lead("created_at"),
        partition_by=[F("project_id")],
        order_by=[F("created_at").asc(), F("id").asc()],
    )
    # The stay's length comes out of the database: an interval per row is far cheaper to
    # read than the two timezone-aware datetimes it is computed from.
    stays = (
        Transition.objects.filter(project__in=projects.values("pk"))
        .order_by()  # the window orders what it needs; the default ordering is a wasted sort
        .annotate(
            stay=ExpressionWrapper(
                Coalesce(left_at, Value(now)) - F("created_at"), output_field=DurationField()
            )
        )
        .values_list(
            "project_id",
            "project__lifecycle__name",
            "to_phase__order",
            "to_phase__name",
            "to_phase__template__expected_days",
            "stay",
        )
    )
    per_project: dict[tuple, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for project_id, lifecycle, order, name, expected, stay in stays:
        per_project[(lifecycle, order, name, expected)][project_id] += stay.total_seconds() / 86_400
    return [
        figures.PhaseDurations(
            lifecycle=lifecycle,
            order=order,
            phase=name,
            planned_days=expected,
            days=list(days.values()),
        )
        for (lifecycle, order, name, expected), days in per_project.items()
    ]


def _loop_backs(projects: QuerySet) -> list[LoopBackRow]:
    rows = (
        Transition.objects.filter(project__in=projects.values("pk"), kind=TransitionKind.BACK)
        .order_by("-created_at", "-id")
        .values_list(
            "project__name",
            "project__slug",
            "from_phase__name",
            "to_phase__name",
            "reason",
            "created_at",
        )
    )
    return [
        LoopBackRow(
            project=name,
            slug=slug,
            from_phase=source,
            to_phase=target,
            reason=reason,
            at=timezone.localtime(at),
        )
        for name, slug, source, target, reason, at in rows
    ]


def portfolio(
    *,
    user,
    filters: PortfolioFilters,
    page_number: object = 1,
    lifecycles: list[LifecycleTemplate] | None = None,
) -> Portfolio:
    """The portfolio page: one page of projects, and the charts over every filtered project.
    ``lifecycles``: those of every project ``user`` sees (``FilterChoices.templates``), if
    the caller has them; the funnel shows only those the filtered projects use."""
    now = timezone.now()
    today = timezone.localdate()
    projects = _filtered(user, filters)
    next_task_due = (
        Task.objects.filter(phase=OuterRef("current_phase"), due_date__isnull=False)
        .exclude(status=TaskStatus.DONE)
        .order_by("due_date")
        .values("due_date")[:1]
    )
    listed = (
        projects.select_related("owner", "lifecycle", "current_phase")
        .annotate(next_task_due=Subquery(next_task_due))
        .order_by("name", "pk")
    )
    page = Paginator(listed, PAGE_SIZE).get_page(page_number)
    loops = _loop_backs(projects)
    return Portfolio(
        page=page,
        rows=[_row(project, now=now, today=today) for project in page.object_list],
        funnel=_funnel(projects, _lifecycles(projects) if lifecycles is None else lifecycles),
        durations=_durations(projects, now=now),
        loop_backs=loops,
        recent_loop_backs=loops[:RECENT_LOOP_BACKS],
    )

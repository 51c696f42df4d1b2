"""The portfolio page: one page of projects, riskiest first, and charts over every filtered
project."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard import figures
from experiments import ranking
from mlprojects.people import display_name
from monitoring.choices import AlertState
from monitoring.models import Alert
from phases.choices import Health, TransitionKind
from phases.metrics import meets_target
from phases.models import LifecycleTemplate, Phase, Project, Transition
from phases.roles import visible_projects
from phases.selectors import in_a_phase, with_dates

PAGE_SIZE = 50
RECENT_LOOP_BACKS = 10
# The time-in-phase chart shows the projects longest in their current phase, this many.
STAY_PROJECTS = 15

# Riskiest first: red, amber, green, then anything else (no health computed yet).
RISK = {Health.RED: 0, Health.AMBER: 1, Health.GREEN: 2}
# The columns a reader may sort by (``?sort=name``, ``?sort=-name`` the other way), each as
# (field, descending) pairs; missing values sort last either way, and every ordering ends
# on the name and the key, so pages never overlap.
SORTS = {
    "risk": [("risk", False), ("firing_alerts", True), ("next_due", False)],
    "name": [("name", False)],
    "phase": [("current_phase__order", False)],
    "health": [("risk", False)],
    "owner": [("owner__first_name", False), ("owner__last_name", False)],
    "in_phase": [("in_phase_since", False)],
    "next_due": [("next_due", False)],
}
DEFAULT_SORT = "risk"


@dataclass(frozen=True, slots=True)
class PortfolioFilters:
    phase: str = ""
    health: tuple[str, ...] = ()
    owner: int | None = None
    lifecycle: str = ""


@dataclass(frozen=True, slots=True)
class FilterChoices:
    phases: list[str]
    owners: list[tuple[int, str]]
    lifecycles: list[tuple[str, str]]
    # The lifecycles of every visible project with their phases, which the portfolio's
    # chart of projects per phase reuses instead of reading them again.
    templates: list[LifecycleTemplate]


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    project: Project
    owner: str
    phase: Phase | None
    days_in_phase: int | None
    next_due: dt.date | None
    overdue: bool
    firing_alerts: int = 0
    phases: int = 0
    best: float | None = None
    meets: bool | None = None

    @property
    def days_late(self) -> int:
        return (timezone.localdate() - self.next_due).days if self.overdue else 0


@dataclass(frozen=True, slots=True)
class LoopBackRow(figures.LoopBack):
    slug: str


@dataclass(slots=True)
class Portfolio:
    page: Page
    rows: list[PortfolioRow]
    sort: str
    per_phase: list[figures.PhaseCount]
    stays: list[figures.PhaseStay]
    loop_backs: list[LoopBackRow]
    recent_loop_backs: list[LoopBackRow]


def _filtered(user, filters: PortfolioFilters) -> QuerySet[Project]:
    qs = visible_projects(user)
    if filters.phase:
        qs = qs.filter(current_phase__name=filters.phase)
    if filters.health:
        qs = qs.filter(health__in=filters.health)
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


def _row(
    project: Project,
    *,
    now: dt.datetime,
    today: dt.date,
    phases: dict[int, int],
    best: dict[int, float],
) -> PortfolioRow:
    since = project.in_phase_since
    value = best.get(project.pk)
    target = project.success_target
    maximize = project.maximizes
    return PortfolioRow(
        project=project,
        owner=display_name(project.owner),
        phase=project.current_phase,
        days_in_phase=(now - since).days if since else None,
        next_due=project.next_due,
        overdue=bool(project.next_due and project.next_due < today),
        firing_alerts=project.firing_alerts,
        phases=phases.get(project.lifecycle_id, 0),
        best=value,
        meets=None
        if value is None or target is None
        else meets_target(value, target, maximize=maximize),
    )


def _per_phase(projects: QuerySet, lifecycles: list[LifecycleTemplate]) -> list:
    counts = {
        (row["lifecycle_id"], row["current_phase__template_id"]): row["n"]
        for row in in_a_phase(projects)
        .order_by()
        .values("lifecycle_id", "current_phase__template_id")
        .annotate(n=Count("pk"))
    }
    return [
        figures.PhaseCount(lifecycle=lc.name, phase=p.name, projects=counts.get((lc.pk, p.pk), 0))
        for lc in lifecycles
        if any(key[0] == lc.pk for key in counts)
        for p in lc.phase_templates.all()
    ]


def _stays(projects: QuerySet, *, now: dt.datetime) -> list[figures.PhaseStay]:
    """The projects longest in their current phase, with the days that phase plans: its
    own planned dates, both days counted (a move back or a manager may have changed them),
    else its template's expected days."""
    rows = (
        with_dates(projects)
        .filter(in_phase_since__isnull=False)
        .order_by("in_phase_since", "pk")
        .values_list(
            "name",
            "current_phase__name",
            "in_phase_since",
            "current_phase__start_date",
            "current_phase__due_date",
            "current_phase__template__expected_days",
        )[:STAY_PROJECTS]
    )
    return [
        figures.PhaseStay(
            project=name,
            phase=phase,
            days=(now - started).total_seconds() / 86_400,
            planned_days=(due - start).days + 1 if start and due else expected,
        )
        for name, phase, started, start, due, expected in rows
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


def sort_key(value: str) -> str:
    """``value`` when it names a sortable column (``-`` first for the other way), else the
    default: a stale or tampered link still shows the page."""
    return value if value.removeprefix("-") in SORTS else DEFAULT_SORT


def _ordering(sort: str) -> list:
    flip = sort.startswith("-")
    columns = [
        F(field).desc(nulls_last=True) if descending != flip else F(field).asc(nulls_last=True)
        for field, descending in SORTS[sort.removeprefix("-")]
    ]
    return [*columns, "name", "pk"]


def portfolio(
    *,
    user,
    filters: PortfolioFilters,
    page_number: object = 1,
    sort: str = DEFAULT_SORT,
    lifecycles: list[LifecycleTemplate] | None = None,
) -> Portfolio:
    """The portfolio page: one page of projects, and the charts over every filtered project.
    ``lifecycles``: those of every project ``user`` sees (``FilterChoices.templates``), if
    the caller has them; the chart of projects per phase shows those the filtered projects
    use. By default the riskiest projects come first: red, amber, green, and within each
    those with firing alerts, then the most days late."""
    now = timezone.now()
    today = timezone.localdate()
    sort = sort_key(sort)
    projects = _filtered(user, filters)
    lifecycles = _lifecycles(projects) if lifecycles is None else lifecycles
    firing = (
        Alert.objects.filter(monitor__project=OuterRef("pk"), state=AlertState.FIRING)
        .order_by()
        .values("monitor__project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    listed = (
        with_dates(projects.select_related("owner", "lifecycle", "current_phase"))
        .annotate(
            firing_alerts=Coalesce(Subquery(firing, output_field=IntegerField()), 0),
            risk=Case(
                *(When(health=health, then=Value(rank)) for health, rank in RISK.items()),
                default=Value(len(RISK)),
                output_field=IntegerField(),
            ),
        )
        .order_by(*_ordering(sort))
    )
    page = Paginator(listed, PAGE_SIZE).get_page(page_number)
    shown = list(page.object_list)
    phases = {lc.pk: len(lc.phase_templates.all()) for lc in lifecycles}
    best = ranking.best_values(shown) if shown else {}
    loops = _loop_backs(projects)
    return Portfolio(
        page=page,
        rows=[_row(project, now=now, today=today, phases=phases, best=best) for project in shown],
        sort=sort,
        per_phase=_per_phase(projects, lifecycles),
        stays=_stays(projects, now=now),
        loop_backs=loops,
        recent_loop_backs=loops[:RECENT_LOOP_BACKS],
    )

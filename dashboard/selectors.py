"""Reads shaped for the dashboard's pages, each in a fixed number of queries.

Every read starts from :func:`phases.roles.visible_projects` / :func:`phases.roles.with_role`,
so a page can only ever show what its caller may see. Query counts do not grow with the
number of projects, phases, tasks or transitions: lists are fetched in one query each,
charts from aggregates or a single pass over the transition history.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import Lead
from django.utils import timezone

from dashboard import figures, sharing
from dashboard.models import SharedLink
from phases.choices import PhaseStatus, ReviewStatus, TaskStatus, TransitionKind
from phases.gates import GateResult
from phases.models import (
    LifecycleTemplate,
    Outcome,
    Phase,
    Project,
    Task,
    Transition,
    TransitionRule,
)
from phases.roles import visible_projects, with_role
from phases.selectors import phase_gate

PAGE_SIZE = 100
RECENT_LOOP_BACKS = 10


def display_name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def http_url(url: str) -> str:
    """``url`` when a browser may follow it from our pages; empty for any other scheme."""
    return url if url.lower().startswith(("https://", "http://")) else ""


# --- Portfolio --------------------------------------------------------------------------


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
    stays = (
        Transition.objects.filter(project__in=projects.values("pk"))
        .annotate(
            left_at=Window(
                Lead("created_at"),
                partition_by=[F("project_id")],
                order_by=[F("created_at").asc(), F("id").asc()],
            )
        )
        .values_list(
            "project_id",
            "project__lifecycle__name",
            "to_phase__order",
            "to_phase__name",
            "to_phase__template__expected_days",
            "created_at",
            "left_at",
        )
    )
    per_project: dict[tuple, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for project_id, lifecycle, order, name, expected, entered, left in stays:
        days = ((left or now) - entered).total_seconds() / 86_400
        per_project[(lifecycle, order, name, expected)][project_id] += days
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


def portfolio(*, user, filters: PortfolioFilters, page_number: object = 1) -> Portfolio:
    """The portfolio page: one page of projects, and the charts over every filtered project."""
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
        funnel=_funnel(projects, _lifecycles(projects)),
        durations=_durations(projects, now=now),
        loop_backs=loops,
        recent_loop_backs=loops[:RECENT_LOOP_BACKS],
    )


# --- Project ----------------------------------------------------------------------------


def project_for(*, user, slug: str) -> Project | None:
    """The project with the caller's role annotated as ``caller_role``; ``None`` when the
    caller may not see it, so views answer 404 and never reveal that it exists."""
    return (
        with_role(Project.objects.select_related("owner", "lifecycle", "current_phase"), user)
        .filter(slug=slug)
        .first()
    )


@dataclass(frozen=True, slots=True)
class CriterionRow:
    met: bool
    kind: str
    subject: str
    message: str
    evidence_url: str


@dataclass(frozen=True, slots=True)
class Live:
    """The part of a project page that changes while people work: phase, health, gate."""

    project: Project
    phase: Phase | None
    days_in_phase: int | None
    gate: GateResult | None
    criteria: list[CriterionRow]
    next_phase: str | None

    @property
    def met_count(self) -> int:
        return sum(c.met for c in self.criteria)

    @property
    def state(self) -> str:
        """Changes whenever the project moves, so the page knows its timeline is stale."""
        return str(self.project.current_phase_id or "")


def _days_since(moment: dt.datetime | None) -> int | None:
    return (timezone.now() - moment).days if moment else None


def _next_phase(phase: Phase) -> str | None:
    """The phase an advance would move to: the nearest one forward that the lifecycle allows,
    as ``phases.services.phase_advance`` chooses it."""
    forward = TransitionRule.objects.filter(
        source_id=phase.template_id, target__order__gt=phase.order
    ).values("target_id")
    return (
        Phase.objects.filter(project_id=phase.project_id, template_id__in=forward)
        .order_by("order")
        .values_list("name", flat=True)
        .first()
    )


def project_live(*, project: Project) -> Live:
    phase = project.current_phase
    gate = phase_gate(phase=phase) if phase else None
    evidence = {}
    if gate is not None and any(c.kind == "outcome" for c in gate.criteria):
        evidence = dict(
            Outcome.objects.filter(phase=phase, required=True).values_list("name", "evidence_url")
        )
    criteria = [
        CriterionRow(
            met=c.met,
            kind=c.kind,
            subject=c.subject,
            message=c.message,
            evidence_url=http_url(evidence.get(c.subject, "")) if c.kind == "outcome" else "",
        )
        for c in (gate.criteria if gate else ())
    ]
    return Live(
        project=project,
        phase=phase,
        days_in_phase=_days_since(phase.started_at if phase else None),
        gate=gate,
        criteria=criteria,
        next_phase=_next_phase(phase) if phase else None,
    )


@dataclass(frozen=True, slots=True)
class PhaseWork:
    phase: Phase
    tasks: list[Task]
    outcomes: list[Outcome]
    done: int
    accepted: int

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / len(self.tasks)) if self.tasks else 0

    @property
    def is_current(self) -> bool:
        return self.phase.status == PhaseStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class HistoryRow:
    transition: Transition
    by: str


@dataclass(slots=True)
class ProjectStatus:
    project: Project
    owner: str
    work: list[PhaseWork]
    history: list[HistoryRow]
    planned: list[figures.PlannedPhase]
    visits: list[figures.Visit]
    moves: list[figures.Move]


def project_status(*, project: Project) -> ProjectStatus:
    """Everything of the status page that does not refresh live, in four queries."""
    phases = list(
        project.phases.order_by("order").prefetch_related(
            Prefetch("tasks", queryset=Task.objects.select_related("assignee")),
            Prefetch("outcomes", queryset=Outcome.objects.select_related("reviewer")),
        )
    )
    transitions = list(
        project.transitions.select_related("from_phase", "to_phase", "by").order_by(
            "created_at", "id"
        )
    )
    work = []
    for phase in phases:
        tasks, outcomes = list(phase.tasks.all()), list(phase.outcomes.all())
        work.append(
            PhaseWork(
                phase=phase,
                tasks=tasks,
                outcomes=outcomes,
                done=sum(t.status == TaskStatus.DONE for t in tasks),
                accepted=sum(o.review_status == ReviewStatus.ACCEPTED for o in outcomes),
            )
        )
    visits = []
    for here, after in zip(transitions, [*transitions[1:], None], strict=True):
        visits.append(
            figures.Visit(
                phase=here.to_phase.name,
                start=timezone.localtime(here.created_at),
                end=timezone.localtime(after.created_at) if after else None,
            )
        )
    return ProjectStatus(
        project=project,
        owner=display_name(project.owner),
        work=work,
        history=[HistoryRow(t, display_name(t.by)) for t in reversed(transitions)],
        planned=[figures.PlannedPhase(p.name, p.start_date, p.due_date) for p in phases],
        visits=visits,
        moves=[
            figures.Move(
                at=timezone.localtime(t.created_at),
                from_phase=t.from_phase.name,
                to_phase=t.to_phase.name,
                reason=t.reason,
            )
            for t in transitions
            if t.kind == TransitionKind.BACK
        ],
    )


def back_targets(*, project: Project) -> QuerySet[Phase]:
    """The earlier phases the lifecycle lets the project loop back to from where it is."""
    current = project.current_phase
    if current is None:
        return Phase.objects.none()
    templates = TransitionRule.objects.filter(
        source_id=current.template_id, target__order__lt=current.order
    ).values("target_id")
    return project.phases.filter(template_id__in=templates).order_by("-order")


@dataclass(frozen=True, slots=True)
class SharedLinkRow:
    link: SharedLink
    token: str
    created_by: str


def shared_links(*, project: Project) -> list[SharedLinkRow]:
    links = SharedLink.objects.usable().filter(project=project).select_related("created_by")
    return [
        SharedLinkRow(
            link=link,
            token=sharing.token_for(link_id=link.pk, nonce=link.nonce),
            created_by=display_name(link.created_by),
        )
        for link in links
    ]


def shared_link_from_token(token: str) -> SharedLink | None:
    """The usable link a token was signed for, with its project; ``None`` when the token is
    tampered, the link revoked or expired, or its nonce does not match."""
    signed = sharing.unsign(token)
    if signed is None:
        return None
    link_id, nonce = signed
    link = (
        SharedLink.objects.usable()
        .select_related("project__owner", "project__lifecycle", "project__current_phase")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not sharing.nonce_matches(link.nonce, nonce):
        return None
    return link

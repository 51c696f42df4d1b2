"""Reads shaped for the dashboard's pages, each in a fixed number of queries.

Every read starts from :func:`phases.roles.visible_projects` / :func:`phases.roles.with_role`,
so a page can only ever show what its caller may see. Query counts do not grow with the
number of projects, phases, tasks, transitions or runs: lists are fetched in one query
each, charts from aggregates or a single pass over the transition history, and metric
curves from a capped number of series that ``experiments.series`` reduces on the server.
"""

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lead
from django.utils import timezone

from dashboard import figures, sharing
from dashboard.models import SharedLink
from experiments import series
from experiments.choices import LifecycleStage
from experiments.models import MetricSeries, Param, Run, RunTag
from phases.choices import MetricDirection, PhaseStatus, ReviewStatus, TaskStatus, TransitionKind
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

PAGE_SIZE = 50
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


# --- Experiments ------------------------------------------------------------------------

LEADERBOARD_SIZE = 10
LEADERBOARD_PARAMS = 4
CURVE_RUNS = 5
CURVE_POINTS = 1000
RUNS_PAGE_SIZE = 50
RUN_CHARTS = 12
RUN_CHART_POINTS = 1000
MAX_COMPARED = 20
# Overlaid curves share one budget, so a comparison of twenty runs weighs what one of five
# does in the browser; no curve gets fewer points than a chart needs to keep its shape.
COMPARE_POINTS = 8000
MIN_CURVE_POINTS = 200
SYSTEM_TAG_PREFIX = "mlflow."


def _finite(prefix: str = "") -> Q:
    """Series whose latest value is a number a chart can place: not NaN, not infinite."""
    return Q(
        **{
            f"{prefix}latest_is_nan": False,
            f"{prefix}latest_value__gt": -math.inf,
            f"{prefix}latest_value__lt": math.inf,
        }
    )


def _ms(value: int | None) -> dt.datetime | None:
    """MLflow's milliseconds since the epoch as an aware time, which templates localise."""
    return None if value is None else dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def _maximize(project: Project) -> bool:
    return project.success_direction == MetricDirection.MAXIMIZE


def _project_runs(project: Project) -> QuerySet[Run]:
    """The project's runs that count: a deleted run (or one of a deleted experiment, which
    deletes its runs) is out of every list and chart until it is restored."""
    return Run.objects.filter(experiment__project=project, lifecycle_stage=LifecycleStage.ACTIVE)


def _best_first(project: Project, value: str) -> list:
    """Best value first in the project's direction, runs without one last; ties go to the
    newest run, then the run id, so the order is the same from one page load to the next."""
    field = F(value)
    ordered = field.desc(nulls_last=True) if _maximize(project) else field.asc(nulls_last=True)
    return [ordered, F(f"{_run_prefix(value)}start_time").desc(), f"{_run_prefix(value)}run_id"]


def _run_prefix(value: str) -> str:
    """``run__`` when ranking series (which reach their run through it), else nothing."""
    return "run__" if value == "latest_value" else ""


def _labels(runs: Sequence[Run]) -> dict[int, str]:
    """Each run's name, with the start of its id where two runs share a name, so legends
    and axes never show two runs as one."""
    names = Counter(run.name for run in runs)
    return {
        run.pk: run.name if names[run.name] == 1 else f"{run.name} ({run.run_id[:7]})"
        for run in runs
    }


def _params_of(runs: Sequence[Run]) -> dict[int, dict[str, str]]:
    """Every param of ``runs`` in one query, by run."""
    params: dict[int, dict[str, str]] = {run.pk: {} for run in runs}
    rows = Param.objects.filter(run__in=[run.pk for run in runs]).values_list(
        "run_id", "key", "value"
    )
    for run_pk, key, value in rows:
        params[run_pk][key] = value
    return params


def _curves(runs: Sequence[Run], *, key: str, max_points: int) -> list[figures.Curve]:
    labels = _labels(runs)
    by_run_id = {run.run_id: run for run in runs}
    return [
        figures.Curve(
            label=labels[by_run_id[found.run_id].pk],
            steps=found.steps,
            timestamps=found.timestamps,
            values=found.values,
            total_points=found.total_points,
            downsampled=found.downsampled,
        )
        for found in series.compare(runs=list(runs), key=key, max_points=max_points)
    ]


@dataclass(frozen=True, slots=True)
class LeaderRow:
    rank: int
    run: Run
    label: str
    value: float
    params: list[str]
    meets: bool


@dataclass(slots=True)
class ProjectExperiments:
    """The experiments section of a project page: how many runs there are, the best ones
    on the success metric, and their curves of it."""

    metric: str
    target: float | None
    maximize: bool
    runs: int | None
    measured: int
    leaders: list[LeaderRow]
    param_keys: list[str]
    curves: list[figures.Curve]

    @property
    def best(self) -> LeaderRow | None:
        return self.leaders[0] if self.leaders else None

    @property
    def met(self) -> bool | None:
        """Whether the best run reaches the target; ``None`` when there is nothing to judge."""
        if self.best is None or self.target is None:
            return None
        return figures.meets_target(self.best.value, self.target, maximize=self.maximize)

    @property
    def gap(self) -> float | None:
        return None if self.best is None or self.target is None else self.best.value - self.target


def project_experiments(*, project: Project) -> ProjectExperiments:
    """The leaderboard and its curves in a fixed number of queries, however many runs the
    project holds: one count, the ten best series (with their runs and experiments), their
    params, and the best few runs' series of the metric (``series.compare``); none at all
    while the project has no success metric (``runs`` is then ``None``: not counted).

    The ranking reads ``MetricSeries.latest_value``: the value a run ended with, as MLflow
    shows it. A run whose latest value is NaN or infinite has no rank.
    """
    metric = project.success_metric
    runs = _project_runs(project)
    if not metric:
        # Nothing to rank, and nothing to count: the section only asks for a metric.
        return ProjectExperiments(
            metric="",
            target=project.success_target,
            maximize=_maximize(project),
            runs=None,
            measured=0,
            leaders=[],
            param_keys=[],
            curves=[],
        )
    counts = runs.aggregate(
        runs=Count("pk", distinct=True),
        measured=Count(
            "metric_series",
            filter=Q(metric_series__key=metric) & _finite("metric_series__"),
        ),
    )
    ranked = []
    if counts["measured"]:
        ranked = list(
            MetricSeries.objects.filter(
                _finite(),
                run__experiment__project=project,
                run__lifecycle_stage=LifecycleStage.ACTIVE,
                key=metric,
            )
            .select_related("run__experiment")
            .order_by(*_best_first(project, "latest_value"))[:LEADERBOARD_SIZE]
        )
    top = [row.run for row in ranked]
    params = _params_of(top) if top else {}
    keys = figures.varying_params([params[run.pk] for run in top], LEADERBOARD_PARAMS)
    labels = _labels(top)
    return ProjectExperiments(
        metric=metric,
        target=project.success_target,
        maximize=_maximize(project),
        runs=counts["runs"],
        measured=counts["measured"],
        leaders=[
            LeaderRow(
                rank=rank,
                run=row.run,
                label=labels[row.run.pk],
                value=row.latest_value,
                params=[params[row.run.pk].get(key, "") for key in keys],
                meets=project.success_target is not None
                and figures.meets_target(
                    row.latest_value, project.success_target, maximize=_maximize(project)
                ),
            )
            for rank, row in enumerate(ranked, start=1)
        ],
        param_keys=keys,
        curves=_curves(top[:CURVE_RUNS], key=metric, max_points=CURVE_POINTS) if top else [],
    )


@dataclass(frozen=True, slots=True)
class RunRow:
    run: Run
    value: float | None
    started: dt.datetime | None
    params: list[str]


@dataclass(slots=True)
class RunList:
    page: Page
    rows: list[RunRow]
    metric: str
    param_keys: list[str]


def project_runs(*, project: Project, page_number: object = 1) -> RunList:
    """Every active run of the project, best on the success metric first (runs that have
    not logged it last), one page at a time: three queries for any number of runs."""
    metric = project.success_metric
    runs = _project_runs(project).select_related("experiment")
    if metric:
        latest = MetricSeries.objects.filter(_finite(), run=OuterRef("pk"), key=metric)
        runs = runs.annotate(metric_value=Subquery(latest.values("latest_value")[:1]))
        order = _best_first(project, "metric_value")
    else:
        runs = runs.annotate(metric_value=Value(None, output_field=FloatField()))
        order = [F("start_time").desc(), "run_id"]
    page = Paginator(runs.order_by(*order), RUNS_PAGE_SIZE).get_page(page_number)
    listed = list(page.object_list)
    params = _params_of(listed) if listed else {}
    keys = figures.varying_params(list(params.values()), LEADERBOARD_PARAMS)
    return RunList(
        page=page,
        rows=[
            RunRow(
                run=run,
                value=run.metric_value,
                started=_ms(run.start_time),
                params=[params[run.pk].get(key, "") for key in keys],
            )
            for run in listed
        ],
        metric=metric,
        param_keys=keys,
    )


@dataclass(frozen=True, slots=True)
class MetricRow:
    index: int
    key: str
    value: float | None
    is_nan: bool
    step: int
    logged: dt.datetime | None
    points: int
    chart_page: int


@dataclass(frozen=True, slots=True)
class RunChart:
    index: int
    key: str
    curve: figures.Curve

    @property
    def chart_id(self) -> str:
        """Numbered, never derived from the key: a key may hold any character."""
        return f"chart-metric-{self.index}"

    @property
    def data_id(self) -> str:
        return f"{self.chart_id}-data"


@dataclass(slots=True)
class RunDetail:
    run: Run
    started: dt.datetime | None
    ended: dt.datetime | None
    params: list[Param]
    tags: list[RunTag]
    system_tags: list[RunTag]
    inputs: list
    metrics: list[MetricRow]
    charts: list[RunChart]
    chart_page: int
    chart_pages: int
    success: MetricRow | None

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    @property
    def deleted(self) -> bool:
        return self.run.lifecycle_stage == LifecycleStage.DELETED


def run_detail(*, project: Project, run_id: str, chart_page: object = 1) -> RunDetail | None:
    """A run of ``project`` (``None`` for a run of any other project) with its params, tags,
    datasets and the charts of one page of its metrics.

    Charts come ``RUN_CHARTS`` at a time, so a run that logs hundreds of metrics costs the
    page what one with twelve does: five queries, then two per chart (``metric_series``).
    """
    run = (
        Run.objects.filter(experiment__project=project, run_id=run_id)
        .select_related("experiment")
        .prefetch_related(
            Prefetch("params", queryset=Param.objects.order_by("key")),
            Prefetch("tags", queryset=RunTag.objects.order_by("key")),
            Prefetch("metric_series", queryset=MetricSeries.objects.order_by("key")),
            "inputs",
        )
        .first()
    )
    if run is None:
        return None
    all_series = list(run.metric_series.all())
    pages = max(1, math.ceil(len(all_series) / RUN_CHARTS))
    try:
        page = min(max(int(chart_page), 1), pages)
    except (TypeError, ValueError):
        page = 1
    metrics = [
        MetricRow(
            index=index,
            key=found.key,
            value=None if found.latest_is_nan else found.latest_value,
            is_nan=found.latest_is_nan,
            step=found.latest_step,
            logged=_ms(found.latest_timestamp),
            points=found.point_count,
            chart_page=(index - 1) // RUN_CHARTS + 1,
        )
        for index, found in enumerate(all_series, start=1)
    ]
    shown = metrics[(page - 1) * RUN_CHARTS : page * RUN_CHARTS]
    charts = []
    drawn = series.run_series(run=run, keys=[row.key for row in shown], max_points=RUN_CHART_POINTS)
    for row, found in zip(shown, drawn, strict=True):
        charts.append(
            RunChart(
                index=row.index,
                key=row.key,
                curve=figures.Curve(
                    label=run.name,
                    steps=found.steps,
                    timestamps=found.timestamps,
                    values=found.values,
                    total_points=found.total_points,
                    downsampled=found.downsampled,
                ),
            )
        )
    tags = list(run.tags.all())
    return RunDetail(
        run=run,
        started=_ms(run.start_time),
        ended=_ms(run.end_time),
        params=list(run.params.all()),
        tags=[tag for tag in tags if not tag.key.startswith(SYSTEM_TAG_PREFIX)],
        system_tags=[tag for tag in tags if tag.key.startswith(SYSTEM_TAG_PREFIX)],
        inputs=list(run.inputs.all()),
        metrics=metrics,
        charts=charts,
        chart_page=page,
        chart_pages=pages,
        success=next((m for m in metrics if m.key == project.success_metric), None),
    )


def requested_runs(values: Sequence[str]) -> list[str]:
    """Run ids from ``?runs=a,b`` or ``?runs=a&runs=b`` (checkboxes), each once, in order."""
    ids = [part.strip() for value in values for part in value.split(",")]
    return list(dict.fromkeys(run_id for run_id in ids if run_id))


@dataclass(frozen=True, slots=True)
class ComparedRun:
    run: Run
    label: str
    value: float | None
    params: list[str]


@dataclass(slots=True)
class Comparison:
    key: str
    keys: list[str]
    runs: list[ComparedRun]
    param_keys: list[str]
    curves: list[figures.Curve]
    points: list[figures.RunParams]
    requested: int
    missing: int
    ranked: bool
    maximize: bool

    @property
    def run_ids(self) -> str:
        return ",".join(row.run.run_id for row in self.runs)

    @property
    def truncated(self) -> bool:
        return self.requested > MAX_COMPARED

    @property
    def placed(self) -> int:
        """How many runs have a value of the metric: the parallel coordinates need two."""
        return sum(row.value is not None for row in self.runs)


def compare_runs(*, project: Project, run_ids: Sequence[str], key: str = "") -> Comparison:
    """Selected runs of ``project`` side by side on one metric: their curves of it, and
    their params against its latest value. Ids of other projects' runs are ignored, as if
    they did not exist.

    At most ``MAX_COMPARED`` runs, so the page stays readable and bounded: three queries
    (the runs, their params, their series' latest values), then ``series.compare`` (one
    query, and one read per run). Which way is better is known for the success metric
    only; any other metric is coloured by its value, higher darker.
    """
    wanted = list(run_ids)[:MAX_COMPARED]
    found = {
        run.run_id: run
        for run in Run.objects.filter(experiment__project=project, run_id__in=wanted)
        .select_related("experiment")
        .order_by()
    }
    runs = [found[run_id] for run_id in wanted if run_id in found]
    latest: dict[tuple[int, str], float | None] = {}
    if runs:
        rows = MetricSeries.objects.filter(run__in=[run.pk for run in runs]).values_list(
            "run_id", "key", "latest_value", "latest_is_nan"
        )
        for run_pk, metric, value, is_nan in rows:
            latest[(run_pk, metric)] = None if is_nan or not math.isfinite(value) else value
    keys = sorted({metric for _, metric in latest})
    if key not in keys:
        key = project.success_metric if project.success_metric in keys else ""
        key = key or (keys[0] if keys else "")
    params = _params_of(runs) if runs else {}
    param_keys = figures.varying_params([params[run.pk] for run in runs], figures.MAX_PARAM_AXES)
    labels = _labels(runs)
    compared = [
        ComparedRun(
            run=run,
            label=labels[run.pk],
            value=latest.get((run.pk, key)),
            params=[params[run.pk].get(param, "") for param in param_keys],
        )
        for run in runs
    ]
    budget = max(MIN_CURVE_POINTS, COMPARE_POINTS // max(len(runs), 1))
    return Comparison(
        key=key,
        keys=keys,
        runs=compared,
        param_keys=param_keys,
        curves=_curves(runs, key=key, max_points=budget) if key and runs else [],
        points=[
            figures.RunParams(label=row.label, params=params[row.run.pk], value=row.value)
            for row in compared
        ],
        requested=len(list(run_ids)),
        missing=len(wanted) - len(runs),
        ranked=bool(key) and key == project.success_metric,
        maximize=_maximize(project) if key == project.success_metric else True,
    )

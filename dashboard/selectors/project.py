"""A project's status page: the live block (phase, health, gate) and the rest of it."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from dashboard import figures
from dashboard.selectors.common import http_url
from mlprojects.people import display_name
from phases.choices import PhaseStatus, ReviewStatus, TaskStatus, TransitionKind
from phases.gates import GateResult
from phases.models import Outcome, Phase, Project, Task, Transition
from phases.roles import with_role
from phases.selectors import forecast_finish, next_phase, phase_gate


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
    completed_by: str = ""

    @property
    def met_count(self) -> int:
        return sum(c.met for c in self.criteria)

    @property
    def completed(self) -> bool:
        return self.project.completed_at is not None

    @property
    def state(self) -> str:
        """Changes whenever the project moves, so the page knows its timeline is stale."""
        done = "-completed" if self.completed else ""
        return f"{self.project.current_phase_id or ''}{done}"


def _days_since(moment: dt.datetime | None) -> int | None:
    return (timezone.now() - moment).days if moment else None


def _next_name(project: Project) -> str | None:
    """The phase an advance would move to, as ``phases.services.phase_advance`` chooses it."""
    found = next_phase(project=project)
    return found.name if found else None


def _completed_by(project: Project) -> str:
    last = (
        project.transitions.filter(kind=TransitionKind.COMPLETE)
        .select_related("by")
        .order_by("-created_at", "-id")
        .first()
    )
    return display_name(last.by) if last else "—"


def project_live(*, project: Project) -> Live:
    phase = project.current_phase
    if project.completed_at is not None:
        return Live(
            project=project,
            phase=phase,
            days_in_phase=None,
            gate=None,
            criteria=[],
            next_phase=None,
            completed_by=_completed_by(project),
        )
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
        next_phase=_next_name(project) if phase else None,
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
    finish: figures.Finish


def project_status(*, project: Project) -> ProjectStatus:
    """Everything of the status page that does not refresh live, in four queries."""
    phases = list(
        # The template gives a phase without dates its length, for the forecast.
        project.phases.select_related("template")
        .order_by("order")
        .prefetch_related(
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
        if here.kind == TransitionKind.COMPLETE:
            continue  # It ends the stay in the last phase and starts none.
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
        finish=figures.Finish(
            original=project.planned_finish,
            forecast=forecast_finish(phases, today=timezone.localdate()),
            completed=timezone.localtime(project.completed_at) if project.completed_at else None,
        ),
    )

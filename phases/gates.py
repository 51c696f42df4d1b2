"""Gates: the exit criteria of a phase, answered as a list of criteria in plain words.

A gate never says just "no": every criterion carries a sentence a manager understands, met
or not, so pages can show the whole checklist and refusals can name what is missing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from phases.choices import EvidenceRule, MetricDirection, ReviewStatus, TaskStatus
from phases.metrics import meets_target, shortfall
from phases.models import Outcome, Phase, Project, Task

# The kind of every criterion an evidence rule answers.
EVIDENCE = "evidence"


@dataclass(frozen=True, slots=True)
class Criterion:
    kind: str
    subject: str
    met: bool
    message: str
    evidence: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "met": self.met,
            "message": self.message,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class GateResult:
    phase: Phase
    criteria: tuple[Criterion, ...]

    @property
    def met(self) -> bool:
        return all(criterion.met for criterion in self.criteria)

    @property
    def unmet(self) -> list[Criterion]:
        return [criterion for criterion in self.criteria if not criterion.met]


_REVIEW_WORDS = {
    ReviewStatus.PENDING: "is pending: nobody has submitted it for review yet",
    ReviewStatus.SUBMITTED: "is submitted and waits for review",
    ReviewStatus.REJECTED: "was rejected",
}


def outcome_criterion(outcome: Outcome) -> Criterion:
    if outcome.review_status == ReviewStatus.ACCEPTED:
        return Criterion("outcome", outcome.name, True, f"Outcome “{outcome.name}” is accepted.")
    words = _REVIEW_WORDS[ReviewStatus(outcome.review_status)]
    message = f"Outcome “{outcome.name}” must be accepted; it {words}."
    if outcome.review_status == ReviewStatus.REJECTED and outcome.review_note:
        message = f"{message[:-1]}: {outcome.review_note}"
    return Criterion("outcome", outcome.name, False, message)


_TASK_WORDS = {
    TaskStatus.TODO: "not started",
    TaskStatus.IN_PROGRESS: "in progress",
    TaskStatus.BLOCKED: "blocked",
}


def task_criterion(task: Task) -> Criterion:
    if task.status == TaskStatus.DONE:
        return Criterion("task", task.title, True, f"Task “{task.title}” is done.")
    words = _TASK_WORDS[TaskStatus(task.status)]
    return Criterion("task", task.title, False, f"Task “{task.title}” must be done; it is {words}.")


def number(value: float) -> str:
    """A metric value or target in a gate's message: six significant digits."""
    return f"{value:.6g}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A value judged against the project's target, for the evidence rules that read one
    (``experiments.evidence``, ``registry.evidence``): met, how far short, and the words."""

    met: bool
    gap: float
    wanted: str


def judge_target(project: Project, value: float) -> Verdict:
    """``value`` against the project's success target, in its direction."""
    maximize = project.maximizes
    met = meets_target(value, project.success_target, maximize=maximize)
    short = shortfall(value, project.success_target, maximize=maximize)
    gap = 0.0 if met else float(f"{short:.12g}")  # 0.03, not 0.030000000000000027
    return Verdict(met, gap, target_words(project))


def target_words(project: Project) -> str:
    direction = MetricDirection(project.success_direction)
    return f"the target {number(project.success_target)} ({direction.label.lower()})"


def target_evidence(project: Project, *, value=None, gap=None) -> dict[str, Any]:
    """The keys an evidence rule about the target reports, the same whatever the verdict,
    so that pages can read them without checks."""
    return {
        "metric": project.success_metric or None,
        "value": value,
        "target": project.success_target,
        "direction": project.success_direction,
        "gap": gap,
    }


def target_unset(
    outcome: Outcome,
    project: Project,
    *,
    evidence: dict[str, Any],
    metric_words: str = "its success metric",
) -> Criterion | None:
    """The unmet criterion of a rule judged against the success metric while the project
    has not set the metric or its target; ``None`` when both are set."""
    unset = [
        words
        for words, missing in (
            (metric_words, not project.success_metric),
            ("its success target", project.success_target is None),
        )
        if missing
    ]
    if not unset:
        return None
    return Criterion(
        EVIDENCE,
        outcome.name,
        False,
        f"“{outcome.name}” is judged against the project's success metric: set "
        f"{' and '.join(unset)} on the project.",
        evidence=evidence,
    )


EvidenceCheck = Callable[[Outcome], Criterion]
_evidence_checks: dict[str, EvidenceCheck] = {}


def register_evidence_check(rule: EvidenceRule, check: EvidenceCheck) -> None:
    """Install the evaluator of ``rule``; the app that owns the data calls this when ready,
    so phases never imports the apps that build on it."""
    _evidence_checks[rule] = check


def evidence_criterion(outcome: Outcome) -> Criterion:
    check = _evidence_checks.get(outcome.evidence_rule)
    if check is None:
        label = EvidenceRule(outcome.evidence_rule).label
        return Criterion(
            EVIDENCE, outcome.name, False, f"Nothing can evaluate the evidence rule “{label}”."
        )
    return check(outcome)


def evaluate(phase: Phase, *, tasks: Iterable[Task], outcomes: Iterable[Outcome]) -> GateResult:
    """The gate of ``phase``: every required outcome accepted and its evidence rule met,
    every required task done."""
    outcomes = [o for o in outcomes if o.required]
    criteria = [outcome_criterion(o) for o in outcomes]
    criteria += [evidence_criterion(o) for o in outcomes if o.evidence_rule]
    criteria += [task_criterion(t) for t in tasks if t.required]
    return GateResult(phase=phase, criteria=tuple(criteria))

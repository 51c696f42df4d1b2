"""Gates: the exit criteria of a phase, answered as a list of criteria in plain words.

A gate never says just "no": every criterion carries a sentence a manager understands, met
or not, so pages can show the whole checklist and refusals can name what is missing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from phases.choices import EvidenceRule, ReviewStatus, TaskStatus
from phases.models import Outcome, Phase, Task


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
    ReviewStatus.PENDING: "has not been submitted yet",
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
            "evidence", outcome.name, False, f"Nothing can evaluate the evidence rule “{label}”."
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

"""Project health: green, amber or red, with the reasons, from the state of the active phase.

The rules, each with its reason in words:
- a task of the active phase past its due date turns the project amber; one more than
  ``MLPROJECTS_RED_AFTER_DAYS`` days late turns it red;
- the active phase past its due date turns it amber; that many days late, red;
- a blocked gate (a required task marked blocked, or a required outcome rejected) turns it
  amber; a blocked gate on a phase that is already past due turns it red;
- a firing alert in production turns it amber: a risk the sponsor must see even while the
  plan is on time. The alerts are counted by the app that raises them (``monitoring``,
  which this app never imports) through the counter it registers here, as evidence checks
  register with ``gates``.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from phases.choices import Health, ReviewStatus, TaskStatus
from phases.models import Outcome, Phase, Task

_RANK = {Health.GREEN: 0, Health.AMBER: 1, Health.RED: 2}


@dataclass
class Assessment:
    health: Health = Health.GREEN
    reasons: list[str] = field(default_factory=list)

    def raise_to(self, health: Health, reason: str) -> None:
        if _RANK[health] > _RANK[self.health]:
            self.health = health
        self.reasons.append(reason)


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# Firing alerts by project id, of the given projects (all when ``None``); projects with
# none may be left out.
FiringAlerts = Callable[[list[int] | None], Mapping[int, int]]
_firing_alerts: list[FiringAlerts] = []


def register_firing_alerts(counter: FiringAlerts) -> None:
    """Let health count the firing alerts ``counter`` knows of (``monitoring`` registers)."""
    if counter not in _firing_alerts:
        _firing_alerts.append(counter)


def firing_alerts(project_ids: list[int] | None) -> dict[int, int]:
    """Every registered counter's firing alerts of these projects, summed by project id."""
    counts: dict[int, int] = {}
    for counter in _firing_alerts:
        for project_id, n in counter(project_ids).items():
            counts[project_id] = counts.get(project_id, 0) + n
    return counts


def assess(
    phase: Phase | None,
    *,
    tasks: Iterable[Task],
    outcomes: Iterable[Outcome],
    today: dt.date,
    red_after_days: int,
    firing_alerts: int = 0,
) -> Assessment:
    result = Assessment()
    if phase is None:
        return result
    tasks = list(tasks)

    overdue = sorted(
        (t for t in tasks if t.status != TaskStatus.DONE and t.due_date and t.due_date < today),
        key=lambda t: t.due_date,
    )
    if overdue:
        oldest = overdue[0]
        late = (today - oldest.due_date).days
        count = f"{len(overdue)} task{'s' if len(overdue) > 1 else ''}"
        reason = (
            f"{count} overdue in {phase.name}; the oldest, “{oldest.title}”, is {_days(late)} late."
        )
        result.raise_to(Health.RED if late > red_after_days else Health.AMBER, reason)

    phase_late = (today - phase.due_date).days if phase.due_date else 0
    if phase_late > 0:
        result.raise_to(
            Health.RED if phase_late > red_after_days else Health.AMBER,
            f"{phase.name} is {_days(phase_late)} past its due date ({phase.due_date:%Y-%m-%d}).",
        )

    blockers = [
        f"task “{t.title}” is blocked"
        for t in tasks
        if t.required and t.status == TaskStatus.BLOCKED
    ]
    blockers += [
        f"outcome “{o.name}” was rejected"
        for o in outcomes
        if o.required and o.review_status == ReviewStatus.REJECTED
    ]
    if blockers:
        result.raise_to(
            Health.RED if phase_late > 0 else Health.AMBER,
            f"The gate of {phase.name} is blocked: {'; '.join(blockers)}.",
        )

    if firing_alerts:
        plural = "s" if firing_alerts > 1 else ""
        result.raise_to(Health.AMBER, f"{firing_alerts} firing alert{plural} in production.")
    return result

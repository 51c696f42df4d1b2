"""Every write of the lifecycle domain that matters. Keyword-only, atomic, audited.

Views, admin actions, tasks and commands call these; none of them writes the models
directly. Refusals raise :class:`mlprojects.exceptions.DomainError` and leave nothing
half-written. One module a job: ``projects`` (projects, members, phase plans),
``transitions`` (advance, complete, move back), ``work`` (tasks, outcomes, reviews),
``health``.
"""

from phases.services.health import (
    project_health_refresh,
)
from phases.services.projects import (
    PROJECT_FIELDS,
    membership_remove,
    membership_set,
    phase_update,
    project_create,
    project_update,
)
from phases.services.transitions import (
    GateNotMet,
    phase_advance,
    phase_move_back,
    project_complete,
)
from phases.services.work import (
    OUTCOME_FIELDS,
    TASK_FIELDS,
    follow_up_task_create,
    outcome_accept,
    outcome_create,
    outcome_reject,
    outcome_submit,
    outcome_update,
    task_create,
    task_set_status,
    task_update,
)

__all__ = [
    "OUTCOME_FIELDS",
    "PROJECT_FIELDS",
    "TASK_FIELDS",
    "GateNotMet",
    "follow_up_task_create",
    "membership_remove",
    "membership_set",
    "outcome_accept",
    "outcome_create",
    "outcome_reject",
    "outcome_submit",
    "outcome_update",
    "phase_advance",
    "phase_move_back",
    "phase_update",
    "project_complete",
    "project_create",
    "project_health_refresh",
    "project_update",
    "task_create",
    "task_set_status",
    "task_update",
]

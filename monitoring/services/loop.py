"""The loop back from a firing alert: a follow-up task where it must be acted on, or a move back."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.text import capfirst

from mlprojects.exceptions import DomainError
from monitoring.choices import (
    MonitorKind,
)
from monitoring.models import (
    Alert,
)
from monitoring.services.common import User, locked_alert

# --- The loop back ----------------------------------------------------------------------

# The phase that must act on an alert of each kind, by name in either built-in lifecycle
# (ML development phases, MLOps lifecycle): drift and performance go back to modelling,
# data quality and freshness to the data pipelines.
ACTING_PHASES = {
    MonitorKind.DATA_DRIFT: ("Experimentation", "Modeling"),
    MonitorKind.PREDICTION_DRIFT: ("Experimentation", "Modeling"),
    MonitorKind.PERFORMANCE: ("Experimentation", "Modeling"),
    MonitorKind.DATA_QUALITY: ("Pipeline building", "Data"),
    MonitorKind.FRESHNESS: ("Pipeline building", "Data"),
}


def acting_phase(alert: Alert):
    """The project's phase that must act on ``alert``, or None (project health, or a
    lifecycle without such a phase)."""
    from phases.models import Phase

    names = ACTING_PHASES.get(alert.monitor.kind)
    if not names:
        return None
    return (
        Phase.objects.filter(project_id=alert.monitor.project_id, name__in=names)
        .order_by("order")
        .first()
    )


def _open_follow_up(alert: Alert):
    """The follow-up task of an earlier alert of the same monitor that is not done yet: a
    monitor that fires again while its problem is being worked on adds no second task."""
    from phases.choices import TaskStatus

    earlier = (
        Alert.objects.filter(monitor_id=alert.monitor_id, follow_up_task__isnull=False)
        .exclude(pk=alert.pk)
        .exclude(follow_up_task__status=TaskStatus.DONE)
        .select_related("follow_up_task")
        .order_by("-started_at", "-pk")
        .first()
    )
    return earlier and earlier.follow_up_task


def _follow_up(alert: Alert, *, by: User | None):
    if alert.follow_up_task_id is not None:
        return alert.follow_up_task
    task = _open_follow_up(alert)
    if task is not None:
        alert.follow_up_task = task
        alert.save(update_fields=["follow_up_task"])
        return task
    phase = acting_phase(alert)
    if phase is None:
        return None
    from phases.services import follow_up_task_create

    monitor = alert.monitor
    task = follow_up_task_create(
        phase=phase,
        by=by,
        # Someone must own it: the project's owner, who may hand it on.
        assignee=monitor.project.owner,
        title=f"Act on {alert.label}"[:200],
        description=(
            f"{capfirst(alert.label)} ({MonitorKind(monitor.kind).label.lower()}) in production "
            f"({alert.deployment.name if alert.deployment_id else 'no deployment'}): "
            f"{alert.summary}"
        ),
    )
    alert.follow_up_task = task
    alert.save(update_fields=["follow_up_task"])
    return task


@transaction.atomic
def alert_follow_up(*, alert: Alert, by: User | None):
    """Open (once) the follow-up task of ``alert`` in the phase that must act, or link the
    one an earlier alert of the monitor opened while that is not done yet."""
    alert = locked_alert(alert)
    task = _follow_up(alert, by=by)
    if task is None:
        raise DomainError(
            "no_acting_phase",
            f"No phase of {alert.monitor.project} acts on "
            f"{MonitorKind(alert.monitor.kind).label.lower()} alerts (it needs a phase named "
            + " or ".join(ACTING_PHASES.get(alert.monitor.kind, ("…",)))
            + ").",
        )
    return task


@transaction.atomic
def alert_move_back(
    *, alert: Alert, by: User | None, due_date: dt.date | None = None, note: str = ""
):
    """Move the project back to the phase that must act on ``alert``, in one step, with the
    alert as the recorded reason (and the mover's ``note`` after it); the follow-up task is
    opened there if it was not yet. ``due_date``: the reopened phase's, as for any move
    back (``phases.services.phase_move_back``)."""
    from phases.services import phase_move_back

    alert = locked_alert(alert)
    if alert.moved_back_id is not None:
        raise DomainError(
            "already_moved_back", "The project was already moved back from this alert."
        )
    phase = acting_phase(alert)
    if phase is None:
        raise DomainError(
            "no_acting_phase",
            f"No phase of {alert.monitor.project} acts on this alert; move the project back "
            "from its page instead.",
        )
    monitor = alert.monitor
    reason = (
        f"{capfirst(alert.label)} "
        f"({alert.get_state_display().lower()} since {alert.started_at:%Y-%m-%d %H:%M} UTC): "
        f"{alert.summary}"
    )
    if note.strip():
        reason = f"{reason} {note.strip()}"
    transition = phase_move_back(
        project=monitor.project, to_phase=phase, by=by, reason=reason, due_date=due_date
    )
    alert.moved_back = transition
    alert.save(update_fields=["moved_back"])
    _follow_up(alert, by=by)
    return transition

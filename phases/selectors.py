"""Reads of the lifecycle domain, shaped for pages and endpoints and free of N+1 queries."""

from collections.abc import Iterator

from django.db.models import Prefetch

from phases import gates
from phases.models import Outcome, Phase, Project, Task


def phase_gate(*, phase: Phase) -> gates.GateResult:
    """Evaluate the gate of ``phase`` from the database, without moving anything."""
    return gates.evaluate(
        phase,
        tasks=Task.objects.filter(phase=phase, required=True),
        outcomes=Outcome.objects.filter(phase=phase, required=True),
    )


def projects_for_health(*, project_ids: list[int] | None = None) -> Iterator[Project]:
    """Projects with their active phase, its tasks and its outcomes, in three queries a batch."""
    qs = Project.objects.select_related("current_phase").prefetch_related(
        Prefetch("current_phase__tasks", queryset=Task.objects.order_by("due_date", "id")),
        Prefetch("current_phase__outcomes", queryset=Outcome.objects.all()),
    )
    if project_ids is not None:
        qs = qs.filter(pk__in=project_ids)
    return qs.order_by("pk").iterator(chunk_size=500)

"""Project health, refreshed for the portfolio and the scheduled job."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from phases import health
from phases.models import (
    Project,
)
from phases.selectors import projects_for_health

User = AbstractBaseUser


# --- Health -----------------------------------------------------------------------------


def project_health_refresh(*, project_ids: list[int] | None = None) -> int:
    """Recompute health for the given projects (all when ``None``); returns how many changed.

    Reads in batches and writes with bulk updates outside one long transaction, so a
    schedule over thousands of projects never holds row locks for long.
    """
    today = timezone.localdate()
    now = timezone.now()
    firing = health.firing_alerts(project_ids)
    checked, changed = [], 0
    for project in projects_for_health(project_ids=project_ids):
        # A completed project has nothing left to be late or blocked on.
        phase = project.current_phase if project.completed_at is None else None
        result = health.assess(
            phase,
            tasks=phase.tasks.all() if phase else (),
            outcomes=phase.outcomes.all() if phase else (),
            today=today,
            red_after_days=settings.MLPROJECTS_RED_AFTER_DAYS,
            firing_alerts=firing.get(project.pk, 0),
        )
        changed += (project.health, project.health_reasons) != (result.health, result.reasons)
        project.health = result.health
        project.health_reasons = result.reasons
        project.health_checked_at = now
        checked.append(project)
    Project.objects.bulk_update(
        checked, ["health", "health_reasons", "health_checked_at"], batch_size=500
    )
    return changed

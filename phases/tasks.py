"""Celery tasks of the lifecycle domain: thin wrappers that call a service."""

from celery import shared_task

from phases import services

HEALTH_TASK = "phases.refresh_project_health"


@shared_task(name=HEALTH_TASK, time_limit=600, soft_time_limit=540)
def refresh_project_health() -> None:
    """Recompute every project's health; scheduled by beat from the database."""
    services.project_health_refresh()

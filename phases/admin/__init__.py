"""The admin for project managers: projects with their phases, tasks and outcomes, the
lifecycle templates they come from, and the transition history.

Every write to a project goes through ``phases.services``, the same functions the API calls:
the forms only validate input and report which fields changed, so the admin can never allow
what the API refuses (an assignee from outside the project, an edit in a completed phase, an
owner who is not a manager). ``DomainError`` becomes an admin message in one place only,
``common._refusal``. Lifecycle templates have no services and are saved as edited.

A module a page: ``projects``, ``outcomes``, ``history``, ``lifecycles``; importing them
registers their admins. The admins that come with Django and the libraries (people, groups,
sign-in lockouts, beat schedules) become the superuser's here: no project owns them.
"""

import axes.admin  # noqa: F401 (registers the admins made the superuser's below)
import django_celery_beat.admin  # noqa: F401
from django.contrib import admin
from django.contrib.auth import admin as auth_admin  # noqa: F401

from phases.admin.common import superuser_only
from phases.admin.history import MovedByFilter, TransitionAdmin
from phases.admin.inlines import (
    MembershipForm,
    MembershipInline,
    OutcomeInline,
    PhaseInline,
    ProjectAddForm,
    TaskInline,
    TransitionInline,
)
from phases.admin.lifecycles import (
    LifecycleTemplateAdmin,
    OutcomeTemplateInline,
    PhaseTemplateInline,
    TaskTemplateInline,
    TransitionRuleInline,
)
from phases.admin.outcomes import OutcomeAdmin, RejectForm
from phases.admin.projects import MoveBackForm, ProjectAdmin

__all__ = [
    "LifecycleTemplateAdmin",
    "MembershipForm",
    "MembershipInline",
    "MoveBackForm",
    "MovedByFilter",
    "OutcomeAdmin",
    "OutcomeInline",
    "OutcomeTemplateInline",
    "PhaseInline",
    "PhaseTemplateInline",
    "ProjectAddForm",
    "ProjectAdmin",
    "RejectForm",
    "TaskInline",
    "TaskTemplateInline",
    "TransitionAdmin",
    "TransitionInline",
    "TransitionRuleInline",
]

superuser_only(
    *(
        model
        for model in list(admin.site._registry)
        if model._meta.app_label in {"auth", "axes", "django_celery_beat"}
    )
)

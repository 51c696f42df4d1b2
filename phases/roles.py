"""Who may do what on a project: the one policy shared by the API, the dashboard and jobs.

A viewer reads; a contributor also edits tasks, handles alerts, submits outcomes, logs data
and registers models; a manager also moves phases, reviews outcomes, edits the project,
manages members, moves the production alias and deletes registered models. Superusers act
as managers of every project, as they do in the admin; the staff flag only opens the admin,
where a manager sees the projects they manage (``managed_projects``) and nothing else.
Someone who is not a member sees nothing of a project, not even that it exists.
"""

from enum import StrEnum

from django.db.models import OuterRef, QuerySet, Subquery, Value

from phases.choices import Role
from phases.models import Membership, Project


class Action(StrEnum):
    VIEW = "view"
    EDIT_TASKS = "edit_tasks"
    # Acknowledge, silence and resolve a monitor's alerts, and open a follow-up task.
    HANDLE_ALERTS = "handle_alerts"
    SUBMIT_OUTCOMES = "submit_outcomes"
    LOG_DATA = "log_data"
    MOVE_PHASES = "move_phases"
    REVIEW_OUTCOMES = "review_outcomes"
    EDIT_PROJECT = "edit_project"
    MANAGE_MEMBERS = "manage_members"
    # Move a project's production alias (a deployment) and delete registered models.
    MANAGE_MODELS = "manage_models"


_VIEWER = frozenset({Action.VIEW})
_CONTRIBUTOR = _VIEWER | {
    Action.EDIT_TASKS,
    Action.HANDLE_ALERTS,
    Action.SUBMIT_OUTCOMES,
    Action.LOG_DATA,
}
_MANAGER = frozenset(Action)

ALLOWED: dict[str, frozenset[Action]] = {
    Role.VIEWER: _VIEWER,
    Role.CONTRIBUTOR: _CONTRIBUTOR,
    Role.MANAGER: _MANAGER,
}


def allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ALLOWED[role]


def minimum_role(action: Action) -> Role:
    """The least role that may perform ``action``, for messages that say what is missing."""
    return next(
        role for role in (Role.VIEWER, Role.CONTRIBUTOR, Role.MANAGER) if allows(role, action)
    )


def with_role(queryset: QuerySet, user, *, project_path: str = "") -> QuerySet:
    """Scope ``queryset`` to the projects ``user`` may see and annotate ``caller_role``.

    ``project_path`` leads from the queryset's model to its project (``"phase__project"``
    for tasks); empty for projects themselves. One query, whatever the number of rows.
    """
    prefix = f"{project_path}__" if project_path else ""
    project_ref = project_path or "pk"
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset.annotate(caller_role=Value(Role.MANAGER.value))
    # No ordering: a membership is unique per project and user, and Membership's default
    # ordering would join the project and sort by its name in every row's subquery.
    role = (
        Membership.objects.filter(project=OuterRef(project_ref), user=user)
        .order_by()
        .values("role")[:1]
    )
    return queryset.filter(**{f"{prefix}memberships__user": user}).annotate(
        caller_role=Subquery(role)
    )


def visible_projects(user) -> QuerySet[Project]:
    return with_role(Project.objects.all(), user)


def managed_projects(user) -> QuerySet[Project]:
    """The projects ``user`` manages (every project for a superuser): what the admin shows
    them and lets them edit."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user, memberships__role=Role.MANAGER)

"""Project-role permissions for API views.

Lists are scoped in ``get_queryset`` (``phases.roles.with_role``), so an outsider never sees
a project's rows and gets 404 for its URLs. Objects carry the caller's role as
``caller_role``; a view names the action each of its endpoints needs in ``role_actions``.
"""

from django.db.models import QuerySet
from rest_framework import exceptions, permissions

from api.models import ApiToken
from phases.roles import Action, allows, minimum_role, with_role


def scoped(request, queryset: QuerySet, *, project_path: str = "") -> QuerySet:
    """``queryset`` cut to what the caller may see, with ``caller_role`` on every row.

    A token bound to one project narrows this further to that project.
    """
    queryset = with_role(queryset, request.user, project_path=project_path)
    token = request.auth
    if isinstance(token, ApiToken) and token.project_id is not None:
        queryset = queryset.filter(**{project_path or "pk": token.project_id})
    return queryset


def require(role: str | None, action: Action, subject: str = "this project") -> None:
    """Refuse with 403 naming the role that is needed; call after the object is visible."""
    if not allows(role, action):
        needed = minimum_role(action)
        raise exceptions.PermissionDenied(
            f"You need the {needed.label.lower()} role on {subject} to "
            f"{action.value.replace('_', ' ')}; you are {role or 'not a member'}."
        )


class HasProjectRole(permissions.IsAuthenticated):
    """Checks ``view.role_actions[view.action]`` against the object's ``caller_role``."""

    def has_object_permission(self, request, view, obj) -> bool:
        action = view.role_actions.get(view.action, Action.MANAGE_MEMBERS)
        require(getattr(obj, "caller_role", None), action)
        return True


class SignedInSession(permissions.IsAuthenticated):
    """Only a signed-in session manages API tokens: a token, whatever it may reach, can
    neither list, create nor revoke tokens (as GitHub's and GitLab's tokens cannot without
    a scope for it, which tokens here do not have). So no token can mint one that reaches
    further or lives longer than itself, nor revoke its owner's other tokens."""

    message = (
        "API tokens are managed from a signed-in session (sign in, then use /api/v1/tokens/), "
        "never with a token."
    )

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and not isinstance(request.auth, ApiToken)

"""The project a dashboard page is about, as the caller may reach it: a project they may
not see answers 404, as if it did not exist, and an action their role does not allow
answers 403. The policy is ``phases.roles``', the one the API asks too."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from dashboard import selectors
from phases.models import Project
from phases.roles import Action, allows


def require(project: Project, action: Action) -> None:
    if not allows(project.caller_role, action):
        raise PermissionDenied(f"Your role on {project} does not allow this.")


def caller_project(request, slug: str, action: Action | None = None) -> Project:
    """The project by ``slug`` if the caller may see it, and, given ``action``, once their
    role allows it. Pages that read a project's rows ask for ``Action.VIEW``: every member
    has it today, and asking keeps that true if a role without it is ever added."""
    project = selectors.project_for(user=request.user, slug=slug)
    if project is None:
        raise Http404("No such project.")
    if action is not None:
        require(project, action)
    return project

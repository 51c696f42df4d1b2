"""The models section of a project's page, and a registered version's page: its model card,
the Markdown download of the card, and (for managers) deploying it by moving the project's
production alias to it.

Reads come from ``dashboard.selectors.models``, the chart from ``dashboard.figures``, the
one write from ``registry.services``; who may do what is ``phases.roles``, as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from dashboard import figures, selectors
from dashboard.access import caller_project
from mlprojects.exceptions import DomainError
from phases.models import Project
from phases.roles import Action, allows
from registry import cards
from registry import selectors as registry_selectors
from registry import services as registry
from registry.models import ModelVersion

# The tick a manager gives to deploy a version that misses the project's target.
BELOW_TARGET = "below_target"


def models_context(project: Project) -> dict:
    """The project page's models section: None when the project registered no model."""
    return {"models": selectors.project_models(project=project)}


def _page(project: Project, name: str, number: int) -> selectors.VersionPage:
    page = selectors.version_page(project=project, name=name, number=number)
    if page is None:
        raise Http404("No such version of a model of this project.")
    return page


def version_url(project: Project, version: ModelVersion) -> str:
    return reverse(
        "dashboard:model-version",
        args=[project.slug, version.registered_model.name, version.version],
    )


@login_required
@require_safe
def model_version(request, slug: str, name: str, number: int):
    project = caller_project(request, slug, Action.VIEW)
    page = _page(project, name, number)
    chart = figures.version_values(
        [
            figures.VersionValue(
                number=row.number,
                value=row.value,
                in_production=row.in_production,
                current=row.version.pk == page.card.version.pk,
            )
            for row in page.siblings
        ],
        metric=project.metric_title(page.metric),
        target=page.target,
        maximize=page.maximize,
        production_alias=page.card.production_alias,
    )
    return render(
        request,
        "dashboard/model_version.html",
        {
            "project": project,
            "page": page,
            "card": page.card,
            "row": page.row,
            "chart": chart if page.metric else None,
            "can_promote": allows(project.caller_role, Action.MANAGE_MODELS),
        },
    )


@login_required
@require_safe
def model_card_markdown(request, slug: str, name: str, number: int):
    project = caller_project(request, slug, Action.VIEW)
    card = _page(project, name, number).card
    response = HttpResponse(cards.card_markdown(card), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cards.card_filename(card.version)}"'
    return response


@login_required
@require_POST
def model_version_promote(request, slug: str, name: str, number: int):
    """Deploy: the project's production alias moves to this version, a recorded event."""
    project = caller_project(request, slug, Action.MANAGE_MODELS)
    version = (
        selectors.project_version(project=project, name=name, number=number)
        .select_related("registered_model")
        .first()
    )
    if version is None:
        raise Http404("No such version of a model of this project.")
    alias = registry.production_alias(project)
    evaluation = cards.evaluation_of(project, registry_selectors.version_metrics(version))
    if evaluation is not None and evaluation.met is False and not request.POST.get(BELOW_TARGET):
        # The card says so beside the button, and the form asks for a tick; a request
        # without it (a stale page, a script) is not a deployment.
        messages.error(
            request,
            f"{name} v{number} misses the target: tick “deploy although it misses the "
            "target” to deploy it anyway.",
        )
        return redirect(version_url(project, version))
    try:
        registry.alias_set(version=version, alias=alias, by=request.user)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{name} v{number} is now at “{alias}”: deployed.")
    return redirect(version_url(project, version))

"""Sweep pages: start a sweep from a form (or a retraining sweep prefilled from production,
on production's labelled rows exported first), follow it live, steer it (cancel, resume,
retry the failed trials) and make its best trial the evidence of the Experimentation
outcome.

Roles are ``phases.roles``' as everywhere: members see sweeps, contributors start and steer
them, managers set evidence. Writes go through ``experiments.services`` (and
``monitoring.services`` for the export of production's rows); a refusal is a message,
never an error page.
"""

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from dashboard import figures
from dashboard.access import caller_project
from dashboard.figures import sweeps as sweep_figures
from dashboard.selectors import sweeps as selectors
from dashboard.sweep_forms import BuiltinDatasetForm, SweepForm, UploadDatasetForm
from dashboard.views import WEBGL_CHART_CSP
from experiments import selectors as experiment_selectors
from experiments import services
from experiments.models import Dataset, Sweep
from experiments.sweeps import FAMILIES
from mlprojects.exceptions import DomainError
from monitoring import retraining
from monitoring import services as monitoring
from monitoring.models import Deployment
from monitoring.selectors import production_dataset_current
from phases.roles import Action, allows

POLL_SECONDS = 3
# The forms that add a dataset where a sweep starts, by the value of their submit button.
DATASET_FORMS = {"builtin": BuiltinDatasetForm, "upload": UploadDatasetForm}
# How many of a run's params the retraining form names when none of them is a family.
PARAMS_NAMED = 6


def _sweep(project, sweep_id: int) -> Sweep:
    sweep = selectors.sweep_of(project=project, sweep_id=sweep_id)
    if sweep is None:
        raise Http404("No such sweep.")
    return sweep


def _page_url(project, sweep: Sweep) -> str:
    return reverse("dashboard:sweep", args=[project.slug, sweep.pk])


def _charts(page: selectors.SweepPage) -> dict:
    scored = [(t.number, t.value) for t in page.placed]
    return {
        "best": sweep_figures.best_so_far(
            page.best_so_far, metric=page.objective, maximize=page.maximize, values=scored
        )
        if page.best_so_far
        else None,
        "params": figures.parallel_coordinates(
            [
                figures.RunParams(
                    label=f"trial {t.number}",
                    params={k: selectors.param_text(v) for k, v in t.params.items()},
                    value=t.value,
                )
                for t in page.placed
            ],
            metric=page.objective,
            maximize=page.maximize,
        )
        if len(page.placed) >= 2
        else None,
        "importances": sweep_figures.importances(page.importances) if page.importances else None,
    }


@login_required
@require_safe
@csp_update(WEBGL_CHART_CSP)
def sweep_detail(request, slug: str, sweep_id: int):
    """The page; ``?part=trials`` its trials' table alone, which ``sweep.js`` swaps in as
    trials finish, so the table never shows them as they were when the page was drawn."""
    project = caller_project(request, slug)
    sweep = _sweep(project, sweep_id)
    if request.GET.get("part") == "trials":
        table = selectors.sweep_trials_table(sweep=sweep)
        response = render(
            request, "dashboard/sweeps/_trials.html", {"project": project, "table": table}
        )
        add_never_cache_headers(response)
        return response
    page = selectors.sweep_page(sweep=sweep)
    return render(
        request,
        "dashboard/sweep.html",
        {
            "project": project,
            "page": page,
            "sweep": sweep,
            "charts": _charts(page),
            "can_steer": allows(project.caller_role, Action.LOG_DATA),
            "can_set_evidence": allows(project.caller_role, Action.REVIEW_OUTCOMES),
            "progress_url": reverse("dashboard:sweep-progress", args=[project.slug, sweep.pk]),
            "trials_url": f"{_page_url(project, sweep)}?part=trials",
            "poll_seconds": POLL_SECONDS,
        },
    )


@login_required
@never_cache
@require_safe
def sweep_progress(request, slug: str, sweep_id: int):
    """What the progress bar polls: ``experiments.selectors.sweep_progress`` as JSON."""
    project = caller_project(request, slug)
    sweep = get_object_or_404(Sweep.objects.only("pk", "project"), project=project, pk=sweep_id)
    return JsonResponse(experiment_selectors.sweep_progress(sweep))


def _copied(spec: dict, plan) -> dict:
    """What the retraining form copied from the deployed run, so its page promises no more:
    the family it names (a sweep's trial, a run that logged a ``family`` of the allowlist,
    or one autologged with an estimator of it), else the run's first params, which name
    none."""
    known = FAMILIES.get(spec.get("task"), {})
    families = [known[key].label if key in known else key for key in spec.get("families", ())]
    params = sorted(plan.params.items())
    return {
        "families": families,
        "params": [] if families else params[:PARAMS_NAMED],
        "more_params": 0 if families else max(len(params) - PARAMS_NAMED, 0),
    }


def _dataset_forms(request, project, posted: str | None) -> tuple[dict, Dataset | None]:
    """The forms that add a dataset (a built-in one, or a CSV upload), the ``posted`` one
    bound, and the dataset it added, if it did."""
    forms = {
        kind: form_class(request.POST, request.FILES) if kind == posted else form_class()
        for kind, form_class in DATASET_FORMS.items()
    }
    added = forms.get(posted)
    if added is None or not added.is_valid():
        return forms, None
    try:
        dataset = services.dataset_create(project=project, user=request.user, **added.dataset())
    except DomainError as error:
        added.refused(error)
        return forms, None
    return forms, dataset


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sweep_new(request, slug: str):
    """The form; ``?retrain=<deployment id>`` prefills it from the deployed version's run.
    The page also adds a dataset (built in or uploaded), so a project without one can go on
    to its sweep: the form then comes back with the dataset to choose."""
    project = caller_project(request, slug, Action.LOG_DATA)
    datasets = Dataset.objects.filter(project=project).order_by("name")
    initial, plan, copied = {}, None, None
    deployment_id = request.GET.get("retrain") or request.POST.get("retrain")
    if deployment_id:
        deployment = Deployment.objects.filter(
            project=project, pk=int(deployment_id) if deployment_id.isdigit() else 0
        ).first()
        if deployment is None:
            raise Http404("No such deployment.")
        spec, plan = retraining.retraining_spec(deployment=deployment)
        initial = SweepForm.prefill(spec)
        copied = _copied(spec, plan)
    posted = request.POST.get("add") if request.method == "POST" else None
    dataset_forms, added = _dataset_forms(request, project, posted)
    if added is not None:
        messages.success(
            request, f"Dataset “{added.name}” added: {added.rows:,} rows, target {added.target}."
        )
        return redirect(request.get_full_path())
    adding = posted in DATASET_FORMS
    form = SweepForm(None if adding else request.POST or None, datasets=datasets, initial=initial)
    if request.method == "POST" and not adding and form.is_valid():
        try:
            sweep = services.sweep_create(project=project, user=request.user, **form.spec())
        except DomainError as error:
            form.refused(error)
        else:
            messages.success(request, f"Sweep “{sweep.name}” started: its trials are queued.")
            return redirect(_page_url(project, sweep))
    return render(
        request,
        "dashboard/sweep_new.html",
        {
            "project": project,
            "form": form,
            "plan": plan,
            "copied": copied,
            "has_datasets": datasets.exists(),
            "dataset_forms": dataset_forms,
            "adding": adding,
        },
    )


@login_required
@require_POST
def sweep_retrain(request, slug: str, deployment_id: int):
    """ "Start a retraining sweep" of the monitoring section: export production's labelled
    rows (unless an export still holds them all), then the form prefilled on them. Too few
    labelled rows is a message, and the form starts from the run's own dataset."""
    project = caller_project(request, slug, Action.LOG_DATA)
    deployment = get_object_or_404(Deployment, project=project, pk=deployment_id)
    if production_dataset_current(deployment=deployment) is None:
        try:
            dataset = monitoring.production_dataset_export(deployment=deployment, by=request.user)
        except DomainError as error:
            messages.error(request, f"Production's rows were not exported: {error.message}")
        else:
            messages.success(request, f"Dataset “{dataset.name}”: {dataset.origin['summary']}")
    form = reverse("dashboard:sweep-new", args=[project.slug])
    return redirect(f"{form}?retrain={deployment.pk}")


VERBS = {
    "cancel": (services.sweep_cancel, "Cancelling: queued trials will not start."),
    "resume": (services.sweep_resume, "Resumed: its trials are queued again."),
    "retry-failed": (services.sweep_retry_failed, "The failed trials are queued again."),
}


@login_required
@require_POST
def sweep_act(request, slug: str, sweep_id: int, verb: str):
    if verb not in VERBS:
        raise Http404("No such action.")
    project = caller_project(request, slug, Action.LOG_DATA)
    sweep = _sweep(project, sweep_id)
    act, done = VERBS[verb]
    try:
        act(sweep=sweep, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_page_url(project, sweep))


@login_required
@require_POST
def sweep_evidence(request, slug: str, sweep_id: int):
    project = caller_project(request, slug, Action.REVIEW_OUTCOMES)
    sweep = _sweep(project, sweep_id)
    try:
        outcome = services.sweep_best_as_evidence(sweep=sweep, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The best trial's run is now evidence of “{outcome.name}”.")
    return redirect(_page_url(project, sweep))

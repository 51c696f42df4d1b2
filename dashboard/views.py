"""Stakeholder pages: the portfolio, a project's status page, its runs, and its shared link.

Views stay thin: reads come from ``dashboard.selectors``, figures from ``dashboard.figures``,
writes go through ``phases.services`` and ``dashboard.services``. Who may see a project and
who may move it is decided by ``phases.roles``, the policy the API uses too: a project the
caller may not see answers 404, an action their role does not allow answers 403, and a
refusal of the domain (a closed gate) becomes a message on the page, never an error page.
"""

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from dashboard import figures, model_views, selectors
from dashboard import services as dashboard_services
from dashboard.access import caller_project
from dashboard.forms import (
    AlertMoveBackForm,
    MoveBackForm,
    PortfolioFilterForm,
    RejectOutcomeForm,
    RunSearchForm,
    SharedLinkForm,
)
from dashboard.models import SharedLink
from mlprojects.exceptions import DomainError
from monitoring import services as monitoring_services
from monitoring.models import Alert
from phases import selectors as phase_selectors
from phases import services as phase_services
from phases.models import Outcome, Project
from phases.roles import Action, allows

LIVE_INTERVAL_SECONDS = 20


# --- Portfolio --------------------------------------------------------------------------


@login_required
@require_safe
def portfolio(request):
    choices = selectors.filter_choices(request.user)
    form = PortfolioFilterForm(request.GET, choices=choices)
    data = selectors.portfolio(
        user=request.user,
        filters=form.filters(),
        page_number=request.GET.get("page"),
        sort=request.GET.get("sort", ""),
        lifecycles=choices.templates,
    )
    charts = {
        "per_phase": figures.projects_per_phase(data.per_phase) if data.per_phase else None,
        "stays": figures.time_in_phase(data.stays) if data.stays else None,
        "loops": figures.loop_backs(data.loop_backs) if data.loop_backs else None,
    }
    return render(
        request,
        "dashboard/portfolio.html",
        {"form": form, "portfolio": data, "charts": charts},
    )


# --- Project status ---------------------------------------------------------------------


def _live_context(project: Project, *, can_move: bool, live_url: str) -> dict:
    return {
        "project": project,
        "live": selectors.project_live(project=project),
        "can_move": can_move,
        "live_url": live_url,
        "live_interval": LIVE_INTERVAL_SECONDS,
    }


def _status_context(
    project: Project,
    *,
    shared: SharedLink | None = None,
    live_url: str = "",
    move_back_form: MoveBackForm | None = None,
    share_form: SharedLinkForm | None = None,
    rejecting: tuple[int, RejectOutcomeForm] | None = None,
) -> dict:
    """The status page's context; through a shared link it holds no action and no form."""
    can_move = shared is None and allows(project.caller_role, Action.MOVE_PHASES)
    can_share = shared is None and allows(project.caller_role, Action.MANAGE_MEMBERS)
    can_review = shared is None and allows(project.caller_role, Action.REVIEW_OUTCOMES)
    live_url = live_url or reverse("dashboard:project-live", args=[project.slug])
    status = selectors.project_status(project=project)
    context = _live_context(project, can_move=can_move, live_url=live_url)
    experiments = selectors.project_experiments(project=project)
    context.update(
        status=status,
        shared=shared,
        can_share=can_share,
        timeline=figures.phase_timeline(
            status.planned,
            status.visits,
            status.moves,
            now=timezone.localtime(),
            finish=status.finish,
        ),
        experiments=experiments,
        experiment_charts=_experiment_charts(experiments, label=project.metric_name),
        can_review=can_review,
        rejecting_id=rejecting[0] if rejecting else None,
        reject_form=rejecting[1] if rejecting else RejectOutcomeForm(),
    )
    context.update(_monitoring_context(project, can_act=shared is None))
    context.update(model_views.models_context(project))
    if can_move:
        context["move_back_form"] = move_back_form or MoveBackForm(
            targets=phase_selectors.back_targets(project=project).select_related("template"),
            today=timezone.localdate(),
        )
    if can_share:
        context["share_form"] = share_form or SharedLinkForm()
        context["shared_links"] = selectors.shared_links(project=project)
    return context


def _monitoring_context(project: Project, *, can_act: bool) -> dict:
    monitoring = selectors.project_monitoring(project=project)
    if monitoring is None:
        return {"monitoring": None}
    cards = [
        {
            "row": row,
            "figure": figures.monitor_series(row.points, threshold=row.threshold, unit=row.unit)
            if row.charted
            else None,
            "chart_id": f"chart-monitor-{row.monitor.pk}",
            "data_id": f"chart-monitor-{row.monitor.pk}-data",
        }
        for row in monitoring.monitors
    ]
    features = selectors.drift_chart_rows(monitoring.features, monitoring.drift_window)
    return {
        "monitoring": monitoring,
        "monitor_cards": cards,
        "monitoring_charts": {"drift": figures.feature_drift(features) if features else None},
        "can_act_on_alerts": can_act and allows(project.caller_role, Action.HANDLE_ALERTS),
        "can_retrain": can_act and allows(project.caller_role, Action.LOG_DATA),
        "now": timezone.now(),
    }


def _experiment_charts(experiments: selectors.ProjectExperiments, *, label: str) -> dict:
    best = experiments.best
    return {
        "success": figures.success_gauge(
            metric=label,
            best=best.value,
            target=experiments.target,
            maximize=experiments.maximize,
        )
        if best
        else None,
        "curves": figures.metric_curves(experiments.curves, metric=label, target=experiments.target)
        if figures.worth_drawing(experiments.curves)
        else None,
    }


@login_required
@require_safe
def project_detail(request, slug: str):
    project = caller_project(request, slug)
    return render(request, "dashboard/project.html", _status_context(project))


def _live_response(request, project: Project, context: dict) -> HttpResponse:
    response = render(request, "dashboard/project/_live.html", context)
    response["X-Live-State"] = context["live"].state
    return response


@login_required
@never_cache
@require_safe
def project_live(request, slug: str):
    """The gate, health and phase block alone, which the page polls to stay current."""
    project = caller_project(request, slug)
    can_move = allows(project.caller_role, Action.MOVE_PHASES)
    live_url = reverse("dashboard:project-live", args=[project.slug])
    return _live_response(
        request, project, _live_context(project, can_move=can_move, live_url=live_url)
    )


def _back_to(project: Project, anchor: str = "") -> HttpResponse:
    url = reverse("dashboard:project", args=[project.slug])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _say(request, level: int, text: str, *, section: str) -> None:
    """A message shown in ``section`` of the status page, where the user acted, rather
    than at the top of the page, out of view after the reload."""
    messages.add_message(request, level, text, extra_tags=f"section-{section}")


def _answer(request, project: Project, section: str, act) -> HttpResponse:
    """Run ``act`` (a service call that returns what to say); a refusal is said instead,
    in the same place, and the page reloads at that place."""
    try:
        said = act()
    except DomainError as exc:
        _say(request, messages.ERROR, exc.message, section=section)
    else:
        _say(request, messages.SUCCESS, said, section=section)
    return _back_to(project, f"feedback-{section}")


def _note(request, field: str = "reason") -> str:
    """What the user wrote in ``field`` of the form, at most 2,000 characters of it."""
    return request.POST.get(field, "")[:2000]


def _phase_move(request, slug: str, move) -> HttpResponse:
    """A move of the project's phases with the reason given, answered in the status
    section; ``move(project, reason)`` calls the service and returns what to say."""
    project = caller_project(request, slug, Action.MOVE_PHASES)
    return _answer(request, project, "status", lambda: move(project, _note(request)))


@login_required
@require_POST
def project_advance(request, slug: str):
    def move(project: Project, reason: str) -> str:
        transition = phase_services.phase_advance(project=project, by=request.user, reason=reason)
        return f"{project.name} moved on to {transition.to_phase.name}."

    return _phase_move(request, slug, move)


@login_required
@require_POST
def project_complete(request, slug: str):
    def move(project: Project, reason: str) -> str:
        phase_services.project_complete(project=project, by=request.user, reason=reason)
        return f"{project.name} is completed. A loop back to an earlier phase reopens it."

    return _phase_move(request, slug, move)


@login_required
@require_POST
def project_move_back(request, slug: str):
    project = caller_project(request, slug, Action.MOVE_PHASES)
    form = MoveBackForm(
        request.POST,
        targets=phase_selectors.back_targets(project=project).select_related("template"),
        today=timezone.localdate(),
    )
    transition = None
    if form.is_valid():
        try:
            transition = phase_services.phase_move_back(
                project=project,
                to_phase=form.cleaned_data["to_phase"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                due_date=form.cleaned_data["due_date"],
            )
        except DomainError as exc:
            form.refused(exc)
    if transition is None:
        # The form again, with what was typed and the error on its field, focused.
        context = _status_context(project, move_back_form=form)
        return render(request, "dashboard/project.html", context, status=400)
    reopened = transition.to_phase
    _say(
        request,
        messages.SUCCESS,
        f"{project.name} moved back to {reopened.name}, now due "
        f"{reopened.due_date.day} {reopened.due_date:%b %Y}; the later phases moved with it.",
        section="status",
    )
    return _back_to(project, "feedback-status")


# --- Outcome reviews --------------------------------------------------------------------


def _outcome(project: Project, outcome_id: int) -> Outcome:
    return get_object_or_404(Outcome, pk=outcome_id, phase__project=project)


@login_required
@require_POST
def outcome_accept(request, slug: str, outcome_id: int):
    project = caller_project(request, slug, Action.REVIEW_OUTCOMES)
    outcome = _outcome(project, outcome_id)

    def act() -> str:
        phase_services.outcome_accept(outcome=outcome, by=request.user)
        return f"“{outcome.name}” is accepted."

    return _answer(request, project, "work", act)


@login_required
@require_POST
def outcome_reject(request, slug: str, outcome_id: int):
    project = caller_project(request, slug, Action.REVIEW_OUTCOMES)
    outcome = _outcome(project, outcome_id)
    form = RejectOutcomeForm(request.POST)
    if not form.is_valid():
        context = _status_context(project, rejecting=(outcome.pk, form))
        return render(request, "dashboard/project.html", context, status=400)

    def act() -> str:
        phase_services.outcome_reject(
            outcome=outcome, by=request.user, note=form.cleaned_data["note"]
        )
        return f"“{outcome.name}” is rejected; the team sees your note in the gate."

    return _answer(request, project, "work", act)


# --- Alerts -----------------------------------------------------------------------------


def _alert(project: Project, alert_id: int) -> Alert:
    return get_object_or_404(Alert, pk=alert_id, monitor__project=project)


def _alert_action(request, slug: str, alert_id: int, *, action: Action, act) -> HttpResponse:
    project = caller_project(request, slug, action)
    alert = _alert(project, alert_id)
    return _answer(request, project, "monitoring", lambda: act(alert))


@login_required
@require_POST
def alert_acknowledge(request, slug: str, alert_id: int):
    def act(alert):
        monitoring_services.alert_acknowledge(alert=alert, by=request.user)
        return f"Acknowledged {alert.label}: repeats stop."

    return _alert_action(request, slug, alert_id, action=Action.HANDLE_ALERTS, act=act)


@login_required
@require_POST
def alert_resolve(request, slug: str, alert_id: int):
    def act(alert):
        monitoring_services.alert_resolve(alert=alert, by=request.user, note=_note(request, "note"))
        return f"Resolved {alert.label}."

    return _alert_action(request, slug, alert_id, action=Action.HANDLE_ALERTS, act=act)


@login_required
@require_POST
def alert_move_back(request, slug: str, alert_id: int):
    form = AlertMoveBackForm(request.POST)

    def act(alert):
        if not form.is_valid():
            raise DomainError("invalid", form.errors_in_words())
        transition = monitoring_services.alert_move_back(
            alert=alert, by=request.user, **form.cleaned_data
        )
        return (
            f"{transition.project.name} moved back to {transition.to_phase.name}, "
            f"with {alert.label} as the reason."
        )

    return _alert_action(request, slug, alert_id, action=Action.MOVE_PHASES, act=act)


# --- Runs -------------------------------------------------------------------------------


@login_required
@require_safe
def project_runs(request, slug: str):
    project = caller_project(request, slug, Action.VIEW)
    choices = selectors.run_choices(project=project)
    form = RunSearchForm(request.GET, choices=choices)
    query = form.query()
    runs = (
        selectors.project_runs(
            project=project, query=query, page_number=request.GET.get("page"), choices=choices
        )
        if query is not None
        else None
    )
    return render(
        request,
        "dashboard/runs.html",
        {
            "project": project,
            "form": form,
            "runs": runs,
            "choices": choices,
            "max_compared": selectors.MAX_COMPARED,
        },
        status=400 if query is None else 200,
    )


@login_required
@require_safe
def run_detail(request, slug: str, run_id: str):
    project = caller_project(request, slug, Action.VIEW)
    detail = selectors.run_detail(
        project=project, run_id=run_id, chart_page=request.GET.get("charts", 1)
    )
    if detail is None:
        raise Http404("No such run in this project.")
    charts = [
        (
            chart,
            figures.metric_curves(
                [chart.curve],
                metric=project.metric_title(chart.key),
                target=project.success_target if chart.key == project.success_metric else None,
                height=260,
            ),
        )
        for chart in detail.charts
    ]
    return render(
        request,
        "dashboard/run.html",
        {"project": project, "detail": detail, "charts": charts},
    )


# The comparison's parallel coordinates are Plotly's one WebGL chart, drawn by regl, which
# compiles its drawing code with ``Function`` at run time, and whose colour bar clears a
# ``style`` attribute. This page alone therefore lets scripts of the site evaluate code
# and allows the empty style attribute (its hash, nothing else); every other page keeps
# the site's policy, and no page runs inline script.
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
WEBGL_CHART_CSP = {
    "script-src": ["'unsafe-eval'"],
    "style-src-attr": ["'unsafe-hashes'", EMPTY_STYLE_HASH],
}


@login_required
@require_safe
@csp_update(WEBGL_CHART_CSP)
def run_compare(request, slug: str):
    project = caller_project(request, slug, Action.VIEW)
    comparison = selectors.compare_runs(
        project=project,
        run_ids=selectors.requested_runs(request.GET.getlist("runs")),
        key=request.GET.get("key", ""),
    )
    target = project.success_target if comparison.key == project.success_metric else None
    label = project.metric_title(comparison.key)
    charts = {
        "curves": figures.metric_curves(comparison.curves, metric=label, target=target)
        if figures.worth_drawing(comparison.curves)
        else None,
        "params": figures.parallel_coordinates(
            comparison.points, metric=label, maximize=comparison.maximize
        )
        if comparison.placed >= 2
        else None,
    }
    if request.GET.get("part") == "figures":
        # What static/js/compare.js asks for when the reader picks another metric: the
        # charts alone, redrawn without reloading the page.
        return JsonResponse({"key": comparison.key, "label": label, **charts})
    return render(
        request,
        "dashboard/compare.html",
        {
            "project": project,
            "comparison": comparison,
            "charts": charts,
            "max_compared": selectors.MAX_COMPARED,
        },
    )


# --- Shared links -----------------------------------------------------------------------


@login_required
@require_POST
def shared_link_create(request, slug: str):
    project = caller_project(request, slug, Action.MANAGE_MEMBERS)
    form = SharedLinkForm(request.POST)
    if not form.is_valid():
        context = _status_context(project, share_form=form)
        return render(request, "dashboard/project.html", context, status=400)

    def act() -> str:
        dashboard_services.shared_link_create(
            project=project,
            by=request.user,
            label=form.cleaned_data["label"],
            expires_at=form.expires_at(timezone.now()),
        )
        return "Shared link created: copy it from the list below."

    return _answer(request, project, "sharing", act)


@login_required
@require_POST
def shared_link_revoke(request, slug: str, link_id: int):
    project = caller_project(request, slug, Action.MANAGE_MEMBERS)
    link = get_object_or_404(SharedLink, pk=link_id, project=project)
    dashboard_services.shared_link_revoke(link=link, by=request.user)
    _say(
        request,
        messages.SUCCESS,
        "Shared link revoked: it no longer opens the page.",
        section="sharing",
    )
    return _back_to(project, "feedback-sharing")


def _shared(token: str) -> SharedLink:
    link = selectors.shared_link_from_token(token)
    if link is None:
        raise Http404("No such link.")
    return link


def _private(response: HttpResponse) -> HttpResponse:
    """Keep shared pages out of search engines and shared caches, so revoking is final."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def shared_status(request, token: str):
    link = _shared(token)
    live_url = reverse("dashboard:shared-live", args=[token])
    context = _status_context(link.project, shared=link, live_url=live_url)
    return _private(render(request, "dashboard/project.html", context))


@require_safe
def shared_live(request, token: str):
    link = _shared(token)
    live_url = reverse("dashboard:shared-live", args=[token])
    context = _live_context(link.project, can_move=False, live_url=live_url)
    context["shared"] = link
    return _private(_live_response(request, link.project, context))

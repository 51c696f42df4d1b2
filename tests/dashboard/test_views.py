"""The dashboard's pages through HTTP: who sees what, who may move a project, and how."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from dashboard import plotly
from phases import services
from phases.choices import Health, PhaseStatus, Role, TransitionKind
from phases.models import Project, Transition
from tests.dashboard.conftest import PASSWORD, advance, client_for, complete
from tests.factories import UserFactory, make_project, to_last_phase

pytestmark = pytest.mark.django_db

PORTFOLIO = reverse("dashboard:portfolio")


def project_url(project, name: str = "project") -> str:
    return reverse(f"dashboard:{name}", args=[project.slug])


def figure(response, chart_id: str) -> dict:
    """The figure a page embedded for ``chart_id``, as the browser would parse it."""
    html = response.content.decode()
    match = re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', html)
    assert match, f"{chart_id} is not on the page"
    return json.loads(match.group(1))


# --- Sign-in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        PORTFOLIO,
        "/projects/any/",
        "/projects/any/live/",
    ],
)
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("action", ["project-advance", "project-move-back", "shared-link-create"])
def test_anonymous_cannot_post_actions(client, project, action):
    response = client.post(project_url(project, action))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Transition.objects.filter(project=project).count() == 1


def test_sign_in_with_the_form_lands_on_the_portfolio(manager, project):
    client = Client()
    page = client.get(reverse("login"))
    assert b'<label for="id_username">Username</label>' in page.content
    response = client.post(
        reverse("login"), {"username": "morgan", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == PORTFOLIO
    assert project.name in response.content.decode()


def test_sign_in_refusal_says_why(manager):
    response = Client().post(reverse("login"), {"username": "morgan", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_out_is_a_post(manager):
    client = client_for(manager)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(PORTFOLIO).status_code == 302


# --- Portfolio --------------------------------------------------------------------------


def test_portfolio_lists_only_the_projects_of_the_caller(manager, outsider, project):
    other = make_project(owner=outsider, name="Outsider secret project")

    mine = client_for(manager).get(PORTFOLIO).content.decode()
    assert project.name in mine
    assert other.name not in mine

    theirs = client_for(outsider).get(PORTFOLIO).content.decode()
    assert other.name in theirs
    assert project.name not in theirs


def test_staff_see_every_project(staff, project, outsider):
    other = make_project(owner=outsider, name="Outsider secret project")
    html = client_for(staff).get(PORTFOLIO).content.decode()
    assert project.name in html
    assert other.name in html


def test_portfolio_row_shows_phase_health_owner_time_and_next_due(manager, project):
    Project.objects.filter(pk=project.pk).update(
        health=Health.AMBER, health_reasons=["Ideation and planning is 3 days past its due date."]
    )
    phase = project.current_phase
    html = client_for(manager).get(PORTFOLIO).content.decode()
    row = html[html.index(project.name) :]
    row = row[: row.index("</tr>")]
    assert phase.name in row
    assert "Amber" in row
    assert "3 days past its due date" in row
    assert "Morgan Hayes" in row
    assert "0 days" in row
    assert f'datetime="{phase.due_date:%Y-%m-%d}"' in row


def test_portfolio_filters(manager, project):
    later = make_project(owner=manager, name="Demand forecasting", template="mlops-lifecycle")
    Project.objects.filter(pk=later.pk).update(health=Health.RED)
    client = client_for(manager)

    def names(**params):
        html = client.get(PORTFOLIO, params).content.decode()
        return {p.name for p in (project, later) if f">{p.name}</a>" in html}

    assert names() == {project.name, later.name}
    assert names(health="red") == {later.name}
    assert names(lifecycle="mlops-lifecycle") == {later.name}
    assert names(phase="Ideation and planning") == {project.name}
    assert names(owner=manager.pk) == {project.name, later.name}
    assert names(health="green", lifecycle="mlops-lifecycle") == set()
    # A value that is not on offer is dropped, not fatal.
    assert names(owner="999999", health="purple") == {project.name, later.name}


def test_portfolio_filter_form_offers_only_what_the_caller_sees(manager, project):
    stranger = UserFactory(username="stranger", first_name="Zed", last_name="Stranger")
    make_project(owner=stranger, name="Elsewhere", template="mlops-lifecycle")
    html = client_for(manager).get(PORTFOLIO).content.decode()
    assert "Morgan Hayes" in html
    assert "Zed Stranger" not in html
    assert "MLOps lifecycle" not in html
    for field in ("lifecycle", "phase", "owner"):
        assert f'<label for="id_{field}">' in html
    assert "<legend>Health</legend>" in html


def test_portfolio_empty_state_says_what_to_do(outsider):
    html = client_for(outsider).get(PORTFOLIO).content.decode()
    assert "No projects yet" in html
    assert "/api/v1/projects/" in html


def test_portfolio_empty_filter_result_says_how_to_widen(manager, project):
    html = client_for(manager).get(PORTFOLIO, {"health": "red"}).content.decode()
    assert "No project matches these filters" in html


def test_portfolio_charts(manager, viewer, project):
    advance(project, by=manager)
    services.phase_move_back(
        project=project,
        to_phase=project.phases.get(order=1),
        by=manager,
        reason="The sponsor changed the goal.",
    )
    response = client_for(viewer).get(PORTFOLIO)

    per_phase = figure(response, "chart-per-phase")
    assert per_phase["data"][0]["type"] == "bar"
    assert per_phase["data"][0]["x"] == [1, 0, 0, 0]
    assert per_phase["layout"]["yaxis"]["ticktext"][0] == "Ideation and planning"

    stays = figure(response, "chart-stays")
    assert stays["data"][0]["y"] == [project.name]
    assert stays["data"][0]["customdata"] == ["Ideation and planning"]

    loops = figure(response, "chart-loops")
    assert loops["data"][0]["y"] == ["Experimentation → Ideation and planning"]
    assert "The sponsor changed the goal." in loops["data"][0]["customdata"][0]
    html = response.content.decode()
    assert "The sponsor changed the goal." in html
    # Each chart is an image to assistive technology, with its numbers in a table.
    assert 'data-figure="chart-per-phase-data" data-summary="Bar chart of projects' in html
    assert "Projects per phase as a table" in html and "Time in phase as a table" in html


def test_time_in_phase_is_measured_against_the_phases_own_plan(manager, viewer, project):
    """A phase planned longer than its template's default (here 90 days) is not over plan
    after 40 days."""
    phase = project.current_phase
    expected = phase.template.expected_days
    phase.start_date = timezone.localdate() - dt.timedelta(days=40)
    phase.due_date = phase.start_date + dt.timedelta(days=89)
    phase.started_at = timezone.now() - dt.timedelta(days=40)
    phase.save()
    assert expected < 40
    response = client_for(viewer).get(PORTFOLIO)
    html = response.content.decode()
    table = html[html.index("Time in phase as a table") :]
    row = table[table.index(f">{project.name}</th>") :]
    row = row[: row.index("</tr>")]
    assert 'data-label="Planned">90</td>' in row and "over plan" not in row


def test_a_completed_project_is_neither_due_nor_late_nor_in_a_phase(manager, project):
    """Completed long after its plan: it shows as completed, with nothing due, no time in
    a phase, and it is in neither chart of where projects are now."""
    started = timezone.localdate() - dt.timedelta(days=200)
    done = make_project(owner=manager, name="Send-time model", start_date=started)
    done = to_last_phase(done)
    complete(done.current_phase, by=manager)
    services.project_complete(project=done, by=manager)
    response = client_for(manager).get(PORTFOLIO)

    html = response.content.decode()
    row = html[html.index(f">{done.name}</a>") :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="completed"' in row
    assert "tag-late" not in row
    assert re.search(r'data-label="In phase">—</td>', row)
    assert re.search(r'data-label="Next due">\s*—\s*</td>', row)
    assert figure(response, "chart-stays")["data"][0]["y"] == [project.name]
    assert figure(response, "chart-per-phase")["data"][0]["x"] == [1, 0, 0, 0]
    by_time = client_for(manager).get(PORTFOLIO, {"sort": "in_phase"}).content.decode()
    assert by_time.index(project.name) < by_time.index(done.name)


def test_portfolio_charts_follow_the_filters(manager, viewer, project):
    other = make_project(owner=manager, name="Demand forecasting", template="mlops-lifecycle")
    services.membership_set(project=other, user=viewer, role=Role.VIEWER)
    Project.objects.filter(pk=other.pk).update(health=Health.RED)
    client = client_for(viewer)

    everything = figure(client.get(PORTFOLIO), "chart-per-phase")
    assert [trace["name"] for trace in everything["data"]] == [
        "ML development phases",
        "MLOps lifecycle",
    ]
    red = client.get(PORTFOLIO, {"health": "red"})
    assert [trace["name"] for trace in figure(red, "chart-per-phase")["data"]] == [
        "MLOps lifecycle"
    ]
    assert figure(red, "chart-stays")["data"][0]["y"] == ["Demand forecasting"]


def test_portfolio_health_filter_takes_several_values(manager, project):
    amber = make_project(owner=manager, name="Amber one")
    red = make_project(owner=manager, name="Red one")
    Project.objects.filter(pk=amber.pk).update(health=Health.AMBER)
    Project.objects.filter(pk=red.pk).update(health=Health.RED)
    client = client_for(manager)

    def names(query: str) -> set[str]:
        html = client.get(f"{PORTFOLIO}?{query}").content.decode()
        return {p.name for p in (project, amber, red) if f">{p.name}</a>" in html}

    assert names("health=red&health=amber") == {"Amber one", "Red one"}
    assert names("health=green") == {project.name}
    # An unknown value among known ones keeps the known ones.
    assert names("health=red&health=purple") == {"Red one"}


def test_portfolio_lists_the_riskiest_first_then_the_most_days_late(manager):
    today = timezone.localdate()
    made = {}
    for name, health, late in [
        ("Green late", Health.GREEN, 30),
        ("Red a bit late", Health.RED, 2),
        ("Amber", Health.AMBER, 0),
        ("Red very late", Health.RED, 20),
    ]:
        made[name] = make_project(owner=manager, name=name)
        Project.objects.filter(pk=made[name].pk).update(health=health)
        made[name].current_phase.tasks.update(due_date=None)
        type(made[name].current_phase).objects.filter(pk=made[name].current_phase_id).update(
            start_date=today - dt.timedelta(days=60),
            due_date=today - dt.timedelta(days=late) if late else today + dt.timedelta(days=5),
        )
    html = client_for(manager).get(PORTFOLIO).content.decode()
    order = sorted(made, key=lambda name: html.index(f">{name}</a>"))
    assert order == ["Red very late", "Red a bit late", "Amber", "Green late"]
    assert "20 days late" in html

    by_name = client_for(manager).get(PORTFOLIO, {"sort": "name"}).content.decode()
    assert sorted(made, key=lambda name: by_name.index(f">{name}</a>")) == sorted(made)
    assert 'aria-sort="ascending"' in by_name
    backwards = client_for(manager).get(PORTFOLIO, {"sort": "-name"}).content.decode()
    assert sorted(made, key=lambda name: backwards.index(f">{name}</a>")) == sorted(
        made, reverse=True
    )
    # A sort that is not a column falls back to the riskiest first.
    tampered = client_for(manager).get(PORTFOLIO, {"sort": "password"})
    assert tampered.status_code == 200


def test_portfolio_without_loops_back_says_so(manager, project):
    response = client_for(manager).get(PORTFOLIO)
    assert 'id="chart-loops-data"' not in response.content.decode()
    assert "No project has looped back" in response.content.decode()


def test_portfolio_paginates(manager, monkeypatch):
    monkeypatch.setattr("dashboard.selectors.portfolio_page.PAGE_SIZE", 2)
    for n in range(3):
        make_project(owner=manager, name=f"Project {n}")
    client = client_for(manager)
    first = client.get(PORTFOLIO, {"health": "green", "sort": "name"}).content.decode()
    assert "Page 1 of 2" in first
    assert "?health=green&amp;sort=name&amp;page=2" in first
    second = client.get(PORTFOLIO, {"health": "green", "sort": "name", "page": 2}).content.decode()
    assert ">Project 2</a>" in second and ">Project 0</a>" not in second


# --- Project page: who sees it ----------------------------------------------------------


def test_outsider_gets_404_on_a_project(outsider, project):
    client = client_for(outsider)
    assert client.get(project_url(project)).status_code == 404
    assert client.get(project_url(project, "project-live")).status_code == 404
    assert client.post(project_url(project, "project-advance")).status_code == 404
    assert client.post(project_url(project, "shared-link-create")).status_code == 404


def test_viewer_sees_the_page_without_actions(viewer, project):
    response = client_for(viewer).get(project_url(project))
    html = response.content.decode()
    assert response.status_code == 200
    assert project.name in html
    assert "Gate to leave Ideation and planning" in html
    assert "Advance to" not in html
    assert project_url(project, "project-advance") not in html
    assert project_url(project, "project-move-back") not in html
    assert "Share a read-only link" not in html


@pytest.mark.parametrize("who", ["viewer", "contributor"])
def test_below_manager_cannot_move_or_share(request, who, project):
    client = client_for(request.getfixturevalue(who))
    complete(project.current_phase, by=project.owner)
    assert client.post(project_url(project, "project-advance")).status_code == 403
    response = client.post(
        project_url(project, "project-move-back"), {"to_phase": 1, "reason": "x"}
    )
    assert response.status_code == 403
    assert client.post(project_url(project, "shared-link-create")).status_code == 403
    project.refresh_from_db()
    assert project.current_phase.order == 1
    assert not project.shared_links.exists()


def test_actions_need_post(manager, project):
    client = client_for(manager)
    assert client.get(project_url(project, "project-advance")).status_code == 405
    assert client.get(project_url(project, "project-move-back")).status_code == 405


def test_project_page_shows_gate_tasks_outcomes_metric_and_history(manager, project):
    phase = project.current_phase
    task = phase.tasks.first()
    services.task_set_status(task=task, status="done", by=manager)
    html = client_for(manager).get(project_url(project)).content.decode()
    assert escape(f"Task “{task.title}” is done.") in html
    assert "must be done; it is not started" in html
    assert "must be accepted; it is pending: nobody has submitted it for review yet" in html
    assert "1 of 3 tasks done" in html
    assert "<code>val_auc</code>" in html and "0.85" in html
    assert "Higher is better" in html
    for other in project.phases.exclude(pk=phase.pk):
        assert f"{other.order}. {other.name}" in html
    assert '<span class="tag tag-start">Start</span>' in html


def test_project_page_timeline_figure(manager, project):
    advance(project, by=manager)
    response = client_for(manager).get(project_url(project))
    timeline = figure(response, "chart-timeline")
    names = {trace["name"]: trace for trace in timeline["data"]}
    assert len(names["Planned"]["y"]) == 4
    assert names["Actual"]["y"] == ["Ideation and planning"]
    assert names["In progress"]["y"] == ["Experimentation"]


def finish_line(html: str) -> str:
    """The sentence under the timeline that says when the project finishes, as text."""
    line = re.search(r'data-testid="finish">(.*?)</p>', html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", line)


def test_a_late_project_is_forecast_from_today_never_before(manager):
    today = timezone.localdate()
    # Ideation and planning (21 days) started 27 days ago: a week past its due date.
    late = make_project(owner=manager, start_date=today - dt.timedelta(days=27))
    on_time = make_project(owner=manager)
    client = client_for(manager)

    later = sum((p.due_date - p.start_date).days + 1 for p in late.phases.filter(order__gt=1))
    forecast = today + dt.timedelta(days=later)
    assert finish_line(client.get(project_url(late)).content.decode()) == (
        f"Forecast finish {forecast:%-d %b %Y}, 7 days later than the original plan "
        f"({late.planned_finish:%-d %b %Y})."
    )
    assert finish_line(client.get(project_url(on_time)).content.decode()) == (
        f"Forecast finish {on_time.planned_finish:%-d %b %Y}, as originally planned."
    )


def test_live_fragment_carries_state_and_no_cache(viewer, project):
    response = client_for(viewer).get(project_url(project, "project-live"))
    assert response.status_code == 200
    assert response["X-Live-State"] == str(project.current_phase_id)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = response.content.decode()
    assert "Gate to leave" in html
    assert "<html" not in html


# --- Advancing and moving back ----------------------------------------------------------


def test_manager_advances_when_the_gate_is_met(manager, project):
    complete(project.current_phase, by=manager)
    client = client_for(manager)
    page = client.get(project_url(project)).content.decode()
    assert "Advance to Experimentation</button>" in page
    assert 'name="csrfmiddlewaretoken"' in page
    response = client.post(project_url(project, "project-advance"), {"reason": "Doc signed."})
    assert response.status_code == 302
    assert response["Location"] == project_url(project) + "#feedback-status"
    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    transition = project.transitions.latest("created_at")
    assert (transition.kind, transition.by, transition.reason) == (
        TransitionKind.FORWARD,
        manager,
        "Doc signed.",
    )
    html = client.get(response["Location"]).content.decode()
    assert "Churn early warning moved on to Experimentation." in html


def test_refused_advance_shows_the_unmet_criteria(manager, project):
    client = client_for(manager)
    response = client.post(project_url(project, "project-advance"), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ideation and planning cannot move on to Experimentation yet" in html
    message = html[html.index('class="message message-error"') :]
    message = message[: message.index("</ul>")]
    for task in project.current_phase.tasks.filter(required=True):
        assert f"<li>{escape(f'Task “{task.title}” must be done')}" in message
    project.refresh_from_db()
    assert project.current_phase.order == 1


def test_advance_from_the_last_phase_is_a_message(manager, project):
    for _ in range(3):
        advance(project, by=manager)
    client = client_for(manager)
    html = client.get(project_url(project)).content.decode()
    assert "Complete the project</button>" in html
    assert "Advance to" not in html
    response = client.post(project_url(project, "project-advance"), follow=True)
    assert response.status_code == 200
    assert "there is nothing to advance to" in response.content.decode()


def test_staff_act_as_managers(staff, project):
    complete(project.current_phase, by=project.owner)
    response = client_for(staff).post(project_url(project, "project-advance"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.current_phase.order == 2


def test_advance_refreshes_health(manager, project):
    Project.objects.filter(pk=project.pk).update(health=Health.RED, health_reasons=["stale"])
    complete(project.current_phase, by=manager)
    client_for(manager).post(project_url(project, "project-advance"))
    project.refresh_from_db()
    assert project.health == Health.GREEN
    assert project.health_reasons == []


def test_move_back_form_offers_the_allowed_targets_and_records_why(manager, project):
    advance(project, by=manager)
    advance(project, by=manager)
    client = client_for(manager)
    html = client.get(project_url(project)).content.decode()
    form = html[html.index('id="move-back"') :]
    form = form[: form.index("</form>")]
    assert ">Experimentation (due " in form
    assert ">Ideation and planning" not in form

    target = project.phases.get(name="Experimentation")
    response = client.post(
        project_url(project, "project-move-back"),
        {"to_phase": target.pk, "reason": "Pipelines show the model cannot be served."},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.current_phase == target
    back = project.transitions.latest("created_at")
    assert back.kind == TransitionKind.BACK
    assert back.reason == "Pipelines show the model cannot be served."
    assert project.phases.get(name="Pipeline building").status == PhaseStatus.PLANNED


def test_move_back_without_a_reason_rerenders_with_the_error(manager, project):
    advance(project, by=manager)
    target = project.phases.get(order=1)
    response = client_for(manager).post(
        project_url(project, "project-move-back"), {"to_phase": target.pk, "reason": "  "}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    project.refresh_from_db()
    assert project.current_phase.order == 2


def test_move_back_to_a_phase_not_offered_is_refused(manager, project):
    advance(project, by=manager)
    advance(project, by=manager)
    not_allowed = project.phases.get(order=1)
    response = client_for(manager).post(
        project_url(project, "project-move-back"), {"to_phase": not_allowed.pk, "reason": "x"}
    )
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.current_phase.order == 3


def test_move_back_cannot_target_another_projects_phase(manager, project):
    advance(project, by=manager)
    other = make_project(owner=manager)
    response = client_for(manager).post(
        project_url(project, "project-move-back"),
        {"to_phase": other.phases.get(order=1).pk, "reason": "x"},
    )
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.current_phase.order == 2


def test_csrf_is_enforced_on_actions(manager, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    complete(project.current_phase, by=manager)
    assert client.post(project_url(project, "project-advance")).status_code == 403
    project.refresh_from_db()
    assert project.current_phase.order == 1


# --- Escaping ---------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(manager, project):
    evil = "<script>alert(1)</script>"
    services.project_update(project=project, by=manager, name=evil, description=evil)
    task = project.current_phase.tasks.first()
    services.task_update(task=task, by=manager, title=evil)
    advance(project, by=manager)
    services.phase_move_back(
        project=project, to_phase=project.phases.get(order=1), by=manager, reason=evil
    )
    Project.objects.filter(pk=project.pk).update(health_reasons=[evil])
    client = client_for(manager)
    for response in (
        client.get(PORTFOLIO),
        client.get(project_url(project)),
        client.get(project_url(project, "project-live")),
    ):
        html = response.content.decode()
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        # In the figures' JSON, user text is escaped for Plotly before json_script runs.
        assert "\\u003Cscript" not in html

    timeline = figure(client.get(project_url(project)), "chart-timeline")
    loop = next(t for t in timeline["data"] if t["name"] == "Loop back")
    assert "&lt;script&gt;" in loop["customdata"][0]


def test_evidence_links_only_for_web_urls(manager, project):
    outcome = project.current_phase.outcomes.first()
    services.outcome_update(outcome=outcome, by=manager, evidence_url="javascript:alert(1)")
    html = client_for(manager).get(project_url(project)).content.decode()
    assert "javascript:alert(1)" not in html
    services.outcome_update(outcome=outcome, by=manager, evidence_url="https://example.com/doc")
    html = client_for(manager).get(project_url(project)).content.decode()
    assert 'href="https://example.com/doc"' in html


# --- plotly.js --------------------------------------------------------------------------


def test_each_plotly_js_bundle_is_a_static_file_from_node_modules():
    for bundle in plotly.BUNDLES.values():
        found = finders.find(bundle.static_path)
        assert found == str(plotly.NODE_MODULES / bundle.package / bundle.file)
        assert Path(found).read_bytes()[:200].find(b"plotly.js") != -1
    collected = [(path, storage.prefix) for path, storage in plotly.PlotlyFinder().list([])]
    # Only the dist files, not the packages' sources, type declarations or READMEs.
    assert collected == [(b.file, b.prefix) for b in plotly.BUNDLES.values()]
    assert plotly.PlotlyFinder().check() == []


def test_a_missing_bundle_is_a_system_check_error(monkeypatch, tmp_path):
    monkeypatch.setattr(plotly, "NODE_MODULES", tmp_path)
    errors = plotly.PlotlyFinder().check()
    assert [error.id for error in errors] == ["dashboard.E001"] * len(plotly.BUNDLES)
    assert "npm ci" in errors[0].hint


def test_a_page_names_a_bundle_that_exists():
    with pytest.raises(ValueError, match=r"no plotly\.js bundle 'gl3d': a page names one of basic"):
        plotly.bundle("gl3d")


def test_pages_load_plotly_from_this_server(manager, project):
    html = client_for(manager).get(project_url(project)).content.decode()
    # charts.js fetches plotly.js when the page holds a chart.
    assert f'data-plotly="{static(plotly.BUNDLES["finance"].static_path)}"' in html
    assert "cdn" not in html.lower()

"""Every kind of HTML page works under the Content-Security-Policy, in real Chromium, with
no refusal logged: scripts and styles come from the site only, no inline script runs, and
no page may be framed. ``Tab`` fails a test on any console error, a CSP refusal included.
"""

import pytest
from django.urls import reverse

from dashboard import plotly
from phases.models import Project
from tests.dashboard import test_browser
from tests.dashboard.conftest import PASSWORD, build_portfolio
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_experiments_views import sweep
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser


@pytest.fixture
def tab(browser, live_server):
    tab = Tab(browser, live_server.url)
    yield tab
    tab.close()


def policy(response) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def assert_strict(response) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)


def test_signed_out_pages_are_under_the_strict_policy(tab):
    assert_strict(tab.open(reverse("login")))
    tab.page.get_by_label("Username").wait_for()

    response = tab.open("/no-such-page/")
    assert response.status == 404
    assert_strict(response)
    assert tab.page.get_by_role("heading", name="Page not found").is_visible()
    tab.expected("404")


def test_dashboard_pages_draw_their_charts_under_the_strict_policy(tab, manager, viewer):
    project = build_portfolio(manager=manager, viewer=viewer)[0]
    tab.sign_in("valerie")

    response = tab.open(reverse("dashboard:portfolio"))
    assert_strict(response)
    assert tab.drawn_traces("chart-per-phase") == 2
    # Plotly put its own rules into the site's style sheet instead of an inline one.
    rules = tab.page.evaluate(
        "id => document.getElementById(id).sheet.cssRules.length", plotly.GLOBAL_STYLE_ID
    )
    assert rules > 50
    tab.page.hover("#chart-per-phase")
    assert (
        tab.page.eval_on_selector(
            "#chart-per-phase .modebar", "el => getComputedStyle(el).position"
        )
        == "absolute"
    )

    response = tab.open(reverse("dashboard:project", args=[project.slug]))
    assert_strict(response)
    assert tab.drawn_traces("chart-timeline") >= 1


def test_the_comparison_draws_its_webgl_chart_with_the_one_relaxation_it_needs(
    tab, manager, viewer, project
):
    made = sweep(project, by=manager, n=4)
    tab.sign_in("valerie")

    response = tab.open(
        reverse("dashboard:run-compare", args=[project.slug])
        + "?runs="
        + ",".join(run.run_id for run in made)
    )

    directives = policy(response)
    assert directives["script-src"] == ["'self'", "'unsafe-eval'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    tab.page.wait_for_selector("#chart-params .parcoords .y-axis")
    assert tab.page.locator("#chart-params .parcoords .y-axis").count() >= 2


def test_admin_pages_work_under_the_strict_policy(tab, admin_user, manager):
    build_portfolio(manager=manager, viewer=UserFactory(username="valerie"))
    project = Project.objects.order_by("pk").first()
    tab.open(reverse("admin:login"))
    tab.page.get_by_label("Username").fill("root")
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    tab.page.wait_for_url("**/admin/")

    for url, ready in [
        (reverse("admin:index"), "#content-main"),
        # The admin's scripts ran: the owner's autocomplete widget and the nested inlines.
        (reverse("admin:phases_project_change", args=[project.pk]), ".select2-container"),
        (reverse("admin:django_celery_beat_periodictask_add"), "form#periodictask_form"),
        (reverse("admin:axes_accessattempt_changelist"), "#changelist"),
    ]:
        assert_strict(tab.open(url))
        tab.page.wait_for_selector(ready)


def test_the_api_docs_work_under_the_strict_policy(tab, manager):
    tab.sign_in("morgan")

    response = tab.open(reverse("docs"))

    assert_strict(response)
    tab.page.wait_for_selector("#swagger-ui .opblock")
    assert tab.page.locator("#swagger-ui .opblock").count() > 20


def test_an_injected_inline_script_does_not_run(tab):
    tab.open(reverse("login"))

    ran = tab.page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener("securitypolicyviolation", () => resolve(window.ran === 1));
            const script = document.createElement("script");
            script.textContent = "window.ran = 1";
            document.body.appendChild(script);
        })"""
    )

    assert ran is False
    tab.expected("CSP violation")
    tab.expected("Content Security Policy")

"""The dashboard in a real browser: headless Chromium driven by Playwright against a live
server. Charts must actually be drawn (an SVG with traces in it), actions must change the
page, and a shared link must work for someone signed out.

Chromium is Debian's package (``/usr/bin/chromium``): Playwright's own browser download
is not used. Each test saves a screenshot to ``tests/screenshots/`` (ignored by git).
"""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from dashboard import figures
from phases import services
from tests.dashboard.conftest import PASSWORD, build_portfolio, complete
from tests.factories import make_project

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
TIMEOUT_MS = 15_000

# The built-in lifecycles come from a data migration: flushing the database between
# transactional tests would lose them unless they are serialized and restored.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _missing() -> str:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return ""


@pytest.fixture
def browser(live_server):
    """A Chromium per test, started once the test's database is ready.

    Playwright's sync API runs an event loop on the main thread. While it runs, Django
    refuses ORM calls there and hands that thread other connection objects, without the
    serialized data the next test restores from; so the browser lives inside one test
    (after the restore, before the flush), its connections are closed when it stops, and
    the async-safety check is lifted for that time only, as the tests use the ORM too.
    """
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def fast_live_refresh(monkeypatch):
    monkeypatch.setattr("dashboard.views.LIVE_INTERVAL_SECONDS", 1)


# Chromium logs a refusal of the Content-Security-Policy as a console error; this also
# names the directive and the script that broke it. Playwright's init scripts are exempt.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    console.error(`CSP violation: ${event.effectiveDirective} by ${event.sourceFile}:` +
        `${event.lineNumber}:${event.columnNumber} (blocked ${event.blockedURI || "inline"})`);
});
"""


class Tab:
    """One browser context (its own cookies) and page, failing on any script error and on
    any refusal of the Content-Security-Policy."""

    def __init__(self, browser, base_url: str, **options) -> None:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(REPORT_CSP_VIOLATIONS)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )

    def open(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def sign_in(self, username: str) -> None:
        self.open(reverse("login"))
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.base_url + reverse("dashboard:portfolio"))

    def drawn_traces(self, chart_id: str) -> int:
        """How many traces Plotly drew into the chart's SVG, once it has drawn any."""
        selector = f"#{chart_id} .main-svg .trace"
        self.page.wait_for_selector(f"#{chart_id}.js-plotly-plot .main-svg")
        self.page.wait_for_function(
            "s => document.querySelectorAll(s).length > 0", arg=selector, timeout=TIMEOUT_MS
        )
        shapes = self.page.eval_on_selector_all(
            selector + " path",
            "paths => paths.filter(p => (p.getAttribute('d') || '').length > 2).length",
        )
        assert shapes > 0, f"{chart_id} has traces but nothing drawn in them"
        return self.page.locator(selector).count()

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    def expected(self, text: str) -> None:
        """Forget errors the test caused on purpose (a 404 it asked for)."""
        self.errors = [error for error in self.errors if text not in error]

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"errors in the browser: {self.errors}"


@pytest.fixture
def tab(browser, live_server):
    tab = Tab(browser, live_server.url)
    yield tab
    tab.close()


@pytest.fixture
def anonymous_tab(browser, live_server):
    tab = Tab(browser, live_server.url)
    yield tab
    tab.close()


def test_sign_in_portfolio_and_project_charts(tab, manager, viewer):
    projects = build_portfolio(manager=manager, viewer=viewer)

    tab.open(reverse("dashboard:portfolio"))
    assert tab.page.url.startswith(tab.base_url + reverse("login"))
    tab.screenshot("login")
    tab.sign_in("valerie")

    page = tab.page
    table = page.locator("table.projects")
    for project in projects:
        assert table.get_by_role("link", name=project.name).is_visible()
    assert tab.drawn_traces("chart-per-phase") == 2  # a bar trace per lifecycle
    assert tab.drawn_traces("chart-stays") == 2  # the days, and the planned diamonds
    assert tab.drawn_traces("chart-loops") == 1
    assert set(page.locator("#chart-loops .ytick text").all_text_contents()) == {
        "Productionization → Experimentation",
        "Modeling → Data",
    }
    tab.screenshot("portfolio")

    page.get_by_label("Lifecycle").select_option("mlops-lifecycle")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/?*lifecycle=mlops-lifecycle*")
    assert table.get_by_role("link", name="Support ticket routing").is_visible()
    assert table.get_by_role("link", name="Card fraud detection").count() == 0
    assert tab.drawn_traces("chart-per-phase") == 1

    page.goto(tab.base_url + reverse("dashboard:portfolio"))
    table.get_by_role("link", name="Card fraud detection").click()
    page.wait_for_url("**/projects/card-fraud-detection/")
    assert page.get_by_role("heading", level=1).text_content() == "Card fraud detection"
    assert page.get_by_test_id("current-phase").text_content() == "Experimentation"
    # Planned, actual, in progress and the loop-back marker.
    assert tab.drawn_traces("chart-timeline") == 4
    assert page.locator("#chart-timeline .annotation-arrow-g, #chart-timeline .annotation").count()
    assert page.get_by_role("button", name=re.compile("^Advance")).count() == 0
    tab.screenshot("project")


def test_manager_advances_and_the_page_changes(tab, manager, viewer):
    project = build_portfolio(manager=manager, viewer=viewer)[0]
    tab.sign_in("morgan")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    assert page.get_by_test_id("current-phase").text_content() == "Ideation and planning"

    page.get_by_role("button", name="Advance to Experimentation").click()
    alert = page.get_by_role("alert")
    assert "cannot move on to Experimentation yet" in alert.text_content()
    assert "must be done" in alert.text_content()
    assert page.get_by_test_id("current-phase").text_content() == "Ideation and planning"
    tab.screenshot("project-advance-refused")

    project.refresh_from_db()
    complete(project.current_phase, by=manager)
    page.reload()
    assert page.locator(".checklist .unmet").count() == 0
    page.get_by_label("Note for the history").fill("Design doc signed off by the sponsor.")
    page.get_by_role("button", name="Advance to Experimentation").click()
    page.wait_for_selector(".message-success")
    assert "moved on to Experimentation" in page.locator(".message-success").text_content()
    assert page.get_by_test_id("current-phase").text_content() == "Experimentation"
    assert "Design doc signed off by the sponsor." in page.locator("#history").text_content()
    assert tab.drawn_traces("chart-timeline") == 3  # planned, actual, in progress
    tab.screenshot("project-advanced")


def test_status_block_refreshes_without_a_reload(tab, manager, viewer, fast_live_refresh):
    project = build_portfolio(manager=manager, viewer=viewer)[0]
    tab.sign_in("valerie")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    page.evaluate("window.__sameDocument = true")
    assert page.locator(".live-notice").is_hidden()

    project.refresh_from_db()
    complete(project.current_phase, by=manager)
    services.phase_advance(project=project, by=manager)

    page.wait_for_function(
        "() => document.querySelector('[data-testid=current-phase]').textContent"
        " === 'Experimentation'"
    )
    assert page.locator(".live-notice").is_visible()
    assert page.evaluate("window.__sameDocument") is True
    tab.screenshot("project-live-refresh")


def test_shared_link_works_signed_out_until_revoked(tab, anonymous_tab, manager, viewer):
    project = build_portfolio(manager=manager, viewer=viewer)[2]
    tab.sign_in("morgan")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    page.get_by_label("Who is it for?").fill("Steering committee")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_selector(".message-success")
    url = page.get_by_label("Steering committee").input_value()
    assert url.startswith(tab.base_url + "/shared/")
    tab.screenshot("project-sharing")

    outside = anonymous_tab.page
    response = anonymous_tab.open(url[len(tab.base_url) :])
    assert response.status == 200
    assert outside.get_by_role("heading", level=1).text_content() == project.name
    assert anonymous_tab.drawn_traces("chart-timeline") == 4
    # No control of the page's own; the chart's zoom buttons are Plotly's.
    controls = "form, button, input, select, textarea"
    assert outside.locator(f"main :is({controls}):not(.js-plotly-plot *)").count() == 0
    assert outside.locator("a[href='/']").count() == 0
    assert outside.get_by_role("navigation").count() == 0
    anonymous_tab.screenshot("shared")

    anonymous_tab.open(reverse("dashboard:portfolio"))
    assert outside.url.startswith(tab.base_url + reverse("login"))

    page.get_by_role("button", name="Revoke Steering committee").click()
    page.wait_for_selector(".message-success")
    assert anonymous_tab.open(url[len(tab.base_url) :]).status == 404
    anonymous_tab.expected("status of 404")
    anonymous_tab.screenshot("shared-revoked")


def test_project_page_on_a_phone(browser, live_server, manager, viewer):
    project = build_portfolio(manager=manager, viewer=viewer)[4]
    phone = Tab(browser, live_server.url, viewport={"width": 390, "height": 844})
    try:
        phone.sign_in("morgan")
        phone.open(reverse("dashboard:project", args=[project.slug]))
        assert phone.drawn_traces("chart-timeline") == 4
        overflow = phone.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, "the page scrolls sideways on a phone"
        phone.screenshot("project-phone")
    finally:
        phone.close()


def test_plotly_shows_user_text_literally(tab, manager):
    """The figure builders escape user text; Plotly must then show it as typed, neither as
    markup nor as visible entities."""
    figure = figures.loop_backs(
        [
            figures.LoopBack(
                project="<b>Bold</b> & co",
                from_phase="<i>Tuning</i>",
                to_phase="Data",
                reason="<a href='javascript:alert(1)'>x</a>",
                at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
            )
        ]
    )
    make_project(owner=manager)  # a portfolio with charts, so the page loads plotly.js
    tab.sign_in("morgan")
    page = tab.page
    page.wait_for_function("() => window.Plotly !== undefined")
    drawn = page.evaluate(
        """figure => {
            const div = document.createElement('div');
            div.id = 'probe';
            document.body.appendChild(div);
            return Plotly.newPlot(div, figure.data, figure.layout, figure.config).then(() => {
                Plotly.Fx.hover(div, [{curveNumber: 0, pointNumber: 0}]);
                const texts = selector => Array.from(div.querySelectorAll(selector))
                    .map(node => node.textContent);
                return {
                    ticks: texts('.ytick text'),
                    hover: texts('.hoverlayer text').join(' '),
                    links: div.querySelectorAll('.main-svg a, .hoverlayer a').length,
                    styled: div.querySelectorAll('.hoverlayer tspan[style]').length,
                };
            });
        }""",
        figure,
    )
    assert drawn["ticks"] == ["<i>Tuning</i> → Data"]
    assert "<b>Bold</b> & co" in drawn["hover"]
    assert "<a href='javascript:alert(1)'>x</a>" in drawn["hover"]
    assert drawn["links"] == 0
    # Nothing is rendered as markup: no tag became a styled span.
    assert drawn["styled"] == 0

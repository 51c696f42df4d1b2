"""Experiments in a real browser: the leaderboard and its charts on a project page, a run
page, a comparison with its parallel coordinates, and the shared page without run pages.

Same Chromium and launch options as ``test_browser.py``, whose fixtures and ``Tab`` are
reused; each test saves screenshots to ``tests/screenshots/``.
"""

import json

import pytest
from django.urls import reverse

from dashboard import selectors, sharing
from dashboard import services as dashboard_services
from experiments import services as runs
from tests.dashboard import test_browser
from tests.dashboard.test_browser import SCREENSHOTS, Tab
from tests.dashboard.test_experiments_views import log_run, sweep

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The same Chromium, started the same way, as the other browser tests.
browser = test_browser.browser

NASTY_RUN = "<b>bold</b> & <script>x</script>"
NASTY_PARAM = "<i>tuned</i>"


@pytest.fixture
def tab(browser, live_server):
    tab = Tab(browser, live_server.url)
    yield tab
    tab.close()


def shot(tab: Tab, name: str, selector: str) -> None:
    """A screenshot of one part of the page, beside the full-page ones."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.locator(selector).screenshot(path=SCREENSHOTS / f"{name}.png")


def texts(tab: Tab, selector: str) -> list[str]:
    return tab.page.locator(selector).all_text_contents()


def embedded(tab: Tab, chart_id: str) -> dict:
    return json.loads(tab.page.locator(f"#{chart_id}-data").text_content())


def gauge_drawn(tab: Tab) -> str:
    """The number the success gauge shows, once its bullet bar is drawn."""
    tab.page.wait_for_selector("#chart-success .indicatorlayer .value-bullet > *")
    return tab.page.locator("#chart-success .indicatorlayer text.number").text_content()


def parcoords_drawn(tab: Tab) -> int:
    """How many axes the parallel coordinates drew; fails unless its lines were painted."""
    tab.page.wait_for_selector("#chart-params .parcoords .y-axis")
    tab.page.wait_for_function(
        """() => Array.from(document.querySelectorAll('#chart-params canvas.gl-canvas'))
            .some(canvas => {
                const gl = canvas.getContext('webgl', {preserveDrawingBuffer: true});
                if (!gl) { return false; }
                const pixels = new Uint8Array(canvas.width * canvas.height * 4);
                gl.readPixels(0, 0, canvas.width, canvas.height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
                return pixels.some(value => value !== 0);
            })"""
    )
    return tab.page.locator("#chart-params .parcoords .y-axis").count()


def test_leaderboard_run_page_and_comparison(tab, manager, viewer, project):
    made = sweep(project, by=manager, n=14)
    nasty = log_run(
        made[0].experiment,
        by=manager,
        name=NASTY_RUN,
        params={"learning_rate": "0.3", "optimizer": NASTY_PARAM, "max_depth": "9", "seed": "42"},
        metrics={"val_auc": [0.4, 0.8, 0.97], "loss": [1.0, 0.4, 0.1]},
    )
    tab.sign_in("valerie")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page

    rows = page.locator("table.leaderboard tbody tr")
    assert rows.count() == selectors.LEADERBOARD_SIZE
    assert rows.first.get_by_role("link").text_content() == NASTY_RUN
    assert gauge_drawn(tab) == "0.97"
    assert "meets the target of 0.85" in page.get_by_test_id("metric-verdict").text_content()
    assert tab.drawn_traces("chart-curves") == selectors.CURVE_RUNS
    assert texts(tab, "#chart-curves .legendtext")[0] == NASTY_RUN
    assert page.locator("canvas").count() == 0, "the project page needs no WebGL"
    tab.screenshot("runs-project")
    shot(tab, "runs-project-metric", "#metric")
    shot(tab, "runs-project-experiments", "#experiments")

    rows.nth(1).get_by_role("link").click()
    page.wait_for_url(f"**/runs/{made[-1].run_id}/")
    assert page.get_by_role("heading", level=1).text_content() == "trial-013"
    assert tab.drawn_traces("chart-metric-1") == 1
    assert tab.drawn_traces("chart-metric-2") == 1
    assert page.locator("#chart-metric-2 .shapelayer path").count() == 1  # the target line
    tab.screenshot("runs-run")

    page.go_back()
    for rank in (1, 2, 3, 5):
        page.locator(f"#pick-{rank}").check()
    page.get_by_role("button", name="Compare selected runs").click()
    page.wait_for_url("**/runs/compare/?runs=*")
    assert page.get_by_role("heading", level=1).text_content() == "Compare runs"
    assert tab.drawn_traces("chart-compare-curves") == 4
    dimensions = embedded(tab, "chart-params")["data"][0]["dimensions"]
    assert parcoords_drawn(tab) == len(dimensions) == 5
    assert NASTY_PARAM in texts(tab, "#chart-params .tick text")
    # The only WebGL on the page: the three canvases of the parallel coordinates.
    assert page.locator("canvas").count() == 3
    tab.screenshot("runs-compare")

    # Another metric redraws the charts in place: the page is not loaded again.
    page.evaluate("() => { window.stillHere = true; }")
    assert page.get_by_role("button", name="Show this metric").is_hidden()
    page.get_by_label("Metric", exact=True).select_option("loss")
    page.wait_for_function("() => location.search.includes('key=loss')")
    page.wait_for_function(
        "() => document.querySelector('#chart-compare-curves .ytitle')?.textContent === 'loss'"
    )
    assert page.evaluate("() => window.stillHere") is True
    assert tab.drawn_traces("chart-compare-curves") == 4
    assert page.locator(".chart-title [data-compare-key]").first.text_content() == "loss"
    assert parcoords_drawn(tab) == 5
    assert nasty.run_id in page.url
    tab.screenshot("runs-compare-loss")


def test_run_page_draws_twelve_charts_at_a_time_without_webgl(tab, manager, viewer, project):
    experiment = runs.experiment_create(project=project, name="wide", by=manager)
    metrics = {f"metric_{i:02d}": [float((i * s) % 7) for s in range(40)] for i in range(15)}
    run = log_run(
        experiment,
        by=manager,
        name="wide run",
        params={f"param_{i}": str(i) for i in range(6)},
        metrics=metrics,
    )
    runs.log_batch(run=run, by=manager, tags=[("team", "risk"), ("dataset", "2026-q1")])
    tab.sign_in("valerie")
    tab.open(reverse("dashboard:run", args=[project.slug, run.run_id]))
    page = tab.page
    for index in range(1, selectors.RUN_CHARTS + 1):
        assert tab.drawn_traces(f"chart-metric-{index}") == 1
    assert page.locator("[data-figure]").count() == selectors.RUN_CHARTS
    assert page.locator("canvas").count() == 0
    tab.screenshot("runs-run-many-metrics")

    page.get_by_role("link", name="Chart of metric_13").click()
    page.wait_for_url("**?charts=2#metric-14")
    assert page.locator("[data-figure]").count() == 3
    assert tab.drawn_traces("chart-metric-14") == 1


def test_shared_link_shows_the_leaderboard_and_reaches_no_run(
    browser, live_server, manager, project
):
    sweep(project, by=manager, n=6)
    link = dashboard_services.shared_link_create(project=project, by=manager, label="Board")
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    outside = Tab(browser, live_server.url)
    try:
        outside.open(reverse("dashboard:shared", args=[token]))
        page = outside.page
        assert page.locator("table.leaderboard tbody tr").count() == 6
        assert gauge_drawn(outside) == "0.8999"
        assert outside.drawn_traces("chart-curves") == selectors.CURVE_RUNS
        assert page.locator("a[href*='/runs/']").count() == 0
        assert page.locator("main input, main form").count() == 0
        outside.screenshot("runs-shared")

        outside.open(reverse("dashboard:runs", args=[project.slug]))
        assert page.url.startswith(live_server.url + reverse("login"))
    finally:
        outside.close()


def test_comparison_on_a_phone(browser, live_server, manager, viewer, project):
    made = sweep(project, by=manager, n=6)
    phone = Tab(browser, live_server.url, viewport={"width": 390, "height": 844})
    try:
        phone.sign_in("valerie")
        ids = ",".join(run.run_id for run in made)
        phone.open(reverse("dashboard:run-compare", args=[project.slug]) + f"?runs={ids}")
        assert phone.drawn_traces("chart-compare-curves") == 6
        assert parcoords_drawn(phone) == 5
        overflow = phone.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, "the page scrolls sideways on a phone"
        phone.screenshot("runs-compare-phone")
    finally:
        phone.close()

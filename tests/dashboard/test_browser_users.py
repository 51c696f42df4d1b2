"""Issue 11's jobs in a real browser, each as the user who does it, at a desktop width
(1440x900) and on a phone (390x844, touch): a sponsor reading the portfolio by risk, an ML
engineer searching the runs, comparing them and reading a run. Every page is also checked
with axe-core (Deque's engine, bundled by the ``axe-playwright-python`` package and run
inside the page): nothing serious or critical anywhere, nothing moderate on the portfolio
and project pages. And on every page: no sideways scroll at 390 px, a focus ring of 3:1,
and a chart mode bar without Plotly's cloud upload (none at all on a touch screen).

Same Chromium and ``Tab`` as ``test_browser.py``; screenshots go to ``tests/screenshots/``.
"""

import re

import pytest
from django.urls import reverse

from phases.models import Project
from tests.dashboard import test_browser
from tests.dashboard.conftest import build_portfolio
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_experiments_views import log_run, sweep

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.browser,
]

browser = test_browser.browser

SCREENS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SERIOUS = {"serious", "critical"}
MODERATE = SERIOUS | {"moderate"}
MODE_BAR = ["Download plot as a PNG", "Zoom", "Reset axes"]


@pytest.fixture(params=list(SCREENS))
def screen(request):
    return request.param


@pytest.fixture
def tab(browser, live_server, screen):
    tab = Tab(browser, live_server.url, **SCREENS[screen])
    tab.screen = screen
    yield tab
    tab.close()


def accessible(tab: Tab, impacts: set[str] = SERIOUS) -> None:
    """axe-core finds no violation of these impacts on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(tab.page).response["violations"]
    bad = [
        f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes'][:3]]})"
        for v in found
        if v["impact"] in impacts
    ]
    assert not bad, "\n".join(bad)


def fits(tab: Tab) -> None:
    overflow = tab.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = tab.page.evaluate(
        """() => Array.from(document.querySelectorAll('main *'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px: {wide}"


def focus_ring_contrast(tab: Tab) -> float:
    """Contrast of the focus ring against the white card around the first control of the
    page's content that the keyboard reaches."""
    for _ in range(12):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("() => !!document.activeElement.closest('main .card')"):
            break
    return tab.page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            const [r, g, b] = style.outlineColor.match(/\\d+/g).map(Number);
            const lum = (c) => {
                c /= 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            };
            const l = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
            return style.outlineStyle === "none" ? 0 : 1.05 / (l + 0.05);
        }"""
    )


def mode_bar(tab: Tab, chart_id: str) -> list[str]:
    """The titles of a chart's mode bar buttons, as a mouse user finds them on hover."""
    tab.page.hover(f"#{chart_id}")
    return tab.page.eval_on_selector_all(
        f"#{chart_id} .modebar-btn", "buttons => buttons.map(b => b.getAttribute('data-title'))"
    )


def shot(tab: Tab, name: str) -> None:
    tab.screenshot(f"{name}-{tab.screen}")


def test_sponsor_reads_the_portfolio_by_risk(tab, manager, viewer):
    projects = build_portfolio(manager=manager, viewer=viewer)
    Project.objects.filter(pk=projects[2].pk).update(health="red")
    Project.objects.filter(pk=projects[4].pk).update(health="amber")
    tab.sign_in("valerie")
    page = tab.page

    names = page.locator("table.projects tbody th a:not(.tag)").all_text_contents()
    healths = dict(Project.objects.values_list("name", "health"))
    risk = {"red": 0, "amber": 1, "green": 2}
    assert [risk[healths[name]] for name in names] == sorted(risk[healths[n]] for n in names)
    assert page.get_by_test_id("phase-of").first.text_content().startswith("phase ")
    assert tab.drawn_traces("chart-per-phase") == 2
    assert tab.drawn_traces("chart-stays") == 2
    chart = page.locator("#chart-per-phase svg.main-svg[role=img]")
    assert chart.get_attribute("aria-label").startswith("Bar chart of projects per phase")
    if tab.screen == "desktop":
        assert mode_bar(tab, "chart-per-phase") == MODE_BAR
        assert focus_ring_contrast(tab) >= 3
    else:
        # No hover on a touch screen: the mode bar would only cover the chart.
        page.locator("#chart-per-phase").tap()
        assert page.locator("#chart-per-phase .modebar").count() == 0
        # The projects are cards: the name and the health of each on screen.
        first = page.locator("table.projects tbody tr").first
        assert first.locator("th a").first.is_visible()
        assert first.locator(".health").is_visible()
    assert (
        page.locator(
            ".modebar-btn[data-title*='Cloud' i], .modebar-btn[data-title*='Chart Studio' i]"
        ).count()
        == 0
    )
    fits(tab)
    accessible(tab, MODERATE)
    shot(tab, "users-portfolio")

    # Several healths at once; the charts follow the filters.
    page.get_by_label("Red").check()
    page.get_by_label("Amber").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*health=amber.*health=red.*|.*health=red.*health=amber.*"))
    at_risk = {name for name, health in healths.items() if health in ("red", "amber")}
    assert page.locator("table.projects tbody tr").count() == len(at_risk)
    assert tab.drawn_traces("chart-stays") >= 1
    # A label may take two lines on a narrow chart: its lines, read as one.
    ticks = page.eval_on_selector_all(
        "#chart-stays .ytick text",
        """texts => texts.map(text => {
            const lines = Array.from(text.querySelectorAll("tspan.line"));
            return lines.length ? lines.map(line => line.textContent).join(" ") : text.textContent;
        })""",
    )
    assert set(ticks) == at_risk

    if tab.screen == "desktop":
        page.get_by_role("link", name="Project", exact=True).click()
        page.wait_for_url("**sort=name*")
        assert page.locator("th[aria-sort=ascending]").count() == 1
        names = page.locator("table.projects tbody th a:not(.tag)").all_text_contents()
        assert names == sorted(names)
    accessible(tab, MODERATE)
    shot(tab, "users-portfolio-filtered")

    page.goto(tab.base_url + reverse("dashboard:project", args=[projects[2].slug]))
    tab.drawn_traces("chart-timeline")
    fits(tab)
    accessible(tab, MODERATE)
    shot(tab, "users-project")


def test_engineer_searches_and_sorts_the_runs(tab, manager, viewer, project):
    made = sweep(project, by=manager, n=8)
    log_run(
        made[0].experiment,
        by=manager,
        name="lgbm crashed",
        params={"model": "lgbm"},
        metrics={"val_auc": [0.99]},
        status="FAILED",
    )
    tab.sign_in("valerie")
    page = tab.page
    page.goto(tab.base_url + reverse("dashboard:runs", args=[project.slug]))
    assert page.locator('script[src*="plotly"]').count() == 0, "no chart, no plotly.js"

    page.get_by_label("Search runs").fill("metrics.val_auc > 0.8 and params.optimizer = 'adam'")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**filter=*")
    rows = page.locator("table.runs tbody tr")
    assert rows.count() >= 1
    for optimizer in page.locator("table.runs tbody td.param").all_text_contents():
        assert optimizer in ("adam",) or not optimizer.isalpha() or optimizer == "adam"
    fits(tab)
    accessible(tab)
    shot(tab, "users-runs-search")

    page.get_by_label("Search runs").fill("metrics.val_auc > 'high'")
    page.get_by_role("button", name="Search").click()
    error = page.get_by_test_id("search-error")
    error.wait_for()
    assert "numeric value" in error.text_content()
    assert page.get_by_label("Search runs").get_attribute("aria-invalid") == "true"
    tab.expected("400")
    accessible(tab)
    shot(tab, "users-runs-search-error")

    page.goto(tab.base_url + reverse("dashboard:runs", args=[project.slug]))
    page.get_by_text("Columns: pick").click()
    page.get_by_label("metrics.loss").check()
    page.get_by_label("params.seed").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**cols=*")
    header = page.locator("table.runs thead").text_content()
    assert "loss" in header and "seed" in header and "Duration" in header
    page.locator("table.runs thead").get_by_role("link", name="Run").click()
    page.wait_for_url("**order=attributes.run_name*")
    names = page.locator("table.runs tbody th a").all_text_contents()
    assert names == sorted(names)
    fits(tab)
    accessible(tab)
    shot(tab, "users-runs-sorted")


def test_engineer_compares_runs_and_reads_one(tab, manager, viewer, project):
    made = sweep(project, by=manager, n=6)
    single = log_run(
        made[0].experiment, by=manager, name="scored once", metrics={"test_auc": [0.88]}
    )
    tab.sign_in("valerie")
    page = tab.page
    ids = ",".join(run.run_id for run in made[:4])
    page.goto(tab.base_url + reverse("dashboard:run-compare", args=[project.slug]) + f"?runs={ids}")
    assert tab.drawn_traces("chart-compare-curves") == 4
    page.wait_for_selector("#chart-params .parcoords .y-axis")
    ticks = page.locator("#chart-params .tick text").all_text_contents()
    assert {run.name for run in made[:4]} <= set(ticks), "runs are named on their axis"
    assert page.get_by_test_id("best").count() == 1
    page.get_by_label("Metric", exact=True).select_option("loss")
    page.wait_for_function(
        "() => document.querySelector('#chart-compare-curves .ytitle')?.textContent === 'loss'"
    )
    if tab.screen == "desktop":
        assert mode_bar(tab, "chart-compare-curves") == MODE_BAR
    fits(tab)
    accessible(tab)
    shot(tab, "users-compare")

    page.goto(tab.base_url + reverse("dashboard:run", args=[project.slug, made[2].run_id]))
    assert page.get_by_test_id("run-rank").text_content().startswith("4 of 6")
    page.get_by_test_id("run-previous").click()
    page.wait_for_url(f"**/runs/{made[3].run_id}/")
    assert page.get_by_test_id("run-rank").text_content().startswith("3 of 6")
    tab.drawn_traces("chart-metric-1")
    fits(tab)
    accessible(tab)
    shot(tab, "users-run")

    page.goto(tab.base_url + reverse("dashboard:run", args=[project.slug, single.run_id]))
    assert "0.88" in page.get_by_test_id("single-values").text_content()
    assert page.locator("[data-figure]").count() == 0, "a single value is no chart"
    fits(tab)
    accessible(tab)
    shot(tab, "users-run-single")

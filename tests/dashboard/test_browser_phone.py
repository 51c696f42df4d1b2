"""The dashboard on a phone (390x844, touch) beside a desktop (1440x900): the portfolio's
charts stay readable (plot area, labels, legend), and no page scrolls sideways at 390 px.
Screenshots of each chart and each page at both sizes go to ``tests/screenshots/``.
"""

import pytest
from django.urls import reverse

from dashboard import services as dashboard_services
from dashboard import sharing
from phases.models import Project
from tests.dashboard import test_browser, test_browser_bundles
from tests.dashboard.conftest import build_portfolio
from tests.dashboard.test_browser import SCREENSHOTS, Tab
from tests.dashboard.test_browser_users import SCREENS, fits

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
pages = test_browser_bundles.pages
PORTFOLIO_CHARTS = ("chart-per-phase", "chart-stays", "chart-loops")

# What a reader needs of a chart: its plot area (the bars) at least half its width, every
# tick label inside the chart, the legend clear of the plot area.
GEOMETRY = """id => {
    const el = document.getElementById(id);
    const box = el.getBoundingClientRect();
    const size = el._fullLayout._size;
    const plot = el.querySelector(".nsewdrag") || el.querySelector(".draglayer rect");
    const area = plot.getBoundingClientRect();
    const labels = Array.from(el.querySelectorAll(".ytick text, .xtick text"))
        .map(t => t.getBoundingClientRect());
    const legend = el.querySelector(".legend");
    const legendBox = legend ? legend.getBoundingClientRect() : null;
    return {
        width: box.width,
        height: box.height,
        plot: size.w,
        clipped: labels.filter(r => r.left < box.left - 1 || r.right > box.right + 1).length,
        overlap: !!legendBox && legendBox.bottom > area.top + 1 && legendBox.top < area.bottom,
        ticks: Array.from(el.querySelectorAll(".ytick text")).map(t => t.textContent),
    };
}"""


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_portfolio_charts_read_at_desktop_and_phone_width(
    browser, live_server, manager, viewer, screen
):
    build_portfolio(manager=manager, viewer=viewer)
    tab = Tab(browser, live_server.url, **SCREENS[screen])
    try:
        tab.sign_in("valerie")
        page = tab.page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        unreadable = []
        for chart_id in PORTFOLIO_CHARTS:
            assert tab.drawn_traces(chart_id) >= 1
            card = page.locator(f"#{chart_id}").locator(
                "xpath=ancestor::*[contains(@class, 'chart-card')][1]"
            )
            card.screenshot(path=SCREENSHOTS / f"phone-{chart_id}-{screen}.png")
            geometry = page.evaluate(GEOMETRY, chart_id)
            if (
                geometry["plot"] < 0.5 * geometry["width"]
                or geometry["clipped"]
                or geometry["overlap"]
                or geometry["height"] < 200
            ):
                unreadable.append((chart_id, geometry))
        assert not unreadable
        fits(tab)
        tab.screenshot(f"phone-portfolio-{screen}")
    finally:
        tab.close()


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, manager, pages):
    """Every page of the dashboard at 390 px, with every section it can have."""
    project = Project.objects.get(name="Churn model")
    link = dashboard_services.shared_link_create(project=project, by=manager, label="Board")
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    every = {name: path for name, (_, path) in pages.items()} | {
        "runs": reverse("dashboard:runs", args=[project.slug]) + "?cols=metrics.loss",
        "sweep form": reverse("dashboard:sweep-new", args=[project.slug]),
        "shared": reverse("dashboard:shared", args=[token]),
    }
    phone = Tab(browser, live_server.url, **SCREENS["phone"])
    try:
        phone.open(reverse("login"))
        fits(phone)
        phone.sign_in("morgan")
        for name, path in every.items():
            phone.open(path)
            phone.page.wait_for_function(test_browser_bundles.DRAWN_OR_NONE)
            fits(phone)
            phone.screenshot(f"phone-page-{name.replace(' ', '-')}")
    finally:
        phone.close()

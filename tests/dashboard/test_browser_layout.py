"""The layout at 390 and 1440 px with every table opened: no page wider than the screen,
the columns a reader acts on (Decide) or ranks by in view on a phone, each chart's text
inside its chart and never printed over other text. Screenshots go to
``tests/screenshots/layout-*.png``.
"""

import pytest
from django.urls import reverse

from phases.models import Project, Transition
from tests.dashboard import test_browser, test_browser_bundles
from tests.dashboard.conftest import build_portfolio
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_browser_users import SCREENS, fits

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
pages = test_browser_bundles.pages
PHONE = SCREENS["phone"]["viewport"]["width"]
REASON = (
    "Temporal fusion transformer: MAPE 3.9% on the winter holdout, against 5.2% for the "
    "seasonal naive baseline; the gate's evidence is the run of the third of December."
)
OPEN_ALL = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"

# Every text of the charts ``selector`` finds that lies (even in part) outside its chart:
# Plotly cuts it off.
CHARTS = "[data-figure]"
OUTSIDE = """(selector) => Array.from(document.querySelectorAll(selector)).flatMap(el => {
    const box = el.getBoundingClientRect();
    return Array.from(el.querySelectorAll(".main-svg text"))
        .filter(t => t.textContent.trim() && t.getBoundingClientRect().width)
        .filter(t => {
            const r = t.getBoundingClientRect();
            return r.left < box.left - 1 || r.right > box.right + 1
                || r.top < box.top - 1 || r.bottom > box.bottom + 1;
        })
        .map(t => `${el.id}: ${t.textContent}`);
})"""
# Pairs of a chart's texts that print over each other (their boxes, which hold a line's
# full height, may touch by a few pixels: a number above its delta).
OVERLAPS = """id => {
    const texts = Array.from(document.querySelectorAll(`#${id} .main-svg text`))
        .filter(t => t.textContent.trim() && t.getBoundingClientRect().width);
    const boxes = texts.map(t => [t.textContent, t.getBoundingClientRect()]);
    const pairs = [];
    boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {
        const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (x > 2 && y > 4) pairs.push(`${a} / ${b}`);
    }));
    return pairs;
}"""
# What lies right of the viewport among ``selector``.
PAST_THE_EDGE = """selector => Array.from(document.querySelectorAll(selector))
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
    .map(e => e.textContent.trim())"""


def drawn(tab: Tab) -> None:
    tab.page.wait_for_function(test_browser_bundles.DRAWN_OR_NONE)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_project_page_with_its_tables_open(browser, live_server, manager, pages, screen):
    project = Project.objects.get(name="Churn model")
    Project.objects.filter(pk=project.pk).update(
        success_target=0.9, success_metric_label="Churners ranked above stayers (ROC AUC)"
    )
    Transition.objects.filter(project=project).update(reason=REASON)
    tab = Tab(browser, live_server.url, **SCREENS[screen])
    try:
        tab.sign_in("morgan")
        page = tab.page
        tab.open(pages["project"][1])
        drawn(tab)
        page.evaluate(OPEN_ALL)
        fits(tab)
        assert page.evaluate(OUTSIDE, CHARTS) == []
        assert page.evaluate(OVERLAPS, "chart-timeline") == []
        assert page.evaluate(OVERLAPS, "chart-success") == []
        decide = page.locator("[data-testid^=review-] .button")
        assert decide.count() >= 2  # Accept and Reject of a pending outcome
        assert page.evaluate(PAST_THE_EDGE, "[data-testid^=review-] .button") == []
        for button in decide.all():
            assert button.is_visible()
        if screen == "phone":
            # The reason is a sentence across the card, not a column a word wide.
            why = page.locator("#history td[data-label=Why]").first.bounding_box()
            assert why["width"] > 0.7 * PHONE
            assert page.evaluate(PAST_THE_EDGE, "#work td, #history td, #monitoring td") == []
        tab.screenshot(f"layout-project-{screen}")
    finally:
        tab.close()


def test_the_portfolio_on_a_phone_with_its_tables_open(browser, live_server, manager, viewer):
    build_portfolio(manager=manager, viewer=viewer)
    tab = Tab(browser, live_server.url, **SCREENS["phone"])
    try:
        tab.sign_in("valerie")
        page = tab.page
        drawn(tab)
        page.evaluate(OPEN_ALL)
        fits(tab)
        spilled = page.evaluate(
            """() => Array.from(document.querySelectorAll(".chart-table table")).filter(table =>
                table.getBoundingClientRect().right > table.closest(".card")
                    .getBoundingClientRect().right)"""
        )
        assert spilled == []
        # The days on a bar and the diamond of the plan never print over each other.
        overlapping = page.evaluate(
            """() => {
                const chart = document.getElementById("chart-stays");
                const texts = Array.from(chart.querySelectorAll(".bartext"))
                    .map(t => t.getBoundingClientRect()).filter(r => r.width);
                const diamonds = Array.from(chart.querySelectorAll(".scatterlayer .point"))
                    .map(p => p.getBoundingClientRect());
                return texts.filter(r => diamonds.some(d =>
                    d.left < r.right && d.right > r.left && d.top < r.bottom && d.bottom > r.top
                )).length;
            }"""
        )
        assert overlapping == 0
        assert page.evaluate(OUTSIDE, CHARTS) == []
        tab.screenshot("layout-portfolio-phone")
    finally:
        tab.close()


def test_runs_model_card_sweep_and_admin_fit(browser, live_server, pages, staff):
    project = Project.objects.get(name="Churn model")
    Project.objects.filter(pk=project.pk).update(
        success_target=0.9, success_metric_label="Churners ranked above stayers (ROC AUC)"
    )
    phone = Tab(browser, live_server.url, **SCREENS["phone"])
    desktop = Tab(browser, live_server.url, **SCREENS["desktop"])
    try:
        phone.sign_in("morgan")
        phone.open(reverse("dashboard:runs", args=[project.slug]))
        fits(phone)
        # The metric the runs rank on is in view beside their names, not past the edge.
        ranked = phone.page.locator("table.runs thead th", has_text="Churners ranked")
        assert ranked.count() == 1
        assert ranked.bounding_box()["x"] + ranked.bounding_box()["width"] <= PHONE
        phone.screenshot("layout-runs-phone")

        phone.open(pages["model version"][1])
        drawn(phone)
        fits(phone)
        assert phone.page.evaluate(PAST_THE_EDGE, "table.deployments td") == []
        assert phone.page.evaluate(OUTSIDE, CHARTS) == []
        phone.screenshot("layout-model-phone")
        # A version short of the target: its tick and its "Deploy anyway" stay on screen.
        phone.open(pages["model version"][1].replace("/v2/", "/v1/"))
        assert phone.page.get_by_test_id("below-target").count() == 1
        button = phone.page.get_by_test_id("promote").bounding_box()
        column = phone.page.locator(".page-actions").bounding_box()
        assert button["x"] + button["width"] <= column["x"] + column["width"] + 0.5

        desktop.sign_in("avery")
        desktop.open(pages["model version"][1])
        drawn(desktop)
        assert desktop.page.evaluate(OUTSIDE, CHARTS) == []  # the y axis title whole

        desktop.open(pages["sweep"][1])
        bar = desktop.page.locator("#sweep-bar").bounding_box()
        card = desktop.page.locator("#sweep-progress").bounding_box()
        assert bar["width"] > 0.6 * card["width"]

        desktop.open(pages["project"][1])
        heights = desktop.page.evaluate(
            """() => ["input[type=date]", "select"].map(s =>
                document.querySelector(`#move-back ${s}`).getBoundingClientRect().height)"""
        )
        assert abs(heights[0] - heights[1]) <= 4, heights

        desktop.open(reverse("admin:phases_project_change", args=[project.pk]))
        fits(desktop)
        desktop.screenshot("layout-admin-project-desktop")
    finally:
        phone.close()
        desktop.close()

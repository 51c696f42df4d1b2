"""A project's label for its success metric, as a person reads the pages in Chromium: the
status page, its leaderboard, the runs list (its header, the column of the metric and the
column picker), and the comparison (its table, the metric picker and the charts' titles,
also once another metric was picked and picked back). The label is user text with markup
in it: it shows as typed, the key runs log beside it, and never runs as a script.
"""

import pytest
from django.urls import reverse

from phases import services
from phases.choices import Role
from tests.dashboard import test_browser
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_experiments_views import sweep
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
LABEL = "Churners <b>caught</b> first"
WITH_KEY = f"{LABEL} (val_auc)"
# Set by the label if it ever ran as markup.
PROBE = "() => document.querySelectorAll('main b, main script:not([type])').length"

# The curves' y axis title as one text: a long label takes two lines (a tspan.line each).
CURVES_Y_TITLE = """(() => {
    const title = document.querySelector('#chart-compare-curves .ytitle');
    if (!title) return null;
    const lines = [...title.querySelectorAll('tspan.line')].map(line => line.textContent);
    return lines.length ? lines.join(' ') : title.textContent;
})()"""


@pytest.fixture
def churn(manager, viewer):
    project = make_project(
        owner=manager, name="Churn model", success_metric="val_auc", success_target=0.85
    )
    services.project_update(project=project, by=manager, success_metric_label=LABEL)
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    return project


@pytest.fixture
def tab(browser, live_server):
    tab = Tab(browser, live_server.url, viewport={"width": 1440, "height": 900})
    yield tab
    tab.close()


def text(tab: Tab, selector: str) -> str:
    return " ".join(tab.page.locator(selector).first.text_content().split())


def test_the_label_names_the_metric_on_the_status_page_runs_and_comparison(tab, churn, manager):
    made = sweep(churn, by=manager, n=5)
    tab.sign_in("valerie")
    page = tab.page

    tab.open(reverse("dashboard:project", args=[churn.slug]))
    assert text(tab, "[data-testid=metric-name]") == WITH_KEY
    leaderboard = page.get_by_role("region", name=f"Leaderboard: the best runs on {LABEL}")
    assert " ".join(leaderboard.locator("thead th.num.key").text_content().split()) == WITH_KEY
    assert f"The best runs on {WITH_KEY}" in text(tab, "#experiments .lede-small")
    assert text(tab, "#chart-curves-card .chart-title") == f"{LABEL} of the best runs"
    assert page.evaluate(PROBE) == 0
    tab.screenshot("labels-project")

    tab.open(reverse("dashboard:runs", args=[churn.slug]) + "?cols=metrics.val_auc")
    assert f"best on {WITH_KEY} first" in text(tab, ".lede")
    headers = [" ".join(t.split()) for t in page.locator("table.runs th").all_text_contents()]
    assert any(header.startswith(WITH_KEY) for header in headers), headers
    picker = page.locator(".column-picker")
    assert picker.get_by_label(f"{LABEL} (metrics.val_auc)").is_checked()
    assert picker.get_by_label("metrics.loss").is_visible()
    assert page.evaluate(PROBE) == 0
    tab.screenshot("labels-runs")

    ids = ",".join(run.run_id for run in made)
    tab.open(reverse("dashboard:run-compare", args=[churn.slug]) + f"?runs={ids}&key=val_auc")
    assert text(tab, ".lede [data-compare-key]") == WITH_KEY
    picked = page.get_by_label("Metric", exact=True)
    assert picked.locator("option:checked").text_content() == WITH_KEY
    assert text(tab, "#chart-compare-curves-card .chart-title") == f"{LABEL}, run by run"
    assert text(tab, "#chart-params-card .chart-title") == f"Params against {LABEL}"
    headers = [" ".join(t.split()) for t in page.locator("table.compared th").all_text_contents()]
    assert f"{WITH_KEY}higher is better" in headers, headers
    assert "losslower is better" in headers, headers
    page.wait_for_selector("#chart-compare-curves .ytitle")
    assert page.evaluate(f"() => {CURVES_Y_TITLE}") == LABEL
    tab.screenshot("labels-compare")

    # Another metric and back, redrawn in place: the titles name the label again.
    picked.select_option("loss")
    page.wait_for_function(
        "() => document.querySelector('#chart-compare-curves .ytitle')?.textContent === 'loss'"
    )
    picked.select_option("val_auc")
    page.wait_for_function(f"label => {CURVES_Y_TITLE} === label", arg=LABEL)
    assert text(tab, "#chart-compare-curves-card .chart-title") == f"{LABEL}, run by run"
    assert page.evaluate(PROBE) == 0

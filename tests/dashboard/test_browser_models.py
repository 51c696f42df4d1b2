"""Models in a real browser, at a desktop (1440x900) and a phone (390x844) size: a viewer
reads the models section and a version's card (its chart drawn, the Markdown downloaded),
and a manager deploys a challenger from its page, which the section then shows at the
production alias. Screenshots go to ``tests/screenshots/``.
"""

from pathlib import Path

import pytest
from django.urls import reverse

from phases import services
from phases.choices import Role
from registry.choices import DeploymentKind
from registry.models import DeploymentEvent
from tests.dashboard import test_browser
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_models import registered
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
SIZES = [("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})]


def churn_with_models(manager, viewer):
    project = make_project(
        owner=manager,
        name="Churn model",
        success_metric="val_auc",
        success_target=0.75,
        description="Flag subscribers likely to cancel so retention calls them first.",
    )
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    registered(project, manager, versions=4, values=[0.69, 0.74, 0.78, 0.81], name="churn-gbm")
    return project


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_viewer_reads_the_models_and_a_card(
    browser, live_server, manager, viewer, size, viewport
):
    project = churn_with_models(manager, viewer)
    tab = Tab(browser, live_server.url, viewport=viewport, accept_downloads=True)
    try:
        tab.sign_in("valerie")
        page = tab.page
        tab.open(reverse("dashboard:project", args=[project.slug]))
        section = page.locator("#models")
        section.scroll_into_view_if_needed()
        assert "v4 at champion" in section.text_content()
        assert section.locator("table.versions tbody tr").count() == 4
        section.screenshot(path=str(test_browser.SCREENSHOTS / f"models-section-{size}.png"))

        section.get_by_role("link", name="v3", exact=True).click()
        page.wait_for_load_state()
        assert page.locator("h1").text_content() == "churn-gbm v3"
        assert page.get_by_test_id("not-in-production").is_visible()
        assert tab.drawn_traces("chart-versions") == 1
        assert "meets the target" in page.get_by_test_id("evaluation-value").text_content()
        assert page.get_by_test_id("promote").count() == 0
        with page.expect_download() as download:
            page.get_by_test_id("card-download").click()
        assert download.value.suggested_filename == "model-card-churn-gbm-v3.md"
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith("# Model card: churn-gbm v3")
        tab.screenshot(f"models-version-viewer-{size}")
    finally:
        tab.close()


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_manager_deploys_a_version_from_its_page(
    browser, live_server, manager, viewer, size, viewport
):
    project = churn_with_models(manager, viewer)
    tab = Tab(browser, live_server.url, viewport=viewport)
    try:
        tab.sign_in("morgan")
        page = tab.page
        tab.open(reverse("dashboard:model-version", args=[project.slug, "churn-gbm", 3]))
        page.get_by_test_id("promote").click()
        page.wait_for_load_state()
        assert "is now at “champion”" in page.locator(".messages").text_content()
        assert page.get_by_test_id("in-production").is_visible()
        assert page.get_by_test_id("promote").count() == 0
        deployments = page.locator("#deployments table tbody tr")
        assert deployments.count() == 2
        assert "replacing v4" in deployments.first.text_content()
        tab.screenshot(f"models-version-manager-{size}")
        event = DeploymentEvent.objects.filter(project=project).latest("created_at")
        assert (event.kind, event.version, event.by) == (DeploymentKind.PROMOTED, 3, manager)

        tab.open(reverse("dashboard:project", args=[project.slug]) + "#models")
        assert "v3 at champion" in page.locator("#models").text_content()
    finally:
        tab.close()

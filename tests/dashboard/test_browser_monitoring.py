"""Production monitoring in a real browser, at a desktop (1440x900) and a phone (390x844)
size: the portfolio puts the firing project first, the project page draws every monitor's
series and the latest window's drift per feature, and the alert is acknowledged and the
project moved back from it with buttons. Screenshots go to ``tests/screenshots/``.
"""

import pytest
from django.urls import reverse

from monitoring.choices import AlertState, MonitorKind
from monitoring.models import Alert
from phases import services
from phases.choices import Role
from tests.dashboard import test_browser
from tests.dashboard.conftest import advance
from tests.dashboard.test_browser import Tab
from tests.factories import make_project
from tests.monitoring.conftest import monitored_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def churn_in_production(manager, viewer):
    make_project(owner=manager, name="Aardvark scoring")  # first by name, no alert
    project = make_project(owner=manager, name="Churn model", success_metric="val_auc")
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    for _ in range(3):
        advance(project, by=manager)
    monitored_for(project, days=8, drift_days=3, rows=1000)
    return project


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_monitoring_section_and_the_loop_back_in_the_browser(
    browser, live_server, manager, viewer, size, viewport
):
    project = churn_in_production(manager, viewer)
    alert = Alert.objects.get(monitor__project=project, monitor__kind=MonitorKind.DATA_DRIFT)
    assert alert.state == AlertState.FIRING
    tab = Tab(browser, live_server.url, viewport=viewport)
    try:
        tab.sign_in("morgan")
        page = tab.page
        rows = page.locator("table.projects tbody tr th a:first-child")
        assert rows.first.text_content() == "Churn model"
        assert page.get_by_test_id(f"firing-{project.slug}").is_visible()
        tab.screenshot(f"monitoring-portfolio-{size}")

        tab.open(reverse("dashboard:project", args=[project.slug]))
        section = page.locator("#monitoring")
        section.scroll_into_view_if_needed()
        assert "churn v2" in section.get_by_test_id("deployment-name").text_content()
        assert tab.drawn_traces("chart-drift") == 1
        drift_monitor = alert.monitor
        assert tab.drawn_traces(f"chart-monitor-{drift_monitor.pk}") >= 1
        assert "Drifted" in section.locator("table.drift").text_content()
        tab.screenshot(f"monitoring-project-{size}")

        row = section.get_by_test_id(f"alert-{alert.pk}")
        row.get_by_role("button", name="Acknowledge").click()
        page.wait_for_load_state()
        # The answer shows where the manager acted: in the monitoring section.
        feedback = page.get_by_role("region", name="Production monitoring").locator(".messages")
        assert "repeats stop" in feedback.text_content()
        alert.refresh_from_db()
        assert alert.acknowledged_by == manager

        row = section.get_by_test_id(f"alert-{alert.pk}")
        # A move back opens its form first: an optional due date and note, then the button.
        row.get_by_text("Move back to Experimentation…").click()
        row.get_by_label("Add to the reason").fill("Retrain on the holiday weeks first.")
        tab.screenshot(f"monitoring-move-back-form-{size}")
        row.get_by_role("button", name="Move back to Experimentation").click()
        page.wait_for_load_state()
        shown = " ".join(page.locator(".messages").all_text_contents())
        assert "moved back to Experimentation" in shown
        project.refresh_from_db()
        assert project.current_phase.name == "Experimentation"
        assert project.transitions.latest("created_at").reason.endswith("holiday weeks first.")
        tab.screenshot(f"monitoring-moved-back-{size}")
    finally:
        tab.close()

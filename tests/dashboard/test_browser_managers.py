"""A project manager's jobs in a real browser, at desktop (1440x900) and phone (390x844)
widths: review outcomes and see the answer where they clicked, learn why Advance is
blocked, move back with a new plan, complete a project, and work in the admin on the
projects they manage, giving the success metric a label the sponsor then reads.
Screenshots go to ``tests/screenshots/`` (``managers-*``)."""

import pytest
from django.urls import reverse

from phases import services
from phases.models import Outcome
from tests.dashboard import test_browser
from tests.dashboard.conftest import advance, complete
from tests.dashboard.test_browser import Tab

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}

IN_VIEW = """el => {
    const box = el.getBoundingClientRect();
    return box.height > 0 && box.top >= -2 && box.top < window.innerHeight;
}"""


@pytest.fixture(params=sorted(SIZES))
def size(request) -> str:
    return request.param


@pytest.fixture
def tab(browser, live_server, size):
    tab = Tab(browser, live_server.url, viewport=SIZES[size])
    yield tab
    tab.close()


def no_sideways_scroll(tab: Tab) -> None:
    assert tab.page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    ), "the page scrolls sideways"


def in_view(tab: Tab, selector: str) -> bool:
    tab.page.wait_for_load_state("load")
    return tab.page.locator(selector).first.evaluate(IN_VIEW)


def test_manager_reviews_outcomes_and_sees_why_advance_is_blocked(tab, size, project, manager):
    tab.sign_in("morgan")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    advance_button = page.get_by_test_id("advance")
    assert "blocked" in advance_button.get_attribute("class")
    advance_button.click()
    page.wait_for_url("**#feedback-status")
    refusal = page.locator("#feedback-status .message-error")
    assert "cannot move on to Experimentation yet" in refusal.text_content()
    assert in_view(tab, "#feedback-status .message-error")
    tab.screenshot(f"managers-advance-blocked-{size}")

    outcome = Outcome.objects.filter(phase=project.current_phase).first()
    row = page.get_by_test_id(f"review-{outcome.pk}")
    row.get_by_text("Reject…").click()
    row.get_by_label("What is missing").fill("Add the cost of a false alarm.")
    row.get_by_role("button", name=f"Reject {outcome.name}").click()
    page.wait_for_url("**#feedback-work")
    answer = page.locator("#feedback-work .message-success")
    assert "is rejected" in answer.text_content()
    assert in_view(tab, "#feedback-work .message-success")
    no_sideways_scroll(tab)
    tab.screenshot(f"managers-rejected-{size}")
    outcome.refresh_from_db()
    assert outcome.review_note == "Add the cost of a false alarm."

    services.outcome_submit(outcome=outcome, by=manager)
    page.reload()
    page.get_by_test_id(f"review-{outcome.pk}").get_by_role(
        "button", name=f"Accept {outcome.name}"
    ).click()
    page.wait_for_url("**#feedback-work")
    assert "is accepted" in page.locator("#feedback-work .message-success").text_content()
    tab.screenshot(f"managers-accepted-{size}")


def test_manager_moves_back_with_a_new_due_date_and_sees_the_forecast(tab, size, project, manager):
    advance(project, by=manager)
    advance(project, by=manager)
    target = project.phases.get(name="Experimentation")
    tab.sign_in("morgan")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    form = page.locator("#move-back")
    form.get_by_label("Move back to").select_option(str(target.pk))
    due = target.due_date.replace(year=target.due_date.year + 1)
    form.get_by_label("New due date of the reopened phase").fill(due.isoformat())
    form.get_by_label("Why").fill("The pipeline found a leak in the features.")
    form.get_by_role("button", name="Move back").click()
    page.wait_for_url("**#feedback-status")
    assert "now due" in page.locator("#feedback-status .message-success").text_content()
    assert in_view(tab, "#feedback-status .message-success")
    assert page.get_by_test_id("current-phase").text_content() == "Experimentation"
    assert "later than the original plan" in page.get_by_test_id("finish").text_content()
    assert tab.drawn_traces("chart-timeline") >= 3
    no_sideways_scroll(tab)
    tab.screenshot(f"managers-moved-back-{size}")


def test_manager_completes_a_project_and_the_sponsor_sees_it(
    tab, size, browser, live_server, project, manager, viewer
):
    for outcome in Outcome.objects.filter(phase__project=project, evidence_rule__gt=""):
        services.outcome_update(outcome=outcome, by=manager, required=False)
    for _ in range(3):
        advance(project, by=manager)
    project.refresh_from_db()
    complete(project.current_phase, by=manager)
    tab.sign_in("morgan")
    tab.open(reverse("dashboard:project", args=[project.slug]))
    page = tab.page
    page.get_by_role("button", name="Complete the project").click()
    page.wait_for_url("**#feedback-status")
    assert "is completed" in page.locator("#feedback-status .message-success").text_content()
    assert page.get_by_test_id("current-phase").text_content() == "Completed"
    assert page.get_by_role("heading", name="Reopen: move back").is_visible()
    tab.screenshot(f"managers-completed-{size}")

    sponsor = Tab(browser, live_server.url, viewport=SIZES[size])
    try:
        sponsor.sign_in("valerie")
        sponsor.open(reverse("dashboard:project", args=[project.slug]))
        assert sponsor.page.get_by_test_id("current-phase").text_content() == "Completed"
        assert sponsor.page.get_by_role("button", name="Complete the project").count() == 0
        no_sideways_scroll(sponsor)
        sponsor.screenshot(f"managers-completed-sponsor-{size}")
    finally:
        sponsor.close()


def test_manager_works_in_the_admin_on_their_projects_only(
    tab, size, browser, live_server, project, manager, outsider
):
    from tests.factories import make_project

    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    hidden = make_project(owner=outsider, name="Someone else's secret")
    tab.sign_in("morgan")
    page = tab.page
    tab.open(reverse("admin:phases_project_changelist"))
    assert page.get_by_role("link", name=project.name).is_visible()
    assert page.get_by_text(hidden.name).count() == 0
    tab.screenshot(f"managers-admin-list-{size}")

    page.get_by_role("link", name=project.name).click()
    page.get_by_label("Success metric label").fill("Churners ranked first")
    tab.screenshot(f"managers-admin-change-{size}")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/phases/project/")
    assert "was changed successfully" in page.locator(".messagelist").text_content()
    project.refresh_from_db()
    assert project.success_metric_label == "Churners ranked first"

    sponsor = Tab(browser, live_server.url, viewport=SIZES[size])
    try:
        sponsor.sign_in("valerie")
        sponsor.open(reverse("dashboard:project", args=[project.slug]))
        assert "Churners ranked first" in sponsor.page.get_by_test_id("metric-name").text_content()
        sponsor.screenshot(f"managers-metric-label-{size}")
    finally:
        sponsor.close()

"""What a manager does on the status page: review outcomes, advance (or learn why not),
move back with a new plan, complete the project; answers shown where they acted."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from phases import services
from phases.choices import ReviewStatus, TransitionKind
from phases.models import Outcome, Project
from tests.dashboard.conftest import advance, client_for, complete
from tests.dashboard.test_queries import PROJECT_MAX, count

pytestmark = pytest.mark.django_db


def page_of(project: Project) -> str:
    return reverse("dashboard:project", args=[project.slug])


def review_url(project: Project, outcome: Outcome, verb: str) -> str:
    return reverse(f"dashboard:outcome-{verb}", args=[project.slug, outcome.pk])


def section(html: str, element_id: str) -> str:
    """The HTML from the element with ``element_id`` to the end of its section."""
    start = html.index(f'id="{element_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def first_outcome(project: Project) -> Outcome:
    return Outcome.objects.filter(phase=project.current_phase).first()


# --- Outcome reviews: who may ----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("viewer", 403), ("contributor", 403), ("outsider", 404), ("manager", 302), ("staff", 302)],
)
def test_only_managers_review_outcomes_from_the_status_page(request, project, who, status):
    outcome = first_outcome(project)
    client = client_for(request.getfixturevalue(who))
    accepted = client.post(review_url(project, outcome, "accept"))
    rejected = client.post(review_url(project, outcome, "reject"), {"note": "Too thin."})
    assert (accepted.status_code, rejected.status_code) == (status, status)
    outcome.refresh_from_db()
    expected = ReviewStatus.REJECTED if status == 302 else ReviewStatus.PENDING
    assert outcome.review_status == expected


def test_review_buttons_show_for_managers_only_and_on_the_current_phase(
    project, manager, viewer, contributor
):
    html = client_for(manager).get(page_of(project)).content.decode()
    outcome = first_outcome(project)
    assert f'data-testid="review-{outcome.pk}"' in html
    assert html.count("Reject…") == project.current_phase.outcomes.count()
    for reader in (viewer, contributor):
        assert "Reject…" not in client_for(reader).get(page_of(project)).content.decode()


def test_accept_answers_in_the_work_section(project, manager):
    outcome = first_outcome(project)
    client = client_for(manager)
    response = client.post(review_url(project, outcome, "accept"))
    assert response["Location"] == page_of(project) + "#feedback-work"
    html = client.get(response["Location"]).content.decode()
    work = section(html, "work")
    assert f"“{outcome.name}” is accepted." in work
    top = html[: html.index('id="status"')]
    assert "is accepted" not in top
    outcome.refresh_from_db()
    assert (outcome.review_status, outcome.reviewer) == (ReviewStatus.ACCEPTED, manager)


def test_reject_needs_a_note_and_says_so_on_the_row(project, manager):
    outcome = first_outcome(project)
    response = client_for(manager).post(review_url(project, outcome, "reject"), {"note": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    row = section(html, f"reject-note-{outcome.pk}")
    assert "Note: This field is required." in row
    assert re.search(r'<details class="reject" open>', html)
    assert row.index("autofocus") < row.index(">") and html.count("autofocus") == 1
    outcome.refresh_from_db()
    assert outcome.review_status == ReviewStatus.PENDING


def test_reject_records_the_note_for_the_gate(project, manager):
    outcome = first_outcome(project)
    client = client_for(manager)
    client.post(review_url(project, outcome, "reject"), {"note": "Add the cost estimate."})
    outcome.refresh_from_db()
    assert (outcome.review_status, outcome.review_note) == (
        ReviewStatus.REJECTED,
        "Add the cost estimate.",
    )
    html = client.get(page_of(project)).content.decode()
    assert "Add the cost estimate." in section(html, "status")


def test_an_outcome_of_another_project_is_not_found(project, manager, outsider):
    from tests.factories import make_project

    other = make_project(owner=outsider)
    foreign = first_outcome(other)
    response = client_for(manager).post(review_url(project, foreign, "accept"))
    assert response.status_code == 404


# --- Advance, blocked or not, and answers where the user is ---------------------------


def test_a_blocked_advance_looks_blocked_and_answers_next_to_the_gate(project, manager):
    client = client_for(manager)
    html = client.get(page_of(project)).content.decode()
    assert 'class="button primary blocked"' in html
    assert "Blocked:" in html
    response = client.post(reverse("dashboard:project-advance", args=[project.slug]))
    assert response["Location"] == page_of(project) + "#feedback-status"
    html = client.get(response["Location"]).content.decode()
    feedback = html[html.index('id="feedback-status"') : html.index('id="status"')]
    assert "cannot move on to Experimentation yet" in feedback
    assert 'role="alert"' in feedback

    complete(project.current_phase, by=manager)
    html = client.get(page_of(project)).content.decode()
    assert "blocked" not in section(html, "status").split("advance-form")[1]


# --- Move back with a new plan ---------------------------------------------------------


def test_move_back_asks_for_the_due_date_and_shifts_the_plan(project, manager):
    advance(project, by=manager)
    advance(project, by=manager)
    client = client_for(manager)
    form = section(client.get(page_of(project)).content.decode(), "move-back")
    assert 'type="date"' in form and 'name="due_date"' in form
    target = project.phases.get(name="Experimentation")
    due = target.due_date + dt.timedelta(days=25)
    later = project.phases.get(name="Productionization")
    response = client.post(
        reverse("dashboard:project-move-back", args=[project.slug]),
        {"to_phase": target.pk, "due_date": due.isoformat(), "reason": "Leak in features."},
    )
    assert response["Location"] == page_of(project) + "#feedback-status"
    target.refresh_from_db()
    old_due = later.due_date
    later.refresh_from_db()
    assert target.due_date == due
    assert later.due_date == old_due + dt.timedelta(days=25)
    html = client.get(response["Location"]).content.decode()
    assert "now due" in html[html.index('id="feedback-status"') : html.index('id="status"')]
    finish = section(html, "timeline")
    assert "later than the original plan" in finish


def test_move_back_to_a_due_date_in_the_past_is_refused_in_the_form_section(project, manager):
    advance(project, by=manager)
    client = client_for(manager)
    target = project.phases.get(order=1)
    response = client.post(
        reverse("dashboard:project-move-back", args=[project.slug]),
        {"to_phase": target.pk, "due_date": "2001-01-01", "reason": "Scope changed."},
    )
    assert response.status_code == 400
    form = section(response.content.decode(), "move-back")
    # On the date's own field, in words, with what was typed kept and the field focused.
    due = form[form.index('name="due_date"') :]
    assert due.index("autofocus") < due.index(">")
    assert "must not be before today (" in due and "due_date:" not in form
    assert "Scope changed.</textarea>" in form
    project.refresh_from_db()
    assert project.current_phase.order == 2


def test_a_form_sent_back_with_an_error_opens_at_the_field_in_error(project, manager):
    """A blank "Why" on the move back, a blank note on a rejection: the page comes back
    focused on the field, which the browser scrolls into view, not at the top."""
    advance(project, by=manager)
    client = client_for(manager)
    target = project.phases.get(order=1)
    response = client.post(
        reverse("dashboard:project-move-back", args=[project.slug]),
        {"to_phase": target.pk, "reason": "   "},
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = section(html, "move-back")
    reason = form[form.index('name="reason"') :]
    assert reason.index("autofocus") < reason.index(">")
    assert html.count("autofocus") == 1


# --- Completing -------------------------------------------------------------------------


def waive_monitors(project: Project) -> None:
    for outcome in Outcome.objects.filter(phase__project=project, evidence_rule__gt=""):
        services.outcome_update(outcome=outcome, by=project.owner, required=False)


def test_complete_from_the_last_phase_and_reopen_by_a_loop_back(project, manager, viewer):
    waive_monitors(project)
    for _ in range(3):
        advance(project, by=manager)
    project.refresh_from_db()
    client = client_for(manager)
    assert "Complete the project</button>" in client.get(page_of(project)).content.decode()
    complete(project.current_phase, by=manager)

    response = client.post(reverse("dashboard:project-complete", args=[project.slug]))

    assert response["Location"] == page_of(project) + "#feedback-status"
    project.refresh_from_db()
    assert project.completed_at is not None
    assert project.transitions.latest("created_at").kind == TransitionKind.COMPLETE
    html = client_for(viewer).get(page_of(project)).content.decode()
    assert '<p class="big" data-testid="current-phase">Completed</p>' in html
    assert "Completed in Productionization" in section(html, "history")
    assert "Complete the project</button>" not in html
    managers = client.get(page_of(project)).content.decode()
    assert "Reopen: move back" in managers

    target = project.phases.get(name="Experimentation")
    client.post(
        reverse("dashboard:project-move-back", args=[project.slug]),
        {"to_phase": target.pk, "reason": "Drift in production."},
    )
    project.refresh_from_db()
    assert project.completed_at is None
    assert project.current_phase == target


def test_the_portfolio_shows_a_completed_project_as_completed(project, manager, viewer):
    waive_monitors(project)
    for _ in range(3):
        advance(project, by=manager)
    project.refresh_from_db()
    complete(project.current_phase, by=manager)
    services.project_complete(project=project, by=manager)
    html = client_for(viewer).get(reverse("dashboard:portfolio")).content.decode()
    assert 'data-testid="completed">Completed</span>' in html


def test_completed_project_page_queries_are_bounded(project, manager):
    waive_monitors(project)
    for _ in range(3):
        advance(project, by=manager)
    project.refresh_from_db()
    complete(project.current_phase, by=manager)
    services.project_complete(project=project, by=manager)
    assert count(client_for(manager), page_of(project)) <= PROJECT_MAX


# --- The success metric's label ---------------------------------------------------------


def test_the_metric_label_is_shown_with_its_key(project, viewer):
    services.project_update(
        project=project, by=project.owner, success_metric_label="Churners ranked first"
    )
    html = client_for(viewer).get(page_of(project)).content.decode()
    metric = section(html, "metric")
    assert "Churners ranked first" in metric
    assert "<code>val_auc</code>" in metric

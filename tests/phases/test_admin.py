"""The admin for project managers, through its HTTP views as a logged-in manager.

Data is built through ``phases.services``, the way the application builds it; the admin is
driven the way a browser drives it, posting back the forms it renders.
"""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from phases import services
from phases.choices import Health, PhaseStatus, ReviewStatus, Role, TaskStatus, TransitionKind
from phases.models import (
    LifecycleTemplate,
    Outcome,
    OutcomeTemplate,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    TaskTemplate,
    Transition,
)
from phases.selectors import phase_gate
from tests.factories import UserFactory, lifecycle, make_project

pytestmark = pytest.mark.django_db

PROJECTS = reverse("admin:phases_project_changelist")
OUTCOMES = reverse("admin:phases_outcome_changelist")


class _BrowserForm(HTMLParser):
    """What a browser submits from one form of a page: enabled fields, checked boxes, the
    selected (else the first) option of each select, and the text of each textarea."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str] = {}
        self._select: dict | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        name = attrs.get("name")
        if not self.inside or "disabled" in attrs:
            return
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attrs:
                self._select["selected"] = value
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            if chosen is None:
                chosen = self._select["first"]
            if chosen is not None:
                self.data[self._select["name"]] = chosen
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.data[name] = text.removeprefix("\n")
            self._textarea = None


def browser_form(response, form_id: str) -> dict[str, str]:
    parser = _BrowserForm(form_id)
    parser.feed(response.content.decode())
    assert parser.data, f"no form #{form_id} on the page"
    return {**parser.data, "_save": "Save"}


def inline_prefix(data: dict[str, str], formset: str, pk: int) -> str:
    """The prefix of the inline form that edits row ``pk`` in formsets named ``formset``."""
    for key, value in data.items():
        if re.fullmatch(rf"(?:.+-)?{formset}-\d+-id", key) and value == str(pk):
            return key.removesuffix("-id")
    raise AssertionError(f"no {formset} form for row {pk}")


def change_url(obj) -> str:
    return reverse(f"admin:phases_{obj._meta.model_name}_change", args=[obj.pk])


def run_action(client, url: str, action: str, objects, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(url, data, follow="post" in extra)


def complete_gate(project: Project, by) -> None:
    phase = Phase.objects.get(pk=project.current_phase_id)
    for task in phase.tasks.all():
        services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
    for outcome in phase.outcomes.all():
        services.outcome_accept(outcome=outcome, by=by)


def fresh(project: Project) -> Project:
    return Project.objects.select_related("current_phase").get(pk=project.pk)


@pytest.fixture
def manager():
    return UserFactory(username="pm", is_staff=True, is_superuser=True)


@pytest.fixture
def pm(client, manager):
    client.force_login(manager)
    return client


# --- Access and rendering ---------------------------------------------------------------


def test_non_staff_user_is_sent_to_login(client):
    client.force_login(UserFactory())
    response = client.get(PROJECTS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_site_is_titled_for_mlprojects(pm):
    assert "mlprojects administration" in pm.get(reverse("admin:index")).content.decode()


def test_every_registered_model_renders_its_changelist_and_change_page(pm, manager):
    project = make_project(owner=manager)
    services.outcome_submit(outcome=Outcome.objects.filter(phase__project=project)[0], by=manager)
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        response = pm.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            assert pm.get(url).status_code == 200, url


def test_project_change_page_shows_phases_tasks_outcomes_and_history(pm, manager):
    project = make_project(owner=manager)
    page = pm.get(change_url(project)).content.decode()
    for phase in project.phases.all():
        assert escape(phase.name) in page
    for title in Phase.objects.get(pk=project.current_phase_id).tasks.values_list(
        "title", flat=True
    ):
        assert escape(title) in page
    assert "transition history" in page.lower()
    assert "Outcome “A design doc outlining how to solve the problem" in page


def test_project_changelist_query_count_does_not_grow_with_projects(pm):
    for _ in range(3):
        make_project()
    with CaptureQueriesContext(connection) as few:
        assert pm.get(PROJECTS).status_code == 200
    for _ in range(12):
        make_project()
    with CaptureQueriesContext(connection) as many:
        response = pm.get(PROJECTS)
    assert response.context["cl"].result_count == 15
    assert len(many) == len(few)


def test_changelist_filters_by_current_phase_name_and_searches_owner(pm, manager):
    moved = make_project(name="Churn model", owner=manager)
    complete_gate(moved, manager)
    services.phase_advance(project=moved, by=manager)
    make_project(name="Fraud model", owner=UserFactory(username="zoe"))

    in_experimentation = pm.get(PROJECTS, {"current_phase": "Experimentation"})
    assert [p.name for p in in_experimentation.context["cl"].result_list] == ["Churn model"]
    by_owner = pm.get(PROJECTS, {"q": "zoe"})
    assert [p.name for p in by_owner.context["cl"].result_list] == ["Fraud model"]


def test_user_autocomplete_serves_owner_membership_and_assignee_fields(pm):
    UserFactory(username="alice")
    for model, field in (("project", "owner"), ("membership", "user"), ("task", "assignee")):
        params = {"app_label": "phases", "model_name": model, "field_name": field, "term": "ali"}
        response = pm.get(reverse("admin:autocomplete"), params)
        assert response.status_code == 200, field
        assert [r["text"] for r in response.json()["results"]] == ["alice"]


# --- Creating and editing projects ------------------------------------------------------


def test_add_page_creates_the_project_through_the_service(pm, manager):
    owner = UserFactory(username="olivia")
    template = lifecycle()
    add_page = pm.get(reverse("admin:phases_project_add"))
    assert 'name="phases-TOTAL_FORMS"' not in add_page.content.decode()

    response = pm.post(
        reverse("admin:phases_project_add"),
        {
            "name": "Demand forecast",
            "slug": "",
            "description": "Weekly demand per store.",
            "owner": owner.pk,
            "lifecycle": template.pk,
            "start_date": "2025-03-03",
            "success_metric": "val_mape",
            "success_target": "0.12",
            "success_direction": "minimize",
            "_save": "Save",
        },
    )

    project = Project.objects.get(slug="demand-forecast")
    assert response["Location"] == change_url(project)
    assert (project.owner, project.success_target) == (owner, 0.12)
    assert project.phases.count() == PhaseTemplate.objects.filter(lifecycle=template).count()
    tasks = TaskTemplate.objects.filter(phase__lifecycle=template)
    assert Task.objects.filter(phase__project=project).count() == tasks.count()
    outcomes = OutcomeTemplate.objects.filter(phase__lifecycle=template)
    assert Outcome.objects.filter(phase__project=project).count() == outcomes.count()
    first = project.phases.get(order=1)
    assert project.current_phase == first
    assert first.status == PhaseStatus.ACTIVE
    assert first.start_date == dt.date(2025, 3, 3)
    assert project.memberships.get(user=owner).role == Role.MANAGER
    start = project.transitions.get()
    assert (start.kind, start.by) == (TransitionKind.START, manager)


def test_add_page_refuses_a_slug_the_service_would_refuse(pm, manager):
    response = pm.post(
        reverse("admin:phases_project_add"),
        {
            "name": "Upper",
            "slug": "Not-A-Slug",
            "owner": manager.pk,
            "lifecycle": lifecycle().pk,
            "success_direction": "maximize",
        },
    )
    assert response.status_code == 200
    assert "Use only lowercase letters, digits and dashes." in response.content.decode()
    assert not Project.objects.exists()


def test_inline_task_status_goes_through_the_service(pm, manager):
    project = make_project(owner=manager)
    url = change_url(project)
    task = Phase.objects.get(pk=project.current_phase_id).tasks.first()
    data = browser_form(pm.get(url), "project_form")
    prefix = inline_prefix(data, "tasks", task.pk)
    data[f"{prefix}-status"] = TaskStatus.IN_PROGRESS
    data[f"{prefix}-title"] = "Analyze the problem with the sponsor"

    response = pm.post(url, data)

    assert response.status_code == 302, response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.title == "Analyze the problem with the sponsor"


def test_inline_edit_refused_by_the_service_saves_nothing_and_says_why(pm, manager):
    project = make_project(owner=manager)
    owner_row = project.memberships.get(user=manager)
    url = change_url(project)
    data = browser_form(pm.get(url), "project_form")
    prefix = inline_prefix(data, "memberships", owner_row.pk)
    data[f"{prefix}-role"] = Role.VIEWER
    data["description"] = "Changed alongside"

    response = pm.post(url, data, follow=True)

    page = response.content.decode()
    assert "Nothing was saved." in page
    assert escape("the project's owner is always a manager") in page
    owner_row.refresh_from_db()
    assert owner_row.role == Role.MANAGER
    assert fresh(project).description == ""


def test_only_the_current_phase_has_task_and_outcome_rows(pm, manager):
    """The other phases fold into one row each: their work is edited when it is current."""
    project = make_project(owner=manager)
    done = Phase.objects.get(pk=project.current_phase_id)
    complete_gate(project, manager)
    services.phase_advance(project=project, by=manager)
    data = browser_form(pm.get(change_url(project)), "project_form")
    current = fresh(project).current_phase
    assert inline_prefix(data, "tasks", current.tasks.first().pk)
    with pytest.raises(AssertionError):
        inline_prefix(data, "tasks", done.tasks.first().pk)


def test_plain_project_fields_are_saved_through_the_service(pm, manager):
    project = make_project(owner=manager)
    url = change_url(project)
    data = browser_form(pm.get(url), "project_form")
    assert "slug" not in data and "owner" not in data
    data["description"] = "Predict churn a month ahead."
    data["success_target"] = "0.85"

    assert pm.post(url, data).status_code == 302
    project = fresh(project)
    assert (project.description, project.success_target) == ("Predict churn a month ahead.", 0.85)


def _tasks_formset(data: dict[str, str], task_pk: int) -> str:
    return inline_prefix(data, "tasks", task_pk).rsplit("-", 1)[0]


def test_new_member_and_new_task_are_written_by_the_services(pm, manager):
    project = make_project(owner=manager)
    member = UserFactory(username="mia")
    url = change_url(project)
    phase = Phase.objects.get(pk=project.current_phase_id)
    data = browser_form(pm.get(url), "project_form")
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-user": str(member.pk),
            "memberships-1-role": Role.CONTRIBUTOR,
        }
    )
    tasks = _tasks_formset(data, phase.tasks.first().pk)
    n = int(data[f"{tasks}-TOTAL_FORMS"])
    data.update(
        {
            f"{tasks}-TOTAL_FORMS": str(n + 1),
            f"{tasks}-{n}-title": "Interview the support team",
            f"{tasks}-{n}-assignee": str(member.pk),
            f"{tasks}-{n}-status": TaskStatus.IN_PROGRESS,
            f"{tasks}-{n}-priority": "high",
            f"{tasks}-{n}-required": "on",
        }
    )

    response = pm.post(url, data)

    assert response.status_code == 302, response.content.decode()
    assert project.memberships.get(user=member).role == Role.CONTRIBUTOR
    task = phase.tasks.get(title="Interview the support team")
    assert (task.assignee, task.status) == (member, TaskStatus.IN_PROGRESS)
    assert task.due_date == phase.due_date


def test_assignee_outside_the_project_is_refused(pm, manager):
    project = make_project(owner=manager)
    outsider = UserFactory(username="otto")
    task = Phase.objects.get(pk=project.current_phase_id).tasks.first()
    url = change_url(project)
    data = browser_form(pm.get(url), "project_form")
    data[f"{inline_prefix(data, 'tasks', task.pk)}-assignee"] = str(outsider.pk)

    page = pm.post(url, data, follow=True).content.decode()

    assert "otto is not a member of the project" in page
    task.refresh_from_db()
    assert task.assignee is None


def test_owner_stays_a_manager(pm, manager):
    project = make_project(owner=manager)
    ownership = project.memberships.get(user=manager)
    url = change_url(project)
    data = browser_form(pm.get(url), "project_form")
    assert f"{inline_prefix(data, 'memberships', ownership.pk)}-user" not in data
    data[f"{inline_prefix(data, 'memberships', ownership.pk)}-role"] = Role.VIEWER

    page = pm.post(url, data, follow=True).content.decode()

    assert "the project&#x27;s owner is always a manager" in page
    ownership.refresh_from_db()
    assert ownership.role == Role.MANAGER


def test_members_are_removed_through_the_service_but_never_the_owner(pm, manager):
    project = make_project(owner=manager)
    member = services.membership_set(project=project, user=UserFactory(), role=Role.VIEWER)
    ownership = project.memberships.get(user=manager)
    url = change_url(project)

    data = browser_form(pm.get(url), "project_form")
    data[f"{inline_prefix(data, 'memberships', ownership.pk)}-DELETE"] = "on"
    page = pm.post(url, data, follow=True).content.decode()
    assert "the project&#x27;s owner cannot be removed" in page
    assert project.memberships.count() == 2

    data = browser_form(pm.get(url), "project_form")
    data[f"{inline_prefix(data, 'memberships', member.pk)}-DELETE"] = "on"
    assert pm.post(url, data).status_code == 302
    assert list(project.memberships.values_list("user", flat=True)) == [manager.pk]


def test_outcome_evidence_is_saved_through_the_service(pm, manager):
    project = make_project(owner=manager)
    outcome = Outcome.objects.get(phase_id=project.current_phase_id)
    url = change_url(outcome)
    data = browser_form(pm.get(url), "outcome_form")
    data["evidence_url"] = "https://docs.example.com/design"

    assert pm.post(url, data).status_code == 302
    outcome.refresh_from_db()
    assert outcome.evidence_url == "https://docs.example.com/design"
    assert outcome.review_status == ReviewStatus.PENDING


# --- Lifecycle actions ------------------------------------------------------------------


def test_advance_moves_a_project_whose_gate_holds(pm, manager):
    project = make_project(owner=manager)
    complete_gate(project, manager)

    response = run_action(pm, PROJECTS, "advance", [project])
    page = pm.get(response["Location"]).content.decode()

    project = fresh(project)
    assert project.current_phase.name == "Experimentation"
    forward = project.transitions.get(kind=TransitionKind.FORWARD)
    assert forward.by == manager
    assert forward.from_phase.name == "Ideation and planning"
    assert "moved from Ideation and planning to Experimentation" in page


def test_advance_refused_lists_every_unmet_criterion_and_moves_nothing(pm, manager):
    ready = make_project(name="Ready", owner=manager)
    complete_gate(ready, manager)
    blocked = make_project(name="Blocked", owner=manager)
    unmet = phase_gate(phase=Phase.objects.get(pk=blocked.current_phase_id)).unmet
    assert len(unmet) == 4

    response = run_action(pm, PROJECTS, "advance", [ready, blocked])
    page = pm.get(response["Location"]).content.decode()

    for criterion in unmet:
        assert f"<br>&ndash; {escape(criterion.message)}" in page
    assert "“Blocked”: Ideation and planning cannot move on to Experimentation yet" in page
    assert fresh(blocked).current_phase.name == "Ideation and planning"
    assert not blocked.transitions.filter(kind=TransitionKind.FORWARD).exists()
    assert fresh(ready).current_phase.name == "Experimentation"


def test_advance_from_the_last_phase_is_refused_with_the_service_message(pm, manager):
    project = make_project(owner=manager)
    for _ in range(3):
        complete_gate(fresh(project), manager)
        services.phase_advance(project=project, by=manager)

    response = run_action(pm, PROJECTS, "advance", [project])
    page = pm.get(response["Location"]).content.decode()

    assert "is the last phase of" in page
    assert fresh(project).current_phase.name == "Productionization"


def _in_experimentation(manager) -> Project:
    project = make_project(name="Vision", owner=manager)
    complete_gate(project, manager)
    services.phase_advance(project=project, by=manager)
    return fresh(project)


def test_move_back_asks_for_target_and_reason_then_moves(pm, manager):
    project = _in_experimentation(manager)
    ideation = project.phases.get(name="Ideation and planning")

    page = run_action(pm, PROJECTS, "move_back", [project])
    assert page.status_code == 200
    assert page.templates[0].name == "admin/phases/action_form.html"
    form = page.context["form"]
    assert [label for _, label in form.fields[f"to_{project.pk}"].choices] == [
        "Ideation and planning"
    ]

    response = run_action(
        pm,
        PROJECTS,
        "move_back",
        [project],
        post="yes",
        **{f"to_{project.pk}": ideation.pk, "reason": "Experiments show ML is not viable."},
    )

    assert "moved back from Experimentation to Ideation and planning" in response.content.decode()
    project = fresh(project)
    assert project.current_phase == ideation
    back = project.transitions.get(kind=TransitionKind.BACK)
    assert (back.by, back.reason) == (manager, "Experiments show ML is not viable.")
    assert ideation.outcomes.get().review_status == ReviewStatus.PENDING


def test_move_back_without_a_reason_is_refused_and_changes_nothing(pm, manager):
    project = _in_experimentation(manager)
    ideation = project.phases.get(name="Ideation and planning")

    response = run_action(
        pm,
        PROJECTS,
        "move_back",
        [project],
        post="yes",
        **{f"to_{project.pk}": ideation.pk, "reason": "   "},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert fresh(project).current_phase.name == "Experimentation"
    assert not project.transitions.filter(kind=TransitionKind.BACK).exists()


def test_move_back_from_the_first_phase_says_there_is_nowhere_to_go(pm, manager):
    project = make_project(name="New", owner=manager)

    response = run_action(pm, PROJECTS, "move_back", [project])
    page = pm.get(response["Location"]).content.decode()

    assert "“New” has no earlier phase it may move back to from Ideation and planning." in page
    assert project.transitions.count() == 1


def test_recompute_health_calls_the_service_and_shows_reasons(pm, manager):
    late = make_project(
        name="Late", owner=manager, start_date=timezone.localdate() - dt.timedelta(days=60)
    )
    assert late.health == Health.GREEN

    response = run_action(pm, PROJECTS, "refresh_health", [late])
    page = pm.get(response["Location"]).content.decode()

    late = fresh(late)
    assert late.health == Health.RED
    assert late.health_reasons
    assert "Health recomputed for 1 project(s); 1 changed." in page
    assert escape(late.health_reasons[0]) in page


# --- Outcome review ---------------------------------------------------------------------


def _first_outcome(manager) -> Outcome:
    project = make_project(owner=manager)
    return Outcome.objects.get(phase_id=project.current_phase_id)


def test_accept_outcome(pm, manager):
    outcome = _first_outcome(manager)

    response = run_action(pm, OUTCOMES, "accept", [outcome])
    page = pm.get(response["Location"]).content.decode()

    outcome.refresh_from_db()
    assert (outcome.review_status, outcome.reviewer) == (ReviewStatus.ACCEPTED, manager)
    assert "is accepted." in page


def test_accept_refused_shows_the_service_message(pm, manager):
    outcome = _first_outcome(manager)
    services.outcome_accept(outcome=outcome, by=manager)

    response = run_action(pm, OUTCOMES, "accept", [outcome])
    page = pm.get(response["Location"]).content.decode()

    assert "only a pending or submitted outcome can be accepted" in page


def test_reject_outcome_requires_a_note(pm, manager):
    outcome = _first_outcome(manager)

    page = run_action(pm, OUTCOMES, "reject", [outcome])
    assert page.status_code == 200
    assert escape(outcome.name) in page.content.decode()

    refused = run_action(pm, OUTCOMES, "reject", [outcome], post="yes", note="")
    assert refused.context["form"].errors["note"] == ["This field is required."]
    outcome.refresh_from_db()
    assert outcome.review_status == ReviewStatus.PENDING

    response = run_action(
        pm, OUTCOMES, "reject", [outcome], post="yes", note="The doc has no success metric."
    )

    assert "is rejected." in response.content.decode()
    outcome.refresh_from_db()
    assert outcome.review_status == ReviewStatus.REJECTED
    assert (outcome.reviewer, outcome.review_note) == (manager, "The doc has no success metric.")


def test_outcome_changelist_filters_by_review_status_and_phase(pm, manager):
    accepted = _first_outcome(manager)
    services.outcome_accept(outcome=accepted, by=manager)
    _first_outcome(manager)

    response = pm.get(OUTCOMES, {"review_status": "accepted", "phase": "Ideation and planning"})

    assert list(response.context["cl"].result_list) == [accepted]


# --- Transition history -----------------------------------------------------------------


def test_transition_history_is_read_only(pm, manager):
    project = make_project(owner=manager)
    transition = project.transitions.get()
    url = reverse("admin:phases_transition_change", args=[transition.pk])

    assert pm.get(url).status_code == 200
    assert pm.post(url, {"reason": "rewritten"}).status_code == 403
    assert pm.post(reverse("admin:phases_transition_add"), {}).status_code == 403
    delete = reverse("admin:phases_transition_delete", args=[transition.pk])
    assert pm.post(delete, {"post": "yes"}).status_code == 403
    assert (
        "delete_selected"
        not in pm.get(reverse("admin:phases_transition_changelist")).content.decode()
    )

    transition.refresh_from_db()
    assert transition.reason == ""
    assert Transition.objects.count() == 1


# --- Lifecycle templates ----------------------------------------------------------------


def test_builtin_lifecycle_can_be_edited_but_not_deleted(pm):
    builtin = lifecycle()
    url = change_url(builtin)
    data = browser_form(pm.get(url), "lifecycletemplate_form")
    data["description"] = "Edited by a manager."
    first = builtin.phase_templates.get(order=1)
    data[f"{inline_prefix(data, 'phase_templates', first.pk)}-expected_days"] = "28"
    task = first.tasks.get(order=3)
    data[f"{inline_prefix(data, 'tasks', task.pk)}-title"] = "Agree on the success metric"

    assert pm.post(url, data).status_code == 302
    builtin.refresh_from_db()
    first.refresh_from_db()
    task.refresh_from_db()
    assert builtin.description == "Edited by a manager."
    assert first.expected_days == 28
    assert task.title == "Agree on the success metric"
    assert builtin.phase_templates.count() == 4

    delete = reverse("admin:phases_lifecycletemplate_delete", args=[builtin.pk])
    assert pm.post(delete, {"post": "yes"}).status_code == 403
    assert LifecycleTemplate.objects.filter(pk=builtin.pk).exists()


def test_custom_lifecycle_can_be_deleted(pm):
    custom = LifecycleTemplate.objects.create(name="Research spike", slug="research-spike")
    delete = reverse("admin:phases_lifecycletemplate_delete", args=[custom.pk])
    assert pm.post(delete, {"post": "yes"}).status_code == 302
    assert not LifecycleTemplate.objects.filter(pk=custom.pk).exists()

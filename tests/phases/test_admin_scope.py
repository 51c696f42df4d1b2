"""The admin for managers: a manager with the staff flag sees and edits exactly the projects
they manage (lists, change pages, outcomes, history, people search); the superuser sees all;
the staff flag alone shows nothing."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from phases import services
from phases.admin import LifecycleTemplateAdmin
from phases.admin.common import ManagedProjectsMixin, SuperuserOnlyMixin
from phases.choices import ReviewStatus, Role
from phases.models import Outcome, Project
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:phases_project_changelist")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world():
    """A manager of five projects (owner of two, manager by role of three), a contributor
    on a sixth, and two projects of someone else."""
    pm = UserFactory(username="morgan", first_name="Morgan", last_name="Hayes", is_staff=True)
    boss = UserFactory(username="priya", first_name="Priya", last_name="Raman")
    mine = [make_project(owner=pm, name=f"Mine {n}") for n in range(2)]
    for n in range(3):
        project = make_project(owner=boss, name=f"Managed {n}")
        services.membership_set(project=project, user=pm, role=Role.MANAGER)
        mine.append(project)
    helping = make_project(owner=boss, name="Helping")
    services.membership_set(project=helping, user=pm, role=Role.CONTRIBUTOR)
    others = [make_project(owner=boss, name=f"Other {n}") for n in range(2)]
    return {"pm": pm, "mine": mine, "not_mine": [helping, *others]}


def listed(client, url=CHANGELIST) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    return set(response.context["cl"].result_list.values_list("name", flat=True))


def test_a_manager_of_five_projects_sees_exactly_those_five(world):
    client = client_for(world["pm"])
    assert client.get(reverse("admin:index")).status_code == 200
    assert listed(client) == {p.name for p in world["mine"]}


def test_the_superuser_sees_every_project(world):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert listed(client_for(root)) == set(Project.objects.values_list("name", flat=True))


def test_staff_without_a_managed_project_sees_nothing_of_the_projects():
    make_project(name="Someone's")
    staff = UserFactory(username="sam", is_staff=True)
    client = client_for(staff)
    assert client.get(CHANGELIST).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "Projects" not in index.content.decode()


def test_a_manager_opens_and_edits_their_project_and_no_other(world):
    client = client_for(world["pm"])
    own = world["mine"][3]
    page = client.get(reverse("admin:phases_project_change", args=[own.pk]))
    assert page.status_code == 200
    assert 'name="description"' in page.content.decode()
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if key in {"name", "description", "success_metric", "success_direction"}
    }
    for other in world["not_mine"]:
        response = client.get(reverse("admin:phases_project_change", args=[other.pk]))
        # Django's answer for an object outside the queryset: back to the index, no page.
        assert response.status_code == 302, other
        posted = client.post(
            reverse("admin:phases_project_change", args=[other.pk]),
            {**data, "description": "Taken over"},
        )
        assert posted.status_code == 302
        other.refresh_from_db()
        assert other.description == ""


def test_a_manager_cannot_delete_a_project(world):
    client = client_for(world["pm"])
    own = world["mine"][0]
    assert client.get(reverse("admin:phases_project_delete", args=[own.pk])).status_code == 403


def test_outcomes_and_history_are_scoped_to_the_managed_projects(world):
    client = client_for(world["pm"])
    outcomes = client.get(reverse("admin:phases_outcome_changelist"))
    shown = {o.phase.project_id for o in outcomes.context["cl"].result_list}
    assert shown == {p.pk for p in world["mine"]}
    history = client.get(reverse("admin:phases_transition_changelist"))
    assert {t.project_id for t in history.context["cl"].result_list} == shown
    foreign = Outcome.objects.filter(phase__project=world["not_mine"][1]).first()
    response = client.get(reverse("admin:phases_outcome_change", args=[foreign.pk]))
    assert response.status_code == 302


def test_a_manager_reviews_outcomes_of_their_projects_in_the_admin(world):
    client = client_for(world["pm"])
    own = Outcome.objects.filter(phase__project=world["mine"][0]).first()
    foreign = Outcome.objects.filter(phase__project=world["not_mine"][0]).first()
    client.post(
        reverse("admin:phases_outcome_changelist"),
        {"action": "accept", "_selected_action": [own.pk, foreign.pk]},
    )
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.review_status == ReviewStatus.ACCEPTED
    assert foreign.review_status == ReviewStatus.PENDING


def test_people_search_names_people_and_offers_only_members_as_assignees(world):
    client = client_for(world["pm"])
    own = world["mine"][2]
    url = reverse("admin:phases_project_people")
    members = client.get(url, {"project": own.pk, "term": "pri"}).json()
    assert [row["text"] for row in members["results"]] == ["Priya Raman (priya)"]
    UserFactory(username="olga", first_name="Olga", last_name="Petrova")
    assert client.get(url, {"project": own.pk, "term": "olga"}).json()["results"] == []
    anyone = client.get(url, {"term": "olga"}).json()["results"]
    assert [row["text"] for row in anyone] == ["Olga Petrova (olga)"]
    assert client.get(url, {"project": world["not_mine"][1].pk}).status_code == 403
    outsider = client_for(UserFactory(username="sam", is_staff=True))
    assert outsider.get(url, {"term": "pri"}).status_code == 403


def test_change_page_names_people_and_folds_the_other_phases(world):
    client = client_for(world["pm"])
    project = world["mine"][3]
    html = client.get(reverse("admin:phases_project_change", args=[project.pk])).content.decode()
    assert "Priya Raman (priya)" in html
    assert "other phases" in html.lower()
    assert "collapse" in html


def test_change_page_queries_do_not_grow_with_members_and_tasks(world):
    """Pinned: the change page of a project reads each inline once, and every person on
    it in one query, however many members and tasks it has."""
    client = client_for(world["pm"])
    small, big = world["mine"][0], world["mine"][1]
    first = small.current_phase.tasks.first()
    services.task_update(task=first, by=small.owner, assignee=small.owner)
    for n in range(6):
        user = UserFactory(username=f"member{n}", first_name="Member", last_name=str(n))
        services.membership_set(project=big, user=user, role=Role.CONTRIBUTOR)
        task = services.task_create(phase=big.current_phase, by=big.owner, title=f"Extra {n}")
        services.task_update(task=task, by=big.owner, assignee=user)
    counts = []
    for project in (small, big):
        url = reverse("admin:phases_project_change", args=[project.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 20


# --- Every admin of the site follows a rule ---------------------------------------------


def changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_every_admin_is_scoped_to_projects_or_the_superusers():
    """Deny unless a rule allows: an admin added without one fails here. Lifecycle
    templates are the one exception: no project owns them, and managers read them."""
    for model, model_admin in admin.site._registry.items():
        ruled = isinstance(model_admin, ManagedProjectsMixin | SuperuserOnlyMixin)
        assert ruled or isinstance(model_admin, LifecycleTemplateAdmin), model


def test_someone_without_the_staff_flag_gets_no_admin_page(world):
    member = UserFactory(username="viewer")
    services.membership_set(project=world["mine"][0], user=member, role=Role.MANAGER)
    client = client_for(member)
    for url in [reverse("admin:index"), *changelists()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_staff_without_a_managed_project_opens_no_list():
    client = client_for(UserFactory(username="sam", is_staff=True))
    for url in changelists():
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("admin:index")).context["app_list"] == []


def test_people_sign_in_records_and_schedules_are_the_superusers(world):
    manager = client_for(world["pm"])
    root = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    apps = {app["app_label"] for app in manager.get(reverse("admin:index")).context["app_list"]}
    assert apps == {"phases", "experiments", "registry", "monitoring", "api"}
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, SuperuserOnlyMixin):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert manager.get(url).status_code == 403, url
            assert root.get(url).status_code == 200, url
    assert manager.get(reverse("admin:auth_user_change", args=[world["pm"].pk])).status_code == 403


def test_a_manager_counts_only_their_projects_on_the_lifecycles(world):
    page = client_for(world["pm"]).get(reverse("admin:phases_lifecycletemplate_changelist"))
    counts = {row.slug: row.project_count for row in page.context["cl"].result_list}
    assert counts["ml-development-phases"] == len(world["mine"])

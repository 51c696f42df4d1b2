"""The project resource carries what the status page shows: the success metric's label for
people (the key stays what runs log), the first plan's finish and the completion."""

import pytest
from django.urls import reverse

from phases.choices import Role

pytestmark = pytest.mark.django_db


def test_a_manager_labels_the_metric_and_everyone_reads_it(world):
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    changed = world.client(Role.MANAGER).patch(
        url, {"success_metric_label": "  Churners ranked first "}, format="json"
    )
    assert changed.status_code == 200, changed.content
    body = world.client(Role.VIEWER).get(url).json()
    assert body["success_metric"] == "val_auc"
    assert body["success_metric_label"] == "Churners ranked first"
    assert body["completed_at"] is None
    assert (
        body["planned_finish"] == world.project.phases.order_by("order").last().due_date.isoformat()
    )
    refused = world.client(Role.VIEWER).patch(url, {"success_metric_label": "x"}, format="json")
    assert refused.status_code == 403


def test_the_planned_finish_and_completion_are_read_only(world):
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    response = world.client(Role.MANAGER).patch(
        url, {"completed_at": "2020-01-01T00:00:00Z", "planned_finish": "2020-01-01"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["completed_at"] is None
    assert response.json()["planned_finish"] != "2020-01-01"


@pytest.mark.parametrize("around", ["\u0085", " ", "\u3000"])
def test_a_string_longer_than_its_limit_as_sent_is_refused_even_if_trimming_would_fit(
    world, around
):
    """The schema's maxLength counts what the client sends; DRF counted after trimming."""
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    response = world.client(Role.MANAGER).patch(
        url, {"success_metric_label": around + "*" * 120}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "no more than 120 characters" in str(response.json()["fields"]["success_metric_label"])
    fits = world.client(Role.MANAGER).patch(
        url, {"success_metric_label": around + "*" * 119}, format="json"
    )
    assert fits.status_code == 200 and fits.json()["success_metric_label"] == "*" * 119


@pytest.mark.parametrize(
    "body",
    [
        {"success_metric_label": "0" * 120, "success_metric": ""},
        {"success_metric_label": "0" * 120},
        {"success_metric": ""},
    ],
)
def test_any_label_and_metric_edit_answers_without_a_server_error(world, body):
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    response = world.client(Role.MANAGER).patch(url, body, format="json")
    assert response.status_code in (200, 400), response.content


@pytest.mark.django_db
def test_an_update_of_a_project_deleted_meanwhile_is_not_found_and_inserts_nothing():
    """A PATCH racing a DELETE: the stale copy in memory is not saved back as a new row."""
    from mlprojects.exceptions import DomainError
    from phases import services
    from phases.models import Project
    from tests.factories import make_project

    project = make_project(name="Gone soon")
    stale = Project.objects.get(pk=project.pk)
    Project.objects.filter(pk=project.pk).delete()
    with pytest.raises(DomainError) as raised:
        services.project_update(project=stale, by=None, name="Back from the dead")
    assert raised.value.code == "not_found"
    assert not Project.objects.filter(pk=project.pk).exists()

"""Completing a project through ``/api/v1/``: the same service and gate as the status page
and the admin, refused with the unmet criteria until the last phase's gate holds."""

import pytest
from django.urls import reverse

from phases.choices import Role
from phases.models import Project
from tests.api.test_permissions import complete_current_phase, enter_second_phase, reach_the_end

pytestmark = pytest.mark.django_db


def complete_url(world) -> str:
    return reverse("v1:project-complete", kwargs={"slug": world.project.slug})


def test_a_manager_completes_the_project_once_the_last_gate_holds(world):
    reach_the_end(world)
    response = world.client(Role.MANAGER).post(
        complete_url(world), {"reason": "  in production  "}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(pk=world.project.pk)
    assert body["kind"] == "complete"
    assert body["reason"] == "in production"
    assert body["from_phase"]["id"] == body["to_phase"]["id"] == project.current_phase_id
    assert project.completed_at is not None

    again = world.client(Role.MANAGER).post(complete_url(world), {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "project_completed")


def test_an_unmet_gate_is_refused_naming_each_criterion(world):
    while True:
        project = Project.objects.get(pk=world.project.pk)
        if project.current_phase.order == project.phases.order_by("order").last().order:
            break
        enter_second_phase(world)
    response = world.client(Role.MANAGER).post(complete_url(world), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "gate_not_met"
    assert "cannot complete the project" in body["message"]
    assert body["details"] and all(not c["met"] and c["message"] for c in body["details"])
    assert all(c["message"] in body["message"] for c in body["details"])
    assert Project.objects.get(pk=world.project.pk).completed_at is None


def test_before_the_last_phase_the_answer_names_the_phase_to_reach(world):
    complete_current_phase(world)
    response = world.client(Role.MANAGER).post(complete_url(world), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_last_phase")
    assert "advance to" in response.json()["message"]
    assert Project.objects.get(pk=world.project.pk).completed_at is None


def test_a_contributor_cannot_complete_and_a_bad_reason_is_a_400(world):
    reach_the_end(world)
    refused = world.client(Role.CONTRIBUTOR).post(complete_url(world), {}, format="json")
    assert refused.status_code == 403
    bad = world.client(Role.MANAGER).post(
        complete_url(world), {"reason": "x" * 2001}, format="json"
    )
    assert bad.status_code == 400
    assert "reason" in bad.json()["fields"]
    assert Project.objects.get(pk=world.project.pk).completed_at is None

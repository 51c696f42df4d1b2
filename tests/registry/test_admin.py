"""The registry in the admin: read-only lists, the production alias setting, and the manager's
action that offers a version's run as the evidence of an outcome."""

import pytest
from django.urls import reverse

from experiments import services as tracking
from experiments.models import RunEvidence
from registry import services
from registry.models import ModelVersion, RegistrySettings
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_pages_list_and_nothing_is_editable(client, staff):
    project = make_project(owner=staff, name="Churn")
    experiment = tracking.experiment_create(project=project, name="e", by=staff)
    run = tracking.run_create(experiment=experiment, by=staff)
    registered = services.registered_model_create(project=project, name="churn", by=staff)
    version = services.model_version_create(
        registered_model=registered,
        by=staff,
        source=run.artifact_uri,
        storage_location=run.artifact_uri,
        run=run,
    )
    services.alias_set(version=version, alias="champion", by=staff)
    for name in ("registeredmodel", "modelversion", "loggedmodel", "deploymentevent"):
        response = client.get(reverse(f"admin:registry_{name}_changelist"))
        assert response.status_code == 200, name
    assert client.get(reverse("admin:registry_modelversion_add")).status_code == 403

    outcome = project.phases.get(order=2).outcomes.first()
    url = reverse("admin:registry_modelversion_changelist")
    confirm = client.post(url, {"action": "offer_as_evidence", "_selected_action": [version.pk]})
    assert b"Link as evidence" in confirm.content
    client.post(
        url,
        {
            "action": "offer_as_evidence",
            "_selected_action": [version.pk],
            "post": "yes",
            "outcome": outcome.pk,
            "note": "",
        },
    )
    assert RunEvidence.objects.get().run == run
    assert ModelVersion.objects.count() == 1


def test_the_production_alias_is_set_through_the_service(client, staff):
    project = make_project(owner=staff, name="Churn")
    add = reverse("admin:registry_registrysettings_add")
    refused = client.post(add, {"project": project.pk, "production_alias": "latest"})
    assert b"reserved" in refused.content
    client.post(add, {"project": project.pk, "production_alias": "prod"})
    assert RegistrySettings.objects.get(project=project).production_alias == "prod"

"""The registry admins for managers: as the manager of project A (only a contributor on B),
every list holds A's rows, B's neither open nor change, a production alias is set for A
only, and offering versions as evidence acts on A's versions and offers A's outcomes."""

import pytest

from experiments import services as tracking
from experiments.models import RunEvidence
from registry import services
from registry.models import (
    DeploymentEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RegistrySettings,
)
from tests.admin_scope import build_world, check_add_refused, check_scoped, client_for, url

pytestmark = pytest.mark.django_db


def fill(project, *, by) -> ModelVersion:
    """A run's logged model, registered as a version at the production alias (a deployment
    event), and the project's registry setting."""
    experiment = tracking.experiment_create(project=project, name="e", by=by)
    run = tracking.run_create(experiment=experiment, by=by)
    logged = services.logged_model_create(
        experiment=experiment, by=by, name="m", source_run=run, params=[("depth", "3")]
    )
    registered = services.registered_model_create(project=project, name="churn", by=by)
    version = services.model_version_create(
        registered_model=registered,
        by=by,
        source=run.artifact_uri,
        storage_location=run.artifact_uri,
        run=run,
        logged_model=logged,
    )
    services.production_alias_update(project=project, alias="champion", by=by)
    services.alias_set(version=version, alias="champion", by=by)
    return version


@pytest.fixture
def world():
    world = build_world()
    world.version_a = fill(world.a, by=world.manager)
    world.version_b = fill(world.b, by=world.b.owner)
    return world


@pytest.mark.parametrize(
    "model", [RegistrySettings, LoggedModel, RegisteredModel, ModelVersion, DeploymentEvent]
)
def test_a_manager_lists_and_opens_only_the_rows_of_their_projects(world, model):
    check_scoped(world, model)


def test_a_registered_model_page_shows_its_versions_to_the_manager(world):
    registered = world.version_a.registered_model
    page = client_for(world.manager).get(url(RegisteredModel, "change", registered.pk))
    assert page.status_code == 200
    assert "champion" in page.content.decode()


def test_a_production_alias_is_set_for_a_managed_project_only(world):
    RegistrySettings.objects.filter(project=world.a).delete()
    data = {"project": world.a.pk, "production_alias": "prod"}
    check_add_refused(world, RegistrySettings, data, foreign={"project": world.b.pk})
    assert RegistrySettings.objects.get(project=world.a).production_alias == "prod"
    assert RegistrySettings.objects.get(project=world.b).production_alias == "champion"


def test_offering_as_evidence_acts_on_the_managed_versions_and_offers_their_outcomes(world):
    manager = client_for(world.manager)
    changelist = url(ModelVersion, "changelist")
    both = [world.version_a.pk, world.version_b.pk]
    confirm = manager.post(changelist, {"action": "offer_as_evidence", "_selected_action": both})
    offered = set(confirm.context["form"].fields["outcome"].queryset)
    assert offered and {o.phase.project for o in offered} == {world.a}
    assert [v.pk for v in confirm.context["objects"]] == [world.version_a.pk]
    outcome_a = world.a.current_phase.outcomes.first()
    outcome_b = world.b.current_phase.outcomes.first()
    action = {"action": "offer_as_evidence", "_selected_action": both, "post": "yes", "note": ""}
    refused = manager.post(changelist, {**action, "outcome": outcome_b.pk})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    manager.post(changelist, {**action, "outcome": outcome_a.pk})
    assert [(e.run_id, e.outcome_id) for e in RunEvidence.objects.all()] == [
        (world.version_a.run_id, outcome_a.pk)
    ]

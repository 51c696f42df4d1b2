"""The registry's rules that both APIs ask, rather than each keeping a copy: which role a
change of the production alias needs, and where a new version's files are for a source of
the project. Each is called through ``/api/v1/`` and through the MLflow API on the same data,
and the two must agree."""

import pytest
from django.urls import reverse

from phases.choices import Role
from phases.roles import Action
from registry import services
from registry.choices import Stage
from registry.models import DeploymentEvent, ModelAlias, ModelVersion
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db

# A production alias of the project's own: the rule reads it, never the default "champion".
LIVE = "live"


def register(model, run, path: str) -> ModelVersion:
    source = services.run_source(run, path)
    return services.model_version_create(
        registered_model=model,
        by=None,
        source=source.uri,
        storage_location=source.storage_location,
        run=run,
    )


@pytest.fixture
def registered(world):
    """The model ``churn`` with version 1, in a project whose production alias is ``live``."""
    manager = world.users[Role.MANAGER]
    services.production_alias_update(project=world.project, alias=LIVE, by=manager)
    model = services.registered_model_create(project=world.project, name="churn", by=manager)
    return model, register(model, world.run, "model")


def v1_set(world, caller, version, alias):
    url = reverse("v1:model-version-alias", args=[version.pk])
    return world.client(caller).post(url, {"alias": alias}, format="json")


def mlflow_set(world, caller, version, alias):
    body = {"name": "churn", "alias": alias, "version": str(version.version)}
    url = api("mlflow/registered-models/alias", project=world.project.slug)
    return send(world.client(caller), "POST", url, body)


def v1_remove(world, caller, version, alias):
    url = reverse("v1:registered-model-remove-alias", args=[version.registered_model_id])
    return world.client(caller).post(url, {"alias": alias}, format="json")


def mlflow_remove(world, caller, version, alias):
    url = api("mlflow/registered-models/alias", project=world.project.slug)
    return send(world.client(caller), "DELETE", url, {"name": "churn", "alias": alias})


def v1_delete(world, caller, version):
    return world.client(caller).delete(reverse("v1:model-version-detail", args=[version.pk]))


def mlflow_delete(world, caller, version):
    url = api("mlflow/model-versions/delete", project=world.project.slug)
    body = {"name": "churn", "version": str(version.version)}
    return send(world.client(caller), "DELETE", url, body)


def refused_as_too_low(response) -> bool:
    """A 403 in either API's body: MLflow's ``PERMISSION_DENIED`` or v1's message."""
    if response.status_code != 403:
        return False
    body = response.json()
    if "error_code" in body:
        return error(response) == (403, "PERMISSION_DENIED")
    return "manager" in body["message"]


def test_the_rule_itself_reads_the_projects_production_alias():
    assert services.alias_action(LIVE, production_alias=LIVE) == Action.MANAGE_MODELS
    assert services.alias_action("champion", production_alias=LIVE) == Action.LOG_DATA
    assert services.stage_action(Stage.PRODUCTION) == Action.MANAGE_MODELS
    assert services.stage_action(Stage.STAGING) == Action.LOG_DATA


@pytest.mark.parametrize(
    ("set_alias", "remove_alias"), [(v1_set, v1_remove), (mlflow_set, mlflow_remove)]
)
def test_both_apis_keep_the_production_alias_from_a_contributor(
    world, registered, set_alias, remove_alias
):
    _, version = registered
    contributor = Role.CONTRIBUTOR

    assert refused_as_too_low(set_alias(world, contributor, version, LIVE))
    assert not DeploymentEvent.objects.exists()
    # "champion" is only an alias in this project, which a contributor may move.
    assert set_alias(world, contributor, version, "champion").status_code == 200
    assert remove_alias(world, contributor, version, "champion").status_code == 200

    assert set_alias(world, Role.MANAGER, version, LIVE).status_code == 200
    assert refused_as_too_low(remove_alias(world, contributor, version, LIVE))
    assert ModelAlias.objects.filter(alias=LIVE).exists()
    assert remove_alias(world, Role.MANAGER, version, LIVE).status_code == 200
    assert DeploymentEvent.objects.count() == 2  # the promotion and the withdrawal


@pytest.mark.parametrize("delete", [v1_delete, mlflow_delete])
def test_both_apis_leave_deleting_the_deployed_version_to_a_manager(world, registered, delete):
    model, deployed = registered
    manager = world.users[Role.MANAGER]
    services.alias_set(version=deployed, alias=LIVE, by=manager)
    candidate = register(model, world.run, "other")
    services.alias_set(version=candidate, alias="champion", by=manager)

    assert refused_as_too_low(delete(world, Role.CONTRIBUTOR, deployed))
    assert delete(world, Role.CONTRIBUTOR, candidate).status_code in (200, 204)
    assert delete(world, Role.MANAGER, deployed).status_code in (200, 204)
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("kind", ["run", "logged model"])
def test_both_apis_store_a_version_where_the_source_rule_says(world, registered, kind):
    """``run_source`` and ``logged_model_source``: v1 builds the source from the run or the
    model, the MLflow API parses the one the client sends; the files are found alike."""
    model, _ = registered
    if kind == "run":
        expected = services.run_source(world.run, "gbm/model")
        assert expected.storage_location == f"{world.run.artifact_uri}/gbm/model"
        v1_body = {"run": world.run.run_id, "artifact_path": "gbm/model"}
    else:
        logged = services.logged_model_create(
            experiment=world.experiment, by=None, name="gbm", source_run=world.run
        )
        expected = services.logged_model_source(logged)
        assert expected.storage_location == logged.artifact_location
        v1_body = {"logged_model": logged.model_id}
    contributor = world.client(Role.CONTRIBUTOR)

    v1 = contributor.post(
        reverse("v1:model-version-list"), {"registered_model": model.pk, **v1_body}, format="json"
    )
    url = api("mlflow/model-versions/create", project=world.project.slug)
    mlflow = send(contributor, "POST", url, {"name": "churn", "source": expected.uri})

    assert v1.status_code == 201, v1.json()
    assert (v1.json()["source"], v1.json()["storage_location"]) == expected
    assert mlflow.status_code == 200, mlflow.json()
    stored = ModelVersion.objects.get(version=mlflow.json()["model_version"]["version"])
    assert (stored.source, stored.storage_location) == expected

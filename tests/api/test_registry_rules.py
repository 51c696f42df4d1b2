"""The registry's rules that both APIs ask, rather than each keeping a copy: where a new
version's files are for a source of the project. Each is called through ``/api/v1/`` and
through the MLflow API on the same data, and the two must agree."""

import pytest
from django.urls import reverse

from phases.choices import Role
from registry import services
from registry.models import ModelVersion
from tests.experiments.helpers import api, send

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

"""MLflow's id forms, kept once (``experiments.validation.RUN_ID``,
``registry.validation.MODEL_ID``): what the schema promises, what ``/api/v1/`` takes and
what the MLflow API looks up all follow them, so an id one surface takes is one every surface
takes."""

import re
import uuid

import pytest
from django.urls import reverse

from experiments import validation
from phases.choices import Role
from registry import services
from registry import validation as registry_validation
from registry.models import new_model_id
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db

HEX = uuid.uuid4().hex
RUN_IDS = [HEX, HEX.upper(), HEX[:-1], f"{HEX}0", f"g{HEX[1:]}", f"m-{HEX}", ""]
MODEL_IDS = [f"m-{HEX}", f"m-{HEX.upper()}", f"m-{HEX[:-1]}", HEX, f"M-{HEX}", "m-"]


def schema_patterns(world) -> dict[str, str]:
    schema = world.client(Role.VIEWER).get(reverse("schema"), {"format": "json"}).json()
    create = schema["components"]["schemas"]["ModelVersionCreateRequest"]["properties"]
    compare = next(
        parameter
        for operation in schema["paths"].values()
        for call in operation.values()
        for parameter in call.get("parameters", [])
        if parameter["name"] == "runs"
    )
    return {
        "run": create["run"]["pattern"],
        "logged_model": create["logged_model"]["pattern"],
        "runs": compare["schema"]["pattern"],
    }


def test_the_ids_mlflow_makes_have_the_forms_kept_once(world):
    assert validation.is_run_id(world.run.run_id)
    assert registry_validation.is_model_id(new_model_id())


def test_the_schema_promises_the_same_id_forms(world):
    patterns = schema_patterns(world)
    for run_id in RUN_IDS:
        assert bool(re.fullmatch(patterns["run"], run_id)) == validation.is_run_id(run_id)
        assert bool(re.fullmatch(patterns["runs"], run_id)) == validation.is_run_id(run_id)
    for model_id in MODEL_IDS:
        expected = registry_validation.is_model_id(model_id)
        assert bool(re.fullmatch(patterns["logged_model"], model_id)) == expected
    assert re.fullmatch(patterns["runs"], f"{HEX},{world.run.run_id}")


@pytest.mark.parametrize("model_id", MODEL_IDS[1:])
def test_both_apis_refuse_a_model_id_of_another_form(world, model_id):
    manager = world.users[Role.MANAGER]
    model = services.registered_model_create(project=world.project, name="churn", by=manager)
    v1 = world.client(Role.MANAGER).post(
        reverse("v1:model-version-list"),
        {"registered_model": model.pk, "logged_model": model_id},
        format="json",
    )
    assert v1.status_code == 400
    assert list(v1.json()["fields"]) == ["logged_model"]
    url = api(f"mlflow/logged-models/{model_id}", project=world.project.slug)
    assert error(send(world.client(Role.MANAGER), "GET", url)) == (404, "RESOURCE_DOES_NOT_EXIST")

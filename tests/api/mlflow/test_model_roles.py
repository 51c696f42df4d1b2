"""Who may call what among the MLflow endpoints of logged models and the registry: every
endpoint, every kind of caller, each cell on fresh data.

A viewer reads; a contributor logs models, registers them and sets aliases; moving or
removing the project's production alias (``champion``), putting a version in the legacy
``Production`` stage, deleting the version at the production alias and deleting a registered
model are a manager's. The refusals follow from the caller, as for runs: 401 without
credentials, 404 for someone who is not a member, 403 for a member whose role is too low.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from api.mlflow import urls
from api.services import token_create
from experiments import services as tracking
from experiments.models import Experiment, Run
from phases import services as phase_services
from phases.choices import Role
from phases.roles import Action
from registry import services
from registry.models import LoggedModel, ModelVersion, RegisteredModel
from tests.api.conftest import ANONYMOUS, CALLERS, OUTSIDER, STAFF, World, bearer
from tests.api.mlflow.test_roles import ALLOWED as RUN_ALLOWED
from tests.api.mlflow.test_roles import RULES as RUN_RULES
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db


@dataclass
class Data:
    """In ``world.project``: an experiment and a run, a logged model of the run with one
    artifact on disk and a tag, and the registered model ``churn`` with version 1 (at the
    alias ``staging``) and version 2 (at the production alias ``champion``), both tagged."""

    experiment: Experiment
    run: Run
    model: LoggedModel
    registered: RegisteredModel
    v1: ModelVersion
    v2: ModelVersion


@dataclass(frozen=True)
class Rule:
    method: str
    route: str  # the URL pattern, as urls.py spells it
    action: Action
    body: Callable[[Data], dict]
    path: str = ""  # the URL to call, formatted with the data; the route when empty


def _mid(d: Data) -> str:
    return d.model.model_id


def _artifact(d: Data) -> str:
    return f"{d.experiment.pk}/models/{d.model.model_id}/artifacts/MLmodel"


RULES = {
    "runs/outputs": Rule(
        "POST",
        "mlflow/runs/outputs",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "models": [{"model_id": _mid(d), "step": 3}]},
    ),
    "logged-models create": Rule(
        "POST",
        "mlflow/logged-models",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.experiment.pk), "name": "another"},
    ),
    "logged-models/search": Rule(
        "POST",
        "mlflow/logged-models/search",
        Action.VIEW,
        lambda d: {"experiment_ids": [str(d.experiment.pk)]},
    ),
    "logged-models get": Rule(
        "GET",
        "mlflow/logged-models/<str:model_id>",
        Action.VIEW,
        lambda d: {},
        "mlflow/logged-models/{model_id}",
    ),
    "logged-models finalize": Rule(
        "PATCH",
        "mlflow/logged-models/<str:model_id>",
        Action.LOG_DATA,
        lambda d: {"model_id": _mid(d), "status": "LOGGED_MODEL_READY"},
        "mlflow/logged-models/{model_id}",
    ),
    "logged-models delete": Rule(
        "DELETE",
        "mlflow/logged-models/<str:model_id>",
        Action.LOG_DATA,
        lambda d: {"model_id": _mid(d)},
        "mlflow/logged-models/{model_id}",
    ),
    "logged-models set tags": Rule(
        "PATCH",
        "mlflow/logged-models/<str:model_id>/tags",
        Action.LOG_DATA,
        lambda d: {"tags": [{"key": "team", "value": "b"}]},
        "mlflow/logged-models/{model_id}/tags",
    ),
    "logged-models delete tag": Rule(
        "DELETE",
        "mlflow/logged-models/<str:model_id>/tags/<path:tag_key>",
        Action.LOG_DATA,
        lambda d: {},
        "mlflow/logged-models/{model_id}/tags/team",
    ),
    "logged-models params": Rule(
        "POST",
        "mlflow/logged-models/<str:model_id>/params",
        Action.LOG_DATA,
        lambda d: {"params": [{"key": "C", "value": "1"}]},
        "mlflow/logged-models/{model_id}/params",
    ),
    "logged-models artifacts": Rule(
        "GET",
        "mlflow/logged-models/<str:model_id>/artifacts/directories",
        Action.VIEW,
        lambda d: {},
        "mlflow/logged-models/{model_id}/artifacts/directories",
    ),
    "model artifact download": Rule(
        "GET",
        "mlflow-artifacts/artifacts/<path:artifact_path>",
        Action.VIEW,
        lambda d: {},
        "mlflow-artifacts/artifacts/{artifact}",
    ),
    "model artifact upload": Rule(
        "PUT",
        "mlflow-artifacts/artifacts/<path:artifact_path>",
        Action.LOG_DATA,
        lambda d: {},
        "mlflow-artifacts/artifacts/{artifact}",
    ),
    "model artifact delete": Rule(
        "DELETE",
        "mlflow-artifacts/artifacts/<path:artifact_path>",
        Action.LOG_DATA,
        lambda d: {},
        "mlflow-artifacts/artifacts/{artifact}",
    ),
    "registered-models/create": Rule(
        "POST", "mlflow/registered-models/create", Action.LOG_DATA, lambda d: {"name": "fresh"}
    ),
    "registered-models/get": Rule(
        "GET", "mlflow/registered-models/get", Action.VIEW, lambda d: {"name": "churn"}
    ),
    "registered-models/rename": Rule(
        "POST",
        "mlflow/registered-models/rename",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "new_name": "churn-2"},
    ),
    "registered-models/update": Rule(
        "PATCH",
        "mlflow/registered-models/update",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "description": "better"},
    ),
    "registered-models/delete": Rule(
        "DELETE",
        "mlflow/registered-models/delete",
        Action.MANAGE_MODELS,
        lambda d: {"name": "churn"},
    ),
    "registered-models/search": Rule(
        "GET", "mlflow/registered-models/search", Action.VIEW, lambda d: {}
    ),
    "registered-models/get-latest-versions GET": Rule(
        "GET",
        "mlflow/registered-models/get-latest-versions",
        Action.VIEW,
        lambda d: {"name": "churn"},
    ),
    "registered-models/get-latest-versions POST": Rule(
        "POST",
        "mlflow/registered-models/get-latest-versions",
        Action.VIEW,
        lambda d: {"name": "churn", "stages": ["None"]},
    ),
    "registered-models/set-tag": Rule(
        "POST",
        "mlflow/registered-models/set-tag",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "key": "k", "value": "v"},
    ),
    "registered-models/delete-tag": Rule(
        "DELETE",
        "mlflow/registered-models/delete-tag",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "key": "owner"},
    ),
    "alias get": Rule(
        "GET",
        "mlflow/registered-models/alias",
        Action.VIEW,
        lambda d: {"name": "churn", "alias": "champion"},
    ),
    "alias set": Rule(
        "POST",
        "mlflow/registered-models/alias",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "alias": "staging", "version": "2"},
    ),
    "alias set production": Rule(
        "POST",
        "mlflow/registered-models/alias",
        Action.MANAGE_MODELS,
        lambda d: {"name": "churn", "alias": "champion", "version": "1"},
    ),
    "alias delete": Rule(
        "DELETE",
        "mlflow/registered-models/alias",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "alias": "staging"},
    ),
    "alias delete production": Rule(
        "DELETE",
        "mlflow/registered-models/alias",
        Action.MANAGE_MODELS,
        lambda d: {"name": "churn", "alias": "champion"},
    ),
    "model-versions/create": Rule(
        "POST",
        "mlflow/model-versions/create",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "source": f"models:/{_mid(d)}"},
    ),
    "model-versions/get": Rule(
        "GET", "mlflow/model-versions/get", Action.VIEW, lambda d: {"name": "churn", "version": "1"}
    ),
    "model-versions/update": Rule(
        "PATCH",
        "mlflow/model-versions/update",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "version": "1", "description": "v1"},
    ),
    "model-versions/delete": Rule(
        "DELETE",
        "mlflow/model-versions/delete",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "version": "1"},
    ),
    "model-versions/delete at production": Rule(
        "DELETE",
        "mlflow/model-versions/delete",
        Action.MANAGE_MODELS,
        lambda d: {"name": "churn", "version": "2"},
    ),
    "model-versions/transition-stage": Rule(
        "POST",
        "mlflow/model-versions/transition-stage",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "version": "1", "stage": "Staging"},
    ),
    "model-versions/transition-stage production": Rule(
        "POST",
        "mlflow/model-versions/transition-stage",
        Action.MANAGE_MODELS,
        lambda d: {"name": "churn", "version": "1", "stage": "Production"},
    ),
    "model-versions/search": Rule(
        "GET", "mlflow/model-versions/search", Action.VIEW, lambda d: {"filter": "name='churn'"}
    ),
    "model-versions/get-download-uri": Rule(
        "GET",
        "mlflow/model-versions/get-download-uri",
        Action.VIEW,
        lambda d: {"name": "churn", "version": "2"},
    ),
    "model-versions/set-tag": Rule(
        "POST",
        "mlflow/model-versions/set-tag",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "version": "1", "key": "k", "value": "v"},
    ),
    "model-versions/delete-tag": Rule(
        "DELETE",
        "mlflow/model-versions/delete-tag",
        Action.LOG_DATA,
        lambda d: {"name": "churn", "version": "1", "key": "owner"},
    ),
}

ALLOWED = {**RUN_ALLOWED, Action.MANAGE_MODELS: {Role.MANAGER, STAFF}}


@pytest.fixture
def data(world: World, settings, tmp_path) -> Data:
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    manager = world.users[Role.MANAGER]
    experiment = tracking.experiment_create(project=world.project, name="exp", by=manager)
    run = tracking.run_create(experiment=experiment, by=manager)
    model = services.logged_model_create(
        experiment=experiment, by=manager, name="model", source_run=run, tags=[("team", "a")]
    )
    folder = (
        settings.MLPROJECTS_ARTIFACT_ROOT
        / str(world.project.pk)
        / str(experiment.pk)
        / "models"
        / model.model_id
        / "artifacts"
    )
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    registered = services.registered_model_create(
        project=world.project, name="churn", by=manager, tags=[("owner", "ana")]
    )
    versions = []
    for _ in range(2):
        version = services.model_version_create(
            registered_model=registered,
            by=manager,
            source=f"models:/{model.model_id}",
            storage_location=model.artifact_location,
            logged_model=model,
            tags=[("owner", "ana")],
        )
        versions.append(version)
    services.alias_set(version=versions[0], alias="staging", by=manager)
    services.alias_set(version=versions[1], alias="champion", by=manager)
    return Data(experiment, run, model, registered, *versions)


def call(client, rule: Rule, data: Data, *, project: str | None):
    url = api(
        (rule.path or rule.route).format(model_id=_mid(data), artifact=_artifact(data)),
        project=project,
    )
    if rule.method == "PUT":
        return client.generic("PUT", url, b"flavors: {}\n", content_type="text/plain")
    if rule.method == "DELETE" and not rule.body(data):
        return client.generic("DELETE", url)
    return send(client, rule.method, url, rule.body(data))


def test_every_routed_endpoint_has_a_rule():
    """Runs' rules and these together cover every MLflow route, and nothing else."""
    routed = {str(p.pattern) for p in urls.endpoints} - {"^mlflow(?:-artifacts)?/"}
    runs = {rule.path.replace("{artifact}", "<path:artifact_path>") for rule in RUN_RULES.values()}
    models = {rule.route for rule in RULES.values()}
    assert routed == runs | models


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", RULES)
def test_role_rules_through_the_projects_tracking_uri(world, data, endpoint, caller):
    rule = RULES[endpoint]
    response = call(world.client(caller), rule, data, project=world.project.slug)
    if caller == ANONYMOUS:
        assert error(response) == (401, "UNAUTHENTICATED")
    elif caller == OUTSIDER:
        assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    elif caller in ALLOWED[rule.action]:
        assert response.status_code == 200, response.content
    else:
        assert error(response) == (403, "PERMISSION_DENIED")


# Endpoints that name what they act on, which the root URI can reach.
ADDRESSED = [
    name
    for name in RULES
    if name
    not in {
        "logged-models create",
        "logged-models/search",
        "registered-models/create",
        "registered-models/search",
        "model-versions/search",
    }
]


@pytest.mark.parametrize("endpoint", ADDRESSED)
def test_at_the_root_an_outsider_finds_nothing(world, data, endpoint):
    response = call(world.client(OUTSIDER), RULES[endpoint], data, project=None)
    assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("endpoint", ADDRESSED)
def test_a_token_bound_to_another_project_finds_nothing(world, data, endpoint):
    manager = world.users[Role.MANAGER]
    phase_services.membership_set(project=world.other, user=manager, role=Role.MANAGER)
    _, secret = token_create(user=manager, name="other", project=world.other)
    for project in (None, world.project.slug):
        response = call(bearer(secret), RULES[endpoint], data, project=project)
        assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST"), project


def test_searches_show_members_their_models_and_outsiders_nothing(world, data):
    for project in (None, world.project.slug):
        found = send(
            world.client(Role.VIEWER),
            "GET",
            api("mlflow/registered-models/search", project=project),
        ).json()
        assert [m["name"] for m in found["registered_models"]] == ["churn"]
    for path in ("mlflow/registered-models/search", "mlflow/model-versions/search"):
        assert send(world.client(OUTSIDER), "GET", api(path)).json() == {}
    body = {"experiment_ids": [str(data.experiment.pk)]}
    outsider = send(world.client(OUTSIDER), "POST", api("mlflow/logged-models/search"), body)
    assert outsider.json() == {}

"""Who may call what under the MLflow API: every endpoint, every kind of caller, each cell on
fresh data. Reading needs the viewer role on the project, every write the contributor role.

The answer when a call is not allowed follows from the caller, in MLflow's error body: 401
``UNAUTHENTICATED`` without credentials, 404 ``RESOURCE_DOES_NOT_EXIST`` for someone who is
not a member (or whose token is bound to another project), so a private project's existence
does not leak, and 403 ``PERMISSION_DENIED`` for a member whose role is too low.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from api.services import token_create
from experiments import services
from experiments.models import Experiment, Run
from phases import services as phase_services
from phases.choices import Role
from phases.roles import Action
from tests.api.conftest import ANONYMOUS, CALLERS, OUTSIDER, STAFF, World, bearer
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db


@dataclass
class Data:
    """What the endpoints act on, in ``world.project``: an experiment with a run, a deleted
    experiment and a deleted run to restore, and one artifact on disk."""

    experiment: Experiment
    run: Run
    deleted_experiment: Experiment
    deleted_run: Run


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    action: Action
    body: Callable[[Data], dict]


RULES = {
    "experiments/create": Rule(
        "POST", "mlflow/experiments/create", Action.LOG_DATA, lambda d: {"name": "new"}
    ),
    "experiments/get": Rule(
        "GET", "mlflow/experiments/get", Action.VIEW, lambda d: {"experiment_id": d.experiment.pk}
    ),
    "experiments/get-by-name": Rule(
        "GET", "mlflow/experiments/get-by-name", Action.VIEW, lambda d: {"experiment_name": "exp"}
    ),
    "experiments/search": Rule("POST", "mlflow/experiments/search", Action.VIEW, lambda d: {}),
    "experiments/update": Rule(
        "POST",
        "mlflow/experiments/update",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.experiment.pk), "new_name": "renamed"},
    ),
    "experiments/delete": Rule(
        "POST",
        "mlflow/experiments/delete",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.experiment.pk)},
    ),
    "experiments/restore": Rule(
        "POST",
        "mlflow/experiments/restore",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.deleted_experiment.pk)},
    ),
    "experiments/set-experiment-tag": Rule(
        "POST",
        "mlflow/experiments/set-experiment-tag",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.experiment.pk), "key": "k", "value": "v"},
    ),
    "experiments/delete-experiment-tag": Rule(
        "POST",
        "mlflow/experiments/delete-experiment-tag",
        Action.LOG_DATA,
        lambda d: {"experiment_id": str(d.experiment.pk), "key": "owner"},
    ),
    "runs/create": Rule(
        "POST", "mlflow/runs/create", Action.LOG_DATA, lambda d: {"experiment_id": "0"}
    ),
    "runs/get": Rule("GET", "mlflow/runs/get", Action.VIEW, lambda d: {"run_id": d.run.run_id}),
    "runs/update": Rule(
        "POST",
        "mlflow/runs/update",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "status": "FINISHED"},
    ),
    "runs/delete": Rule(
        "POST", "mlflow/runs/delete", Action.LOG_DATA, lambda d: {"run_id": d.run.run_id}
    ),
    "runs/restore": Rule(
        "POST", "mlflow/runs/restore", Action.LOG_DATA, lambda d: {"run_id": d.deleted_run.run_id}
    ),
    "runs/search": Rule(
        "POST",
        "mlflow/runs/search",
        Action.VIEW,
        lambda d: {"experiment_ids": [str(d.experiment.pk)]},
    ),
    "runs/log-metric": Rule(
        "POST",
        "mlflow/runs/log-metric",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "key": "m", "value": 1.0, "timestamp": 1},
    ),
    "runs/log-parameter": Rule(
        "POST",
        "mlflow/runs/log-parameter",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "key": "p", "value": "1"},
    ),
    "runs/set-tag": Rule(
        "POST",
        "mlflow/runs/set-tag",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "key": "t", "value": "1"},
    ),
    "runs/delete-tag": Rule(
        "POST",
        "mlflow/runs/delete-tag",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "key": "team"},
    ),
    "runs/log-batch": Rule(
        "POST",
        "mlflow/runs/log-batch",
        Action.LOG_DATA,
        lambda d: {"run_id": d.run.run_id, "params": [{"key": "p", "value": "1"}]},
    ),
    "runs/log-inputs": Rule(
        "POST",
        "mlflow/runs/log-inputs",
        Action.LOG_DATA,
        lambda d: {
            "run_id": d.run.run_id,
            "datasets": [
                {"dataset": {"name": "d", "digest": "1", "source_type": "s", "source": "x"}}
            ],
        },
    ),
    "logged-models/search": Rule(
        "POST",
        "mlflow/logged-models/search",
        Action.VIEW,
        lambda d: {"experiment_ids": [str(d.experiment.pk)]},
    ),
    "metrics/get-history": Rule(
        "GET",
        "mlflow/metrics/get-history",
        Action.VIEW,
        lambda d: {"run_id": d.run.run_id, "metric_key": "loss"},
    ),
    "artifacts/list": Rule(
        "GET", "mlflow/artifacts/list", Action.VIEW, lambda d: {"run_id": d.run.run_id}
    ),
    "mlflow-artifacts list": Rule(
        "GET",
        "mlflow-artifacts/artifacts",
        Action.VIEW,
        lambda d: {"path": f"{d.experiment.pk}/{d.run.run_id}/artifacts"},
    ),
    "mlflow-artifacts download": Rule(
        "GET",
        "mlflow-artifacts/artifacts/{artifact}",
        Action.VIEW,
        lambda d: {},
    ),
    "mlflow-artifacts upload": Rule(
        "PUT",
        "mlflow-artifacts/artifacts/{artifact}",
        Action.LOG_DATA,
        lambda d: {},
    ),
    "mlflow-artifacts delete": Rule(
        "DELETE",
        "mlflow-artifacts/artifacts/{artifact}",
        Action.LOG_DATA,
        lambda d: {},
    ),
}

ALLOWED = {
    Action.VIEW: {Role.VIEWER, Role.CONTRIBUTOR, Role.MANAGER, STAFF},
    Action.LOG_DATA: {Role.CONTRIBUTOR, Role.MANAGER, STAFF},
}


@pytest.fixture
def data(world: World, settings, tmp_path) -> Data:
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    manager = world.users[Role.MANAGER]
    experiment = services.experiment_create(
        project=world.project, name="exp", by=manager, tags=[("owner", "ana")]
    )
    run = services.run_create(experiment=experiment, by=manager, tags=[("team", "a")])
    deleted_experiment = services.experiment_create(project=world.project, name="old", by=manager)
    services.experiment_delete(experiment=deleted_experiment, by=manager)
    deleted_run = services.run_create(experiment=experiment, by=manager)
    services.run_delete(run=deleted_run, by=manager)
    folder = (
        settings.MLPROJECTS_ARTIFACT_ROOT
        / str(world.project.pk)
        / str(experiment.pk)
        / run.run_id
        / "artifacts"
    )
    folder.mkdir(parents=True)
    (folder / "model.txt").write_text("weights")
    return Data(experiment, run, deleted_experiment, deleted_run)


def call(client, rule: Rule, data: Data, *, project: str | None):
    artifact = f"{data.experiment.pk}/{data.run.run_id}/artifacts/model.txt"
    url = api(rule.path.format(artifact=artifact), project=project)
    if rule.method == "PUT":
        return client.generic("PUT", url, b"new weights", content_type="text/plain")
    if rule.method == "DELETE":
        return client.generic("DELETE", url)
    return send(client, rule.method, url, rule.body(data))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", RULES)
def test_role_rules_through_the_projects_tracking_uri(world, data, endpoint, caller):
    rule = RULES[endpoint]
    response = call(world.client(caller), rule, data, project=world.project.slug)
    if caller == ANONYMOUS:
        assert error(response) == (401, "UNAUTHENTICATED")
        assert response["WWW-Authenticate"].startswith("Bearer")
    elif caller == OUTSIDER:
        assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    elif caller in ALLOWED[rule.action]:
        assert response.status_code == 200, response.content
    else:
        assert error(response) == (403, "PERMISSION_DENIED")


# Endpoints that name a run or an experiment, which the root URI can reach.
ADDRESSED = [
    name
    for name in RULES
    if name not in {"experiments/create", "experiments/search", "experiments/get-by-name"}
    and name not in {"runs/create", "runs/search", "logged-models/search"}
]


@pytest.mark.parametrize("endpoint", ADDRESSED)
def test_at_the_root_an_outsider_finds_nothing(world, data, endpoint):
    response = call(world.client(OUTSIDER), RULES[endpoint], data, project=None)
    assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("endpoint", ADDRESSED)
def test_a_token_bound_to_another_project_finds_nothing(world, data, endpoint):
    """The manager manages both projects, but this token reaches only the other one."""
    manager = world.users[Role.MANAGER]
    phase_services.membership_set(project=world.other, user=manager, role=Role.MANAGER)
    _, secret = token_create(user=manager, name="other", project=world.other)
    for project in (None, world.project.slug):
        response = call(bearer(secret), RULES[endpoint], data, project=project)
        assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST"), project


def test_searches_show_members_their_runs_and_outsiders_nothing(world, data):
    body = {"experiment_ids": [str(data.experiment.pk)]}
    for project in (None, world.project.slug):
        url = api("mlflow/runs/search", project=project)
        found = send(world.client(Role.VIEWER), "POST", url, body).json()
        assert [r["info"]["run_id"] for r in found["runs"]] == [data.run.run_id]
    root = api("mlflow/runs/search")
    assert send(world.client(OUTSIDER), "POST", root, body).json() == {}
    experiments = send(world.client(OUTSIDER), "POST", api("mlflow/experiments/search"), {})
    assert experiments.json() == {}

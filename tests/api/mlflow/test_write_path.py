"""The logging endpoints, most of the MLflow traffic, cost two queries besides the write
itself: the token with its user, and the run with the caller's role and its project's
slug. The project is looked up only to explain a miss, with the answer it always gave."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.services import token_create
from experiments import services
from experiments.models import Run
from phases import services as phase_services
from phases.choices import Role
from tests.api.conftest import OUTSIDER, bearer
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db

METRICS = [
    {"key": f"m{i % 5}", "value": i / 3, "timestamp": 1000 + i, "step": i} for i in range(50)
]
PARAMS = [{"key": "lr", "value": "0.1"}]
TAGS = [{"key": "team", "value": "a"}]


def test_a_log_batch_costs_two_queries_besides_the_write(world):
    manager = world.users[Role.MANAGER]
    client = world.client(Role.MANAGER)
    send(client, "POST", api("mlflow/experiments/search"), {})  # records the token's use
    by_http = services.run_create(experiment=world.experiment, by=manager)
    direct = services.run_create(experiment=world.experiment, by=manager)
    url = api("mlflow/runs/log-batch", project=world.project.slug)
    body = {"run_id": by_http.run_id, "metrics": METRICS, "params": PARAMS, "tags": TAGS}

    with CaptureQueriesContext(connection) as over_http:
        assert send(client, "POST", url, body).status_code == 200
    run = Run.objects.get(pk=direct.pk)
    metrics = [services.MetricIn(m["key"], m["value"], m["timestamp"], m["step"]) for m in METRICS]
    with CaptureQueriesContext(connection) as written:
        services.log_batch(
            run=run, by=manager, metrics=metrics, params=[("lr", "0.1")], tags=[("team", "a")]
        )

    token, found, *rest = (q["sql"] for q in over_http)
    assert '"api_apitoken"' in token
    assert found.startswith('SELECT "experiments_run"."id"') and "caller_role" in found
    assert len(rest) == len(written), [q["sql"] for q in over_http]


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("mlflow/runs/log-metric", {"key": "m", "value": 1.0, "timestamp": 1}),
        ("mlflow/runs/log-parameter", {"key": "p", "value": "1"}),
        ("mlflow/runs/set-tag", {"key": "t", "value": "v"}),
        ("mlflow/runs/log-batch", {"metrics": METRICS[:1]}),
    ],
)
def test_the_logging_endpoints_refuse_as_before(world, path, extra):
    run_id = world.run.run_id
    body = {"run_id": run_id, **extra}

    response = send(world.client(Role.VIEWER), "POST", api(path, project=world.project.slug), body)
    assert error(response) == (403, "PERMISSION_DENIED")
    assert f"contributor role on project {world.project.slug}" in response.json()["message"]

    missing = "0" * 32
    for caller, project, wanted, message in (
        (Role.MANAGER, "no-such-project", run_id, "Project 'no-such-project' does not exist."),
        (Role.MANAGER, world.other.slug, run_id, f"Project '{world.other.slug}' does not exist."),
        (OUTSIDER, world.project.slug, run_id, f"Project '{world.project.slug}' does not exist."),
        (OUTSIDER, None, run_id, f"Run with id={run_id} not found"),
        (Role.MANAGER, world.project.slug, missing, f"Run with id={missing} not found"),
    ):
        url = api(path, project=project)
        response = send(world.client(caller), "POST", url, {**body, "run_id": wanted})
        assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST"), (caller, project)
        assert response.json()["message"] == message


def test_a_bound_tokens_project_is_checked_without_a_slug(world):
    manager = world.users[Role.MANAGER]
    membership = phase_services.membership_set(project=world.other, user=manager, role=Role.MANAGER)
    _, secret = token_create(user=manager, name="other", project=world.other)
    body = {"run_id": world.run.run_id, "key": "t", "value": "v"}

    response = send(bearer(secret), "POST", api("mlflow/runs/set-tag"), body)
    assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert response.json()["message"] == f"Run with id={world.run.run_id} not found"

    phase_services.membership_remove(membership=membership)
    response = send(bearer(secret), "POST", api("mlflow/runs/set-tag"), body)
    assert response.json()["message"] == (
        "The project of this token does not exist or is not yours."
    )

"""Hostile JSON bodies against the MLflow API and ``/api/v1/``: never a server error, a 400
in the API's own error shape that names the problem, and nothing stored.

The corpus runs whole against each endpoint; Hypothesis then sends its mutations and
arbitrary bytes. Endpoints that need a field the hostile bodies never hold (a run id, a
name) must refuse every one of them; a read may answer 200 to a body that is an object.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import ApiToken
from experiments import services
from experiments.models import (
    Experiment,
    ExperimentTag,
    MetricChunk,
    MetricSeries,
    Param,
    Run,
    RunTag,
)
from mlprojects.jsonbodies import TooDeep, check_depth
from phases.choices import Role
from phases.models import Membership, Project, Task
from tests.api.conftest import bearer
from tests.experiments.helpers import api
from tests.hostile import corpus
from tests.hostile.strategies import hostile_json

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]

MLFLOW_WRITES = ["runs/log-batch", "experiments/create", "runs/update", "runs/set-tag"]
MLFLOW_READS = ["runs/search", "experiments/search"]
MLFLOW_SHAPE = {"error_code", "message"}
V1_SHAPE = {"code", "message", "fields", "details"}
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def kind(body: bytes, *, mlflow: bool) -> str:
    """What the body is, as the standard library reads it: what a refusal must name."""
    if not body.strip():
        return "empty"
    try:
        value = json.loads(body)
        if mlflow and isinstance(value, str):  # MLflow reads a string as double-encoded JSON
            value = json.loads(value)
        check_depth(value)
    except (RecursionError, TooDeep):
        return "deep"
    except (ValueError, UnicodeError):
        return "malformed"
    return "object" if isinstance(value, dict) else "not an object"


@pytest.fixture(autouse=True)
def default_experiment(world):
    """A read makes the project's default experiment on first use: made before the count."""
    services.ensure_default_experiment(project=world.project)


def stored() -> dict[str, int]:
    models = [Experiment, ExperimentTag, Run, RunTag, MetricSeries, MetricChunk, Param]
    models += [ApiToken, Project]
    counts = {model.__name__: model.objects.count() for model in models}
    counts["tasks"] = hash(tuple(Task.objects.order_by("pk").values_list("title", "status")))
    counts["memberships"] = Membership.objects.count()
    return counts


# --- MLflow -----------------------------------------------------------------------------

MLFLOW_MESSAGE = {
    "deep": "nested more than 32 levels deep",
    "malformed": "Malformed JSON request body",
    "not an object": "must be a JSON object",
}


def mlflow_post(world, path: str, body: bytes):
    return world.client(Role.MANAGER).generic(
        "POST", api(f"mlflow/{path}", project=world.project.slug), body, "application/json"
    )


def check_mlflow(response, body: bytes, *, write: bool, before: dict) -> None:
    assert response.status_code < 500, (body[:200], response.content[:300])
    what = kind(body, mlflow=True)
    if write or what not in ("object", "empty"):
        assert response.status_code == 400, (body[:200], response.content[:300])
    if response.status_code >= 400:
        answer = response.json()
        assert set(answer) == MLFLOW_SHAPE, answer
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
        if what in MLFLOW_MESSAGE:
            assert MLFLOW_MESSAGE[what] in answer["message"], (body[:200], answer)
    assert stored() == before


def each_body(samples: dict[str, bytes], check) -> None:
    """``check(body)`` on every body of the corpus; the failures are reported together,
    by name, rather than stopping at the first."""
    failures = {}
    for name, body in samples.items():
        try:
            check(body)
        except AssertionError as error:
            failures[name] = str(error)[:500]
    assert failures == {}


@pytest.mark.parametrize("path", MLFLOW_WRITES + MLFLOW_READS)
def test_the_json_corpus_against_mlflow(world, path):
    def check(body: bytes) -> None:
        before = stored()
        response = mlflow_post(world, path, body)
        check_mlflow(response, body, write=path in MLFLOW_WRITES, before=before)

    each_body(corpus.JSON, check)


@EXAMPLES
@given(body=hostile_json(), path=st.sampled_from(MLFLOW_WRITES + MLFLOW_READS))
def test_generated_json_against_mlflow(world, body, path):
    before = stored()

    response = mlflow_post(world, path, body)

    check_mlflow(response, body, write=path in MLFLOW_WRITES, before=before)


# --- /api/v1/ ---------------------------------------------------------------------------

V1_MESSAGE = {
    "deep": "nested more than 32 levels deep",
    "malformed": "JSON parse error",
}


def v1_send(world, target: str, body: bytes):
    """Signed in with a session, so each body reaches the parser (a bearer token would be
    refused token creation before its body is read)."""
    client = bearer()
    client.force_login(world.users[Role.MANAGER])
    method, url = {
        "create a token": ("POST", "/api/v1/tokens/"),
        "create a project": ("POST", "/api/v1/projects/"),
        "add a member": ("POST", "/api/v1/memberships/"),
        "edit a task": ("PATCH", f"/api/v1/tasks/{world.task.pk}/"),
    }[target]
    return client.generic(method, url, body, content_type="application/json")


V1_TARGETS = ["create a token", "create a project", "add a member", "edit a task"]


def check_v1(response, body: bytes, *, target: str, before: dict) -> None:
    assert response.status_code < 500, (body[:200], response.content[:300])
    what = kind(body, mlflow=False)
    if target != "edit a task" or what not in ("object", "empty"):
        assert response.status_code == 400, (body[:200], response.content[:300])
    if response.status_code >= 400:
        answer = response.json()
        assert set(answer) == V1_SHAPE, answer
        assert answer["message"]
        if what in V1_MESSAGE:
            assert V1_MESSAGE[what] in answer["message"], (body[:200], answer)
    assert stored() == before


@pytest.mark.parametrize("target", V1_TARGETS)
def test_the_json_corpus_against_v1(world, target):
    def check(body: bytes) -> None:
        before = stored()
        response = v1_send(world, target, body)
        check_v1(response, body, target=target, before=before)

    each_body(corpus.JSON, check)


@EXAMPLES
@given(body=hostile_json(), target=st.sampled_from(V1_TARGETS))
def test_generated_json_against_v1(world, body, target):
    before = stored()

    response = v1_send(world, target, body)

    check_v1(response, body, target=target, before=before)

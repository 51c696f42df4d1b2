"""The MLflow endpoints over HTTP: MLflow's JSON shapes, its limits, and its error body on
every refusal. Roles are in ``test_roles``, artifact paths in ``test_artifacts``.
"""

import json

import pytest
from rest_framework.test import APIClient

from api.services import token_create
from experiments import services
from experiments.models import Experiment, Param, Run, RunTag
from phases.choices import Role
from tests.api.conftest import World, bearer
from tests.experiments.helpers import api, error, experiment_and_run, send, stored_points
from tests.factories import make_project

pytestmark = pytest.mark.django_db

ROOT = object()


class Mlflow:
    """MLflow calls as the project's manager, through the project's tracking URI unless
    ``project=ROOT`` (the root URI) or another slug is given."""

    def __init__(self, world: World, client: APIClient | None = None):
        self.world = world
        self.client = client or world.client(Role.MANAGER)

    def __call__(self, method: str, path: str, body: dict | None = None, *, project=None):
        slug = None if project is ROOT else (project or self.world.project.slug)
        return send(self.client, method, api(path, project=slug), body)

    def ok(self, method: str, path: str, body: dict | None = None, **kwargs) -> dict:
        response = self(method, path, body, **kwargs)
        assert response.status_code == 200, response.content
        return response.json()

    def refused(self, method: str, path: str, body: dict | None = None, **kwargs):
        return error(self(method, path, body, **kwargs))


@pytest.fixture
def mlflow(world, settings, tmp_path) -> Mlflow:
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    return Mlflow(world)


@pytest.fixture
def run(world) -> Run:
    return experiment_and_run(world.project, by=world.users[Role.MANAGER])[1]


# --- Experiments ------------------------------------------------------------------------


def test_an_experiments_whole_lifecycle(mlflow, world):
    created = mlflow.ok(
        "POST",
        "mlflow/experiments/create",
        {"name": "churn", "tags": [{"key": "owner", "value": "ana"}]},
    )
    experiment_id = created["experiment_id"]
    experiment = Experiment.objects.get(pk=experiment_id)
    assert experiment.project == world.project

    got = mlflow.ok("GET", "mlflow/experiments/get", {"experiment_id": experiment_id})
    assert got == {
        "experiment": {
            "experiment_id": experiment_id,
            "name": "churn",
            "artifact_location": f"mlflow-artifacts:/{experiment_id}",
            "lifecycle_stage": "active",
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "tags": [{"key": "owner", "value": "ana"}],
        }
    }
    by_name = mlflow.ok("GET", "mlflow/experiments/get-by-name", {"experiment_name": "churn"})
    assert by_name == got

    mlflow.ok(
        "POST", "mlflow/experiments/update", {"experiment_id": experiment_id, "new_name": "c2"}
    )
    mlflow.ok(
        "POST",
        "mlflow/experiments/set-experiment-tag",
        {"experiment_id": experiment_id, "key": "stage", "value": "dev"},
    )
    mlflow.ok(
        "POST",
        "mlflow/experiments/delete-experiment-tag",
        {"experiment_id": experiment_id, "key": "owner"},
    )
    found = mlflow.ok("POST", "mlflow/experiments/search", {"filter": "name = 'c2'"})
    assert [(e["name"], e["tags"]) for e in found["experiments"]] == [
        ("c2", [{"key": "stage", "value": "dev"}])
    ]

    mlflow.ok("POST", "mlflow/experiments/delete", {"experiment_id": experiment_id})
    listed = mlflow.ok("GET", "mlflow/experiments/search", {"max_results": "10"})
    assert [e["name"] for e in listed["experiments"]] == ["Default", "baseline"]
    deleted = mlflow.ok("POST", "mlflow/experiments/search", {"view_type": "DELETED_ONLY"})
    assert [e["lifecycle_stage"] for e in deleted["experiments"]] == ["deleted"]
    mlflow.ok("POST", "mlflow/experiments/restore", {"experiment_id": experiment_id})
    assert Experiment.objects.get(pk=experiment_id).lifecycle_stage == "active"


def test_the_default_experiment_is_experiment_zero_in_a_projects_scope(mlflow, world):
    got = mlflow.ok("GET", "mlflow/experiments/get", {"experiment_id": "0"})["experiment"]
    default = Experiment.objects.get(project=world.project, is_default=True)
    assert (got["experiment_id"], got["name"]) == ("0", "Default")
    assert got["artifact_location"] == f"mlflow-artifacts:/{default.pk}"
    by_name = mlflow.ok("GET", "mlflow/experiments/get-by-name", {"experiment_name": "Default"})
    assert by_name["experiment"]["experiment_id"] == "0"


def test_experiment_searches_page(mlflow, world):
    for n in range(5):
        services.experiment_create(project=world.project, name=f"e{n}", by=None)
    seen, token = [], None
    while True:
        body = {"max_results": 2, "order_by": ["name ASC"]}
        if token:
            body["page_token"] = token
        page = mlflow.ok("POST", "mlflow/experiments/search", body)
        seen += [e["name"] for e in page["experiments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ["Default", "baseline", "e0", "e1", "e2", "e3", "e4"]


# --- Runs -------------------------------------------------------------------------------


def test_a_runs_whole_lifecycle(mlflow, world):
    experiment_id = mlflow.ok("POST", "mlflow/experiments/create", {"name": "exp"})["experiment_id"]
    created = mlflow.ok(
        "POST",
        "mlflow/runs/create",
        {
            "experiment_id": experiment_id,
            "run_name": "first",
            "start_time": 1_700_000_000_000,
            "user_id": "someone-else",
            "tags": [{"key": "mlflow.source.name", "value": "train.py"}],
        },
    )["run"]
    run_id = created["info"]["run_id"]
    run = Run.objects.get(run_id=run_id)
    assert created == {
        "info": {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": "first",
            "experiment_id": experiment_id,
            "user_id": "manager",
            "status": "RUNNING",
            "start_time": 1_700_000_000_000,
            "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
            "lifecycle_stage": "active",
        },
        "data": {
            "tags": [
                {"key": "mlflow.runName", "value": "first"},
                {"key": "mlflow.source.name", "value": "train.py"},
            ]
        },
        "inputs": {},
    }

    mlflow.ok(
        "POST",
        "mlflow/runs/log-metric",
        {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 10, "step": 1},
    )
    mlflow.ok(
        "POST", "mlflow/runs/log-parameter", {"run_uuid": run_id, "key": "lr", "value": "0.1"}
    )
    mlflow.ok("POST", "mlflow/runs/set-tag", {"run_id": run_id, "key": "team", "value": "a"})
    mlflow.ok("POST", "mlflow/runs/set-tag", {"run_id": run_id, "key": "gone", "value": "x"})
    mlflow.ok("POST", "mlflow/runs/delete-tag", {"run_id": run_id, "key": "gone"})
    mlflow.ok(
        "POST",
        "mlflow/runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [
                {"key": "loss", "value": "NaN", "timestamp": 11, "step": 2},
                {"key": "auc", "value": "Infinity", "timestamp": 11},
            ],
            "params": [{"key": "depth", "value": "3"}],
            "tags": [{"key": "team", "value": "b"}],
        },
    )
    mlflow.ok(
        "POST",
        "mlflow/runs/log-inputs",
        {
            "run_id": run_id,
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                    "dataset": {
                        "name": "churn",
                        "digest": "abc123",
                        "source_type": "local",
                        "source": '{"uri": "data.csv"}',
                    },
                }
            ],
        },
    )
    updated = mlflow.ok(
        "POST",
        "mlflow/runs/update",
        {"run_id": run_id, "status": "FINISHED", "end_time": 1_700_000_001_000},
    )["run_info"]
    assert (updated["status"], updated["end_time"]) == ("FINISHED", 1_700_000_001_000)

    got = mlflow.ok("GET", "mlflow/runs/get", {"run_id": run_id})["run"]
    assert got["data"] == {
        "metrics": [
            {"key": "auc", "value": "Infinity", "timestamp": 11, "step": 0},
            {"key": "loss", "value": "NaN", "timestamp": 11, "step": 2},
        ],
        "params": [{"key": "depth", "value": "3"}, {"key": "lr", "value": "0.1"}],
        "tags": [
            {"key": "mlflow.runName", "value": "first"},
            {"key": "mlflow.source.name", "value": "train.py"},
            {"key": "team", "value": "b"},
        ],
    }
    assert got["inputs"] == {
        "dataset_inputs": [
            {
                "tags": [{"key": "mlflow.data.context", "value": "train"}],
                "dataset": {
                    "name": "churn",
                    "digest": "abc123",
                    "source_type": "local",
                    "source": '{"uri": "data.csv"}',
                },
            }
        ]
    }

    mlflow.ok("POST", "mlflow/runs/delete", {"run_id": run_id})
    assert mlflow.ok("POST", "mlflow/runs/search", {"experiment_ids": [experiment_id]}) == {}
    mlflow.ok("POST", "mlflow/runs/restore", {"run_id": run_id})
    run.refresh_from_db()
    assert run.lifecycle_stage == "active"


def test_run_search_filters_orders_and_pages(mlflow, world):
    experiment_id = mlflow.ok("POST", "mlflow/experiments/create", {"name": "exp"})["experiment_id"]
    for n in range(5):
        run_id = mlflow.ok(
            "POST", "mlflow/runs/create", {"experiment_id": experiment_id, "run_name": f"r{n}"}
        )["run"]["info"]["run_id"]
        mlflow.ok(
            "POST",
            "mlflow/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "acc", "value": n / 10, "timestamp": 1}],
                "params": [{"key": "parity", "value": "even" if n % 2 == 0 else "odd"}],
            },
        )
    seen, token = [], None
    while True:
        body = {
            "experiment_ids": [experiment_id],
            "filter": "params.parity = 'even' and metrics.acc >= 0",
            "order_by": ["metrics.acc DESC"],
            "max_results": 2,
        }
        if token:
            body["page_token"] = token
        page = mlflow.ok("POST", "mlflow/runs/search", body)
        seen += [r["info"]["run_name"] for r in page["runs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ["r4", "r2", "r0"]


def test_metric_history_pages_through_a_series(mlflow, run, world):
    services.log_batch(
        run=run,
        by=None,
        metrics=[services.MetricIn("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(25)],
    )
    whole = mlflow.ok(
        "GET", "mlflow/metrics/get-history", {"run_id": run.run_id, "metric_key": "loss"}
    )
    assert len(whole["metrics"]) == 25 and "next_page_token" not in whole
    assert whole["metrics"][0] == {"key": "loss", "value": 1.0, "timestamp": 1000, "step": 0}

    pages, token = [], None
    while True:
        query = {"run_id": run.run_id, "metric_key": "loss", "max_results": "10"}
        if token:
            query["page_token"] = token
        page = mlflow.ok("GET", "mlflow/metrics/get-history", query)
        pages.append([m["step"] for m in page["metrics"]])
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    unknown = {"run_id": run.run_id, "metric_key": "nope"}
    assert mlflow.ok("GET", "mlflow/metrics/get-history", unknown) == {}


# --- Limits and errors ------------------------------------------------------------------


def metrics(n: int) -> list[dict]:
    return [{"key": f"m{i}", "value": 1.0, "timestamp": 1, "step": 0} for i in range(n)]


def pairs(n: int, prefix: str) -> list[dict]:
    return [{"key": f"{prefix}{i}", "value": "v"} for i in range(n)]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"metrics": metrics(1001)}, "at most 1000 metrics"),
        ({"params": pairs(101, "p")}, "at most 100 params"),
        ({"tags": pairs(101, "t")}, "at most 100 tags"),
        (
            {"metrics": metrics(1000), "params": pairs(1, "p")},
            "at most 1000 metrics, params, and tags",
        ),
        ({"tags": [{"key": "big", "value": "x" * 1_000_001}]}, "at most 1000000 bytes"),
        ({"metrics": [{"key": "k" * 251, "value": 1, "timestamp": 1}]}, "maximum length of 250"),
        ({"params": [{"key": "p", "value": "v" * 6001}]}, "maximum length of 6000"),
        ({"metrics": [{"key": "m", "timestamp": 1}]}, "'metrics[0].value'"),
        ({"metrics": [{"key": "m", "value": 1}]}, "'metrics[0].timestamp'"),
        ({"metrics": [{"key": "m", "value": "high", "timestamp": 1}]}, "'metrics[0].value'"),
        ({"params": [{"value": "v"}]}, "'params[0].key'"),
        ({"metrics": [{"key": "../up", "value": 1, "timestamp": 1}]}, "would resolve to"),
    ],
)
def test_log_batch_enforces_mlflows_limits_and_writes_nothing(mlflow, run, batch, message):
    response = mlflow("POST", "mlflow/runs/log-batch", {"run_id": run.run_id, **batch})
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")
    assert message in response.json()["message"]
    assert not bool(stored_points(run))
    assert not Param.objects.filter(run=run).exists()
    assert not RunTag.objects.filter(run=run).exclude(key="mlflow.runName").exists()


def test_a_changed_param_is_refused(mlflow, run):
    mlflow.ok(
        "POST", "mlflow/runs/log-parameter", {"run_id": run.run_id, "key": "lr", "value": "1"}
    )
    again = {"run_id": run.run_id, "key": "lr", "value": "1"}
    mlflow.ok("POST", "mlflow/runs/log-parameter", again)
    response = mlflow("POST", "mlflow/runs/log-parameter", {**again, "value": "2"})
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")
    assert "Changing param values is not allowed" in response.json()["message"]


MISSING_RUN = "0" * 32


@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "message"),
    [
        ("POST", "mlflow/experiments/create", {}, 400, "'name'"),
        ("POST", "mlflow/experiments/create", {"name": 5}, 400, "'name'"),
        ("POST", "mlflow/experiments/create", {"name": "x" * 501}, 400, "maximum length of 500"),
        (
            "POST",
            "mlflow/experiments/create",
            {"name": "e", "artifact_location": "s3://b"},
            400,
            "artifact_location",
        ),
        ("GET", "mlflow/experiments/get", {}, 400, "'experiment_id'"),
        ("GET", "mlflow/experiments/get", {"experiment_id": "999999"}, 404, "id=999999"),
        ("GET", "mlflow/experiments/get", {"experiment_id": "abc"}, 404, "id=abc"),
        ("GET", "mlflow/experiments/get-by-name", {"experiment_name": "nope"}, 404, "'nope'"),
        ("POST", "mlflow/experiments/update", {"experiment_id": "0"}, 400, "'new_name'"),
        ("POST", "mlflow/experiments/delete", {"experiment_id": "0"}, 400, "default experiment"),
        ("POST", "mlflow/experiments/search", {"filter": "name ~ 'x'"}, 400, "cannot parse"),
        ("POST", "mlflow/experiments/search", {"max_results": 50001}, 400, "max_results"),
        ("POST", "mlflow/experiments/search", {"page_token": "%%%"}, 400, "page token"),
        ("GET", "mlflow/runs/get", {}, 400, "'run_id'"),
        ("GET", "mlflow/runs/get", {"run_id": MISSING_RUN}, 404, f"id={MISSING_RUN}"),
        ("GET", "mlflow/runs/get", {"run_id": "../../etc"}, 404, "not found"),
        ("POST", "mlflow/runs/create", {"experiment_id": "999999"}, 404, "id=999999"),
        (
            "POST",
            "mlflow/runs/create",
            {"experiment_id": "0", "start_time": "soon"},
            400,
            "'start_time'",
        ),
        (
            "POST",
            "mlflow/runs/log-metric",
            {"run_id": MISSING_RUN, "key": "m", "value": 1, "timestamp": 1},
            404,
            "not found",
        ),
        (
            "POST",
            "mlflow/runs/search",
            {"experiment_ids": ["0"], "filter": "metrics.a > 'x'"},
            400,
            "numeric",
        ),
        (
            "POST",
            "mlflow/runs/search",
            {"experiment_ids": ["0"], "filter": "a = 1 OR b = 2"},
            400,
            "Invalid",
        ),
        ("POST", "mlflow/runs/search", {"experiment_ids": ["zero"]}, 400, "Invalid experiment ID"),
        (
            "POST",
            "mlflow/runs/search",
            {"experiment_ids": ["0"], "order_by": ["metrics.a UP"]},
            400,
            "order_by",
        ),
        ("POST", "mlflow/runs/search", {"experiment_ids": "0"}, 400, "'experiment_ids'"),
        ("GET", "mlflow/metrics/get-history", {"run_id": MISSING_RUN}, 400, "'metric_key'"),
        ("POST", "mlflow/prompts/create", {}, 404, "not an MLflow endpoint"),
    ],
)
def test_refusals_use_mlflows_error_body(mlflow, method, path, body, expected, message):
    response = mlflow(method, path, body)
    status, code = error(response)
    assert status == expected
    assert (
        code == {400: "INVALID_PARAMETER_VALUE", 404: "RESOURCE_DOES_NOT_EXIST"}.get(expected)
        or code == "ENDPOINT_NOT_FOUND"
    )
    assert message in response.json()["message"]


def test_run_endpoints_check_their_required_fields_and_state(mlflow, run):
    for path, body, field in (
        ("mlflow/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1}, "'run_id'"),
        ("mlflow/runs/log-metric", {"run_id": run.run_id, "key": "m", "timestamp": 1}, "'value'"),
        ("mlflow/runs/log-metric", {"run_id": run.run_id, "key": "m", "value": 1}, "'timestamp'"),
        ("mlflow/runs/log-parameter", {"run_id": run.run_id, "value": "1"}, "'key'"),
        ("mlflow/runs/set-tag", {"run_id": run.run_id}, "'key'"),
        ("mlflow/runs/delete-tag", {"run_id": run.run_id}, "'key'"),
        ("mlflow/runs/update", {"run_id": run.run_id, "status": "DONE"}, "'status'"),
        ("mlflow/runs/log-inputs", {"run_id": run.run_id, "datasets": [{}]}, "dataset"),
        (
            "mlflow/runs/log-inputs",
            {
                "run_id": run.run_id,
                "datasets": [
                    {
                        "dataset": {
                            "name": "d",
                            "digest": "x" * 37,
                            "source_type": "s",
                            "source": "s",
                        }
                    }
                ],
            },
            "maximum length of 36",
        ),
        ("mlflow/runs/update", {"run_id": run.run_id, "end_time": "late"}, "'end_time'"),
        ("mlflow/runs/update", {"run_id": run.run_id, "run_name": "n" * 251}, "250"),
        (
            "mlflow/runs/log-metric",
            {"run_id": run.run_id, "key": "m", "value": True, "timestamp": 1},
            "'value'",
        ),
        (
            "mlflow/runs/log-metric",
            {"run_id": run.run_id, "key": "m", "value": 1, "timestamp": -5},
            "nonnegative",
        ),
        ("mlflow/runs/set-tag", {"run_id": run.run_id, "key": "t", "value": "v" * 8001}, "8000"),
        (
            "mlflow/experiments/set-experiment-tag",
            {"experiment_id": str(run.experiment_id), "key": "t", "value": "v" * 20001},
            "20000",
        ),
        (
            "mlflow/experiments/update",
            {"experiment_id": str(run.experiment_id), "new_name": "x" * 501},
            "500",
        ),
    ):
        response = mlflow("POST", path, body)
        assert error(response) == (400, "INVALID_PARAMETER_VALUE"), (path, response.json())
        assert field in response.json()["message"]

    history = {"run_id": run.run_id, "metric_key": "m", "max_results": "0"}
    assert error(mlflow("GET", "mlflow/metrics/get-history", history)) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert error(mlflow("POST", "mlflow/runs/delete-tag", {"run_id": run.run_id, "key": "x"})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    services.run_delete(run=run, by=None)
    response = mlflow(
        "POST", "mlflow/runs/set-tag", {"run_id": run.run_id, "key": "k", "value": "v"}
    )
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")
    assert "must be in the 'active' state" in response.json()["message"]


def test_a_duplicate_experiment_name_is_resource_already_exists(mlflow):
    mlflow.ok("POST", "mlflow/experiments/create", {"name": "dup"})
    assert mlflow.refused("POST", "mlflow/experiments/create", {"name": "dup"}) == (
        400,
        "RESOURCE_ALREADY_EXISTS",
    )


def test_bodies_must_be_json_objects(mlflow, world):
    client = world.client(Role.MANAGER)
    url = api("mlflow/experiments/create", project=world.project.slug)
    for data, content_type, message in (
        ("name=x", "application/x-www-form-urlencoded", "Content-Type must be"),
        ("{not json", "application/json", "Malformed JSON"),
        ("[1, 2]", "application/json", "JSON object"),
    ):
        response = client.generic("POST", url, data, content_type=content_type)
        assert error(response) == (400, "INVALID_PARAMETER_VALUE")
        assert message in response.json()["message"]
    double_encoded = json.dumps(json.dumps({"name": "legacy"}))
    response = client.generic("POST", url, double_encoded, content_type="application/json")
    assert response.status_code == 200, response.content


def test_wrong_methods_and_unknown_endpoints_answer_in_mlflows_shape(mlflow):
    assert mlflow.refused("GET", "mlflow/runs/create") == (405, "BAD_REQUEST")
    assert mlflow.refused("GET", "mlflow/no/such/thing") == (404, "ENDPOINT_NOT_FOUND")


# --- Addressing -------------------------------------------------------------------------


def test_at_the_root_reads_span_projects_and_creates_need_a_project(mlflow, world):
    manager = world.users[Role.MANAGER]
    second = make_project(owner=manager, name="Second")
    first_exp, first_run = experiment_and_run(world.project, by=manager, name="one")
    experiment_and_run(second, by=manager, name="two")
    experiment_and_run(world.other, by=world.other.owner, name="strangers")

    listed = mlflow.ok("POST", "mlflow/experiments/search", {}, project=ROOT)
    # The world's own project holds a "baseline" experiment besides the one made here.
    assert sorted(e["name"] for e in listed["experiments"]) == ["baseline", "one", "two"]
    got = mlflow.ok("GET", "mlflow/runs/get", {"run_id": first_run.run_id}, project=ROOT)
    assert got["run"]["info"]["experiment_id"] == str(first_exp.pk)
    mlflow.ok(
        "POST",
        "mlflow/runs/log-metric",
        {"run_id": first_run.run_id, "key": "m", "value": 1, "timestamp": 1},
        project=ROOT,
    )

    for method, path, body in (
        ("POST", "mlflow/experiments/create", {"name": "new"}),
        ("POST", "mlflow/runs/create", {"experiment_id": str(first_exp.pk)}),
        ("GET", "mlflow/experiments/get", {"experiment_id": "0"}),
        ("POST", "mlflow/runs/search", {"experiment_ids": ["0"]}),
    ):
        response = mlflow(method, path, body, project=ROOT)
        assert error(response) == (400, "INVALID_PARAMETER_VALUE"), path
        assert "/projects/<project slug>" in response.json()["message"]


def test_at_the_root_a_bound_token_addresses_its_project(world, settings, tmp_path):
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path
    manager = world.users[Role.MANAGER]
    _, secret = token_create(user=manager, name="ci", project=world.project)
    bound = Mlflow(world, bearer(secret))

    created = bound.ok("POST", "mlflow/experiments/create", {"name": "bound"}, project=ROOT)
    assert Experiment.objects.get(pk=created["experiment_id"]).project == world.project
    run = bound.ok("POST", "mlflow/runs/create", {"experiment_id": "0"}, project=ROOT)["run"]
    assert run["info"]["experiment_id"] == "0"


def test_a_browser_session_works_and_its_writes_need_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users[Role.MANAGER])
    url = api("mlflow/experiments/search", project=world.project.slug)
    assert client.get(url).status_code == 200
    response = client.post(url, {}, format="json")
    assert error(response) == (403, "PERMISSION_DENIED")
    assert "CSRF" in response.json()["message"]

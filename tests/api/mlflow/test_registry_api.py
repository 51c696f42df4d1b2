"""The MLflow endpoints of logged models and the registry, called as the client calls them:
their bodies, MLflow's error codes and limits, the search grammars, paging, and hostile input
that must never crash a request."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import services as tracking
from phases.choices import Role
from registry import services
from tests.experiments.helpers import api, error, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def mlflow(world):
    """Call an endpoint under the project's tracking URI as its manager."""
    client = world.client(Role.MANAGER)

    def call(method: str, path: str, body: dict | None = None):
        return send(client, method, api(path, project=world.project.slug), body)

    call.world = world
    return call


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def models(mlflow):
    """Three logged models of one run with metrics, params and tags."""
    manager = mlflow.world.users[Role.MANAGER]
    experiment = tracking.experiment_create(project=mlflow.world.project, name="e", by=manager)
    run = tracking.run_create(experiment=experiment, by=manager)
    created = []
    for name, auc, kind in (("a", 0.7, "tree"), ("b", 0.9, "linear"), ("c", None, "tree")):
        body = ok(
            mlflow(
                "POST",
                "mlflow/logged-models",
                {
                    "experiment_id": str(experiment.pk),
                    "name": name,
                    "model_type": kind,
                    "source_run_id": run.run_id,
                    "params": [{"key": "depth", "value": str(len(created) + 3)}],
                    "tags": [{"key": "team", "value": "growth"}],
                },
            )
        )
        model_id = body["model"]["info"]["model_id"]
        if auc is not None:
            metric = {"key": "auc", "value": auc, "timestamp": 1, "step": 0, "model_id": model_id}
            metric |= {"dataset_name": "valid", "dataset_digest": "d1"}
            ok(mlflow("POST", "mlflow/runs/log-batch", {"run_id": run.run_id, "metrics": [metric]}))
        created.append(model_id)
    return {"experiment": experiment, "run": run, "ids": created}


def search(mlflow, models, **body) -> list[str]:
    body = {"experiment_ids": [str(models["experiment"].pk)], **body}
    found = ok(mlflow("POST", "mlflow/logged-models/search", body)).get("models", [])
    names = {m: n for m, n in zip(models["ids"], "abc", strict=True)}
    return [names[m["info"]["model_id"]] for m in found]


def test_a_logged_model_reads_back_as_mlflow_shapes_it(mlflow, models):
    model_id = models["ids"][1]
    body = ok(mlflow("GET", f"mlflow/logged-models/{model_id}"))["model"]
    info, data = body["info"], body["data"]
    assert info["model_id"] == model_id
    assert info["name"] == "b"
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["source_run_id"] == models["run"].run_id
    assert info["artifact_uri"] == (
        f"mlflow-artifacts:/{models['experiment'].pk}/models/{model_id}/artifacts"
    )
    assert info["tags"] == [{"key": "team", "value": "growth"}]
    assert data["params"] == [{"key": "depth", "value": "4"}]
    assert data["metrics"] == [
        {
            "key": "auc",
            "value": 0.9,
            "timestamp": 1,
            "step": 0,
            "model_id": model_id,
            "run_id": models["run"].run_id,
            "dataset_name": "valid",
            "dataset_digest": "d1",
        }
    ]
    finalized = ok(
        mlflow("PATCH", f"mlflow/logged-models/{model_id}", {"model_id": model_id, "status": 2})
    )
    assert finalized["model"]["info"]["status"] == "LOGGED_MODEL_READY"


def test_search_filters_and_orders_with_mlflows_grammar(mlflow, models):
    assert search(mlflow, models) == ["c", "b", "a"]  # newest first
    assert search(mlflow, models, filter="metrics.auc > 0.8") == ["b"]
    assert search(mlflow, models, filter="params.depth = '3' AND tags.team = 'growth'") == ["a"]
    assert search(mlflow, models, filter="model_type = 'tree'") == ["c", "a"]
    assert search(mlflow, models, filter="name IN ('a', 'c')") == ["c", "a"]
    assert search(mlflow, models, filter=f"source_run_id = '{models['run'].run_id}'") == [
        "c",
        "b",
        "a",
    ]
    by_auc = [{"field_name": "metrics.auc", "ascending": False}]
    assert search(mlflow, models, order_by=by_auc) == ["b", "a", "c"]  # missing values last
    assert search(mlflow, models, order_by=[{"field_name": "name"}]) == ["a", "b", "c"]
    on_other = [{"field_name": "metrics.auc", "ascending": False, "dataset_name": "test"}]
    assert search(mlflow, models, order_by=on_other) == ["c", "b", "a"]
    assert search(mlflow, models, datasets=[{"dataset_name": "valid"}]) == ["b", "a"]
    assert search(mlflow, models, datasets=[{"dataset_name": "valid", "dataset_digest": "x"}]) == []


def test_search_pages(mlflow, models):
    body = {"experiment_ids": [str(models["experiment"].pk)], "max_results": 2}
    first = ok(mlflow("POST", "mlflow/logged-models/search", body))
    second = ok(
        mlflow(
            "POST",
            "mlflow/logged-models/search",
            {**body, "page_token": first["next_page_token"]},
        )
    )
    ids = [m["info"]["model_id"] for m in first["models"] + second["models"]]
    assert sorted(ids) == sorted(models["ids"])
    assert "next_page_token" not in second


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "mlflow/logged-models", {}, (400, "INVALID_PARAMETER_VALUE")),
        (
            "POST",
            "mlflow/logged-models",
            {"experiment_id": "0", "name": "a/b"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        ("GET", "mlflow/logged-models/m-0000", None, (404, "RESOURCE_DOES_NOT_EXIST")),
        ("GET", "mlflow/logged-models/../../etc", None, (404, "ENDPOINT_NOT_FOUND")),
        ("POST", "mlflow/logged-models/search", {}, (400, "INVALID_PARAMETER_VALUE")),
        (
            "POST",
            "mlflow/logged-models/search",
            {"experiment_ids": ["0"], "filter": "metrics.auc > 'x'"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/logged-models/search",
            {"experiment_ids": ["0"], "order_by": [{"field_name": "params.depth"}]},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/logged-models/search",
            {"experiment_ids": ["0"], "datasets": [{"dataset_digest": "x"}]},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        ("POST", "mlflow/registered-models/create", {"name": ""}, (400, "INVALID_PARAMETER_VALUE")),
        (
            "POST",
            "mlflow/registered-models/create",
            {"name": "a/b"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        ("GET", "mlflow/registered-models/get", {"name": "nope"}, (404, "RESOURCE_DOES_NOT_EXIST")),
        (
            "GET",
            "mlflow/registered-models/search",
            {"max_results": "1001"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "GET",
            "mlflow/registered-models/search",
            {"filter": "tags.x IS NULL"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "GET",
            "mlflow/registered-models/search",
            {"order_by": ["name", "name DESC"]},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "GET",
            "mlflow/model-versions/get",
            {"name": "churn", "version": "x"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "GET",
            "mlflow/model-versions/get",
            {"name": "churn", "version": "9"},
            (404, "RESOURCE_DOES_NOT_EXIST"),
        ),
        (
            "GET",
            "mlflow/model-versions/search",
            {"filter": "version_number = 1.5"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/registered-models/alias",
            {"name": "churn", "alias": "latest", "version": "1"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/registered-models/alias",
            {"name": "churn", "alias": "v2", "version": "1"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/registered-models/alias",
            {"name": "churn", "alias": "a b", "version": "1"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "GET",
            "mlflow/registered-models/alias",
            {"name": "churn", "alias": "missing"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
        (
            "POST",
            "mlflow/model-versions/transition-stage",
            {"name": "churn", "version": "1", "stage": "Live"},
            (400, "INVALID_PARAMETER_VALUE"),
        ),
    ],
)
def test_refusals_use_mlflows_codes(mlflow, models, method, path, body, expected):
    manager = mlflow.world.users[Role.MANAGER]
    registered = services.registered_model_create(
        project=mlflow.world.project, name="churn", by=manager
    )
    run = models["run"]
    services.model_version_create(
        registered_model=registered,
        by=manager,
        source=run.artifact_uri,
        storage_location=run.artifact_uri,
        run=run,
    )
    assert error(mlflow(method, path, body)) == expected


def test_an_existing_name_is_resource_already_exists(mlflow):
    ok(mlflow("POST", "mlflow/registered-models/create", {"name": "churn"}))
    assert error(mlflow("POST", "mlflow/registered-models/create", {"name": "churn"})) == (
        400,
        "RESOURCE_ALREADY_EXISTS",
    )


def test_the_registry_lifecycle(mlflow, models):
    model_id = models["ids"][1]
    created = ok(
        mlflow(
            "POST",
            "mlflow/registered-models/create",
            {"name": "churn", "description": "d", "tags": [{"key": "team", "value": "g"}]},
        )
    )["registered_model"]
    assert (created["name"], created["description"], created["tags"]) == (
        "churn",
        "d",
        [{"key": "team", "value": "g"}],
    )
    for _ in range(2):
        ok(
            mlflow(
                "POST",
                "mlflow/model-versions/create",
                {"name": "churn", "source": f"models:/{model_id}"},
            )
        )
    ok(
        mlflow(
            "POST",
            "mlflow/model-versions/transition-stage",
            {"name": "churn", "version": "1", "stage": "Staging"},
        )
    )
    ok(
        mlflow(
            "POST",
            "mlflow/registered-models/alias",
            {"name": "churn", "alias": "champion", "version": "2"},
        )
    )
    got = ok(mlflow("GET", "mlflow/registered-models/get", {"name": "churn"}))["registered_model"]
    assert [(v["version"], v["current_stage"]) for v in got["latest_versions"]] == [
        ("1", "Staging"),
        ("2", "None"),
    ]
    assert got["aliases"] == [{"alias": "champion", "version": "2"}]
    latest = ok(
        mlflow(
            "POST",
            "mlflow/registered-models/get-latest-versions",
            {"name": "churn", "stages": ["staging"]},
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == ["1"]
    by_alias = ok(
        mlflow("GET", "mlflow/registered-models/alias", {"name": "churn", "alias": "champion"})
    )
    assert (by_alias["model_version"]["version"], by_alias["model_version"]["aliases"]) == (
        "2",
        ["champion"],
    )
    newest = ok(
        mlflow("GET", "mlflow/registered-models/alias", {"name": "churn", "alias": "latest"})
    )
    assert newest["model_version"]["version"] == "2"

    renamed = ok(
        mlflow(
            "POST", "mlflow/registered-models/rename", {"name": "churn", "new_name": "retention"}
        )
    )
    assert renamed["registered_model"]["name"] == "retention"
    found = ok(
        mlflow(
            "GET",
            "mlflow/model-versions/search",
            {"filter": "name = 'retention' AND version_number >= 2"},
        )
    )
    assert [v["version"] for v in found["model_versions"]] == ["2"]
    by_run = ok(
        mlflow(
            "GET", "mlflow/model-versions/search", {"filter": f"run_id = '{models['run'].run_id}'"}
        )
    )
    assert sorted(v["version"] for v in by_run["model_versions"]) == ["1", "2"]
    ok(
        mlflow(
            "POST",
            "mlflow/model-versions/set-tag",
            {"name": "retention", "version": "1", "key": "k", "value": "v"},
        )
    )
    tagged = ok(mlflow("GET", "mlflow/model-versions/search", {"filter": "tags.k = 'v'"}))
    assert [v["version"] for v in tagged["model_versions"]] == ["1"]
    ok(mlflow("DELETE", "mlflow/registered-models/delete", {"name": "retention"}))
    assert error(mlflow("GET", "mlflow/registered-models/get", {"name": "retention"})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_prompts_stay_out_of_model_searches_unless_asked_for(mlflow):
    ok(mlflow("POST", "mlflow/registered-models/create", {"name": "model"}))
    prompt_tag = [{"key": "mlflow.prompt.is_prompt", "value": "true"}]
    ok(mlflow("POST", "mlflow/registered-models/create", {"name": "prompt", "tags": prompt_tag}))
    client_filter = "tag.`mlflow.prompt.is_prompt` != 'true'"
    models = ok(mlflow("GET", "mlflow/registered-models/search", {"filter": client_filter}))
    assert [m["name"] for m in models["registered_models"]] == ["model"]
    prompts = ok(
        mlflow(
            "GET",
            "mlflow/registered-models/search",
            {"filter": "tags.`mlflow.prompt.is_prompt` = 'true'"},
        )
    )
    assert [m["name"] for m in prompts["registered_models"]] == ["prompt"]


def test_registered_model_search_orders_and_pages(mlflow):
    for name in ("b", "a", "c"):
        ok(mlflow("POST", "mlflow/registered-models/create", {"name": name}))
    names = []
    token = None
    while True:
        query = {"max_results": "2", "order_by": ["name DESC"]} | (
            {"page_token": token} if token else {}
        )
        page = ok(mlflow("GET", "mlflow/registered-models/search", query))
        names += [m["name"] for m in page["registered_models"]]
        if not (token := page.get("next_page_token")):
            break
    assert names == ["c", "b", "a"]
    like = ok(mlflow("GET", "mlflow/registered-models/search", {"filter": "name ILIKE 'A%'"}))
    assert [m["name"] for m in like["registered_models"]] == ["a"]


def test_model_metrics_in_a_batch_must_name_a_model_of_the_project(mlflow, models):
    run = models["run"]
    metric = {"key": "auc", "value": 0.5, "timestamp": 2, "model_id": "m-" + "1" * 32}
    response = mlflow("POST", "mlflow/runs/log-batch", {"run_id": run.run_id, "metrics": [metric]})
    assert error(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert run.metric_series.get(key="auc").latest_timestamp == 1  # nothing of it was written
    bad = {"key": "auc", "value": 0.5, "timestamp": 2, "model_id": 7}
    response = mlflow("POST", "mlflow/runs/log-batch", {"run_id": run.run_id, "metrics": [bad]})
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")


def test_runs_show_the_models_they_produced_and_used(mlflow, models):
    run = models["run"]
    made, used = models["ids"][0], models["ids"][1]
    ok(
        mlflow(
            "POST",
            "mlflow/runs/outputs",
            {"run_id": run.run_id, "models": [{"model_id": made, "step": 4}]},
        )
    )
    ok(
        mlflow(
            "POST", "mlflow/runs/log-inputs", {"run_id": run.run_id, "models": [{"model_id": used}]}
        )
    )
    body = ok(mlflow("GET", "mlflow/runs/get", {"run_id": run.run_id}))["run"]
    assert body["outputs"] == {"model_outputs": [{"model_id": made, "step": 4}]}
    assert body["inputs"]["model_inputs"] == [{"model_id": used}]
    searched = ok(
        mlflow("POST", "mlflow/runs/search", {"experiment_ids": [str(models["experiment"].pk)]})
    )
    assert searched["runs"][0]["outputs"] == body["outputs"]


IDENTIFIERS = st.sampled_from(
    ["name", "metrics.auc", "params.depth", "tags.team", "model_id", "status", "`x`", "attr.q"]
)
TOKENS = st.one_of(
    IDENTIFIERS,
    st.sampled_from(
        ["=", "!=", ">", "LIKE", "IN", "AND", "OR", "(", ")", ",", "'a'", "1.5", "NULL"]
    ),
    st.text(max_size=8),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(TOKENS, max_size=8).map(" ".join),
    st.sampled_from(["models", "registered", "versions"]),
)
def test_hostile_filters_never_crash_a_search(mlflow, unthrottled, text, where):
    if where == "models":
        response = mlflow(
            "POST", "mlflow/logged-models/search", {"experiment_ids": ["0"], "filter": text}
        )
    elif where == "registered":
        response = mlflow("GET", "mlflow/registered-models/search", {"filter": text})
    else:
        response = mlflow("GET", "mlflow/model-versions/search", {"filter": text})
    assert response.status_code in (200, 400), (text, response.content)
    if response.status_code == 400:
        assert error(response) == (400, "INVALID_PARAMETER_VALUE")
    else:
        json.dumps(response.json())

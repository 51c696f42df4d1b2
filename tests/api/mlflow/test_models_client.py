"""The issue's promise for models: an unmodified mlflow client, in a training script given
only a project's tracking URI and a token, logs a scikit-learn model with an input example
and a signature, loads it back, registers two versions, sets an alias and loads the model
by it, searches, and deletes; what it did is then read back through our own data.

The models are tiny (a logistic regression on twenty rows): the test is about the protocol,
not the training, and has to stay quick in CI."""

import textwrap

import pytest

from api.services import token_create
from experiments.models import Run
from registry.choices import DeploymentKind, LoggedModelStatus
from registry.models import DeploymentEvent, LoggedModel, ModelAlias, ModelVersion, RegisteredModel
from tests.api.mlflow.test_client import run_script
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TRAINING = textwrap.dedent(
    """
    import json, warnings
    warnings.filterwarnings("ignore")
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]] * 5)
    y = np.array([0, 1, 0, 1] * 5)
    client = MlflowClient()

    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="logreg") as run:
        model = LogisticRegression(C=0.5, max_iter=100).fit(X, y)
        mlflow.log_params({"C": 0.5, "max_iter": 100})
        mlflow.log_metric("accuracy", float(model.score(X, y)))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=X[:2],
            signature=infer_signature(X, model.predict(X)),
        )
    with mlflow.start_run(run_name="stronger") as second:
        stronger = LogisticRegression(C=5.0, max_iter=100).fit(X, y)
        mlflow.log_metric("accuracy", float(stronger.score(X, y)))
        second_info = mlflow.sklearn.log_model(stronger, name="model", input_example=X[:2])

    loaded = mlflow.sklearn.load_model(info.model_uri)
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    first = mlflow.register_model(info.model_uri, "churn-classifier")
    version_two = mlflow.register_model(f"runs:/{second.info.run_id}/model", "churn-classifier")
    client.set_registered_model_alias("churn-classifier", "champion", version_two.version)
    by_alias = mlflow.pyfunc.load_model("models:/churn-classifier@champion")
    champion = client.get_model_version_by_alias("churn-classifier", "champion")

    logged = mlflow.search_logged_models(
        filter_string="name = 'model'",
        order_by=[{"field_name": "creation_timestamp", "ascending": True}],
        output_format="list",
    )
    registered = mlflow.search_registered_models(filter_string="name LIKE 'churn%'")
    versions = client.search_model_versions("name = 'churn-classifier'")

    client.delete_model_version("churn-classifier", first.version)
    client.delete_logged_model(info.model_id)
    after = mlflow.search_logged_models(output_format="list")

    print(json.dumps({
        "model_id": info.model_id,
        "second_model_id": second_info.model_id,
        "run_id": run.info.run_id,
        "second_run_id": second.info.run_id,
        "signature": info.signature.to_dict() if info.signature else None,
        "sklearn": loaded.predict(X[:4]).tolist(),
        "pyfunc": pyfunc.predict(X[:4]).tolist(),
        "by_alias": by_alias.predict(X[:4]).tolist(),
        "by_alias_id": by_alias.metadata.model_id,
        "versions_registered": [first.version, version_two.version],
        "champion": [champion.version, list(champion.aliases)],
        "logged": [m.model_id for m in logged],
        "registered": [m.name for m in registered],
        "latest": [[v.version, v.current_stage] for v in registered[0].latest_versions],
        "searched": sorted([v.version, list(v.aliases)] for v in versions),
        "after_delete": [m.model_id for m in after],
    }))
    """
)


def test_a_training_script_logs_registers_and_loads_models(
    live_server, monkeypatch, settings, tmp_path
):
    settings.MLPROJECTS_ARTIFACT_ROOT = artifact_root = tmp_path / "artifacts"
    owner = UserFactory()
    project = make_project(owner=owner, name="Churn", success_metric="accuracy")
    _, secret = token_create(user=owner, name="training")

    out = run_script(
        TRAINING, monkeypatch, uri=f"{live_server.url}/projects/{project.slug}", token=secret
    )

    # The model the run logged: its metadata, its run, its artifacts on disk.
    model = LoggedModel.objects.select_related("source_run", "experiment").get(
        model_id=out["model_id"]
    )
    run = Run.objects.get(run_id=out["run_id"])
    assert (model.name, model.source_run, model.experiment.project) == ("model", run, project)
    assert model.status == LoggedModelStatus.READY
    assert model.lifecycle_stage == "deleted"  # the script deleted it at the end
    assert {p.key: p.value for p in model.params.all()} == {"C": "0.5", "max_iter": "100"}
    assert list(model.metrics.values_list("key", "run__run_id")) == [("accuracy", run.run_id)]
    assert run.model_links.get().model == model
    folder = artifact_root / str(project.pk) / str(model.experiment_id) / "models" / model.model_id
    stored = sorted(p.name for p in (folder / "artifacts").iterdir())
    assert {"MLmodel", "input_example.json", "serving_input_example.json"} <= set(stored)
    assert any(name.startswith("model.") for name in stored)
    assert "signature" in (folder / "artifacts" / "MLmodel").read_text()
    assert out["signature"]["inputs"]

    # Loading it back predicts as the trained model does, through both flavors.
    assert out["sklearn"] == out["pyfunc"] == [0, 1, 0, 1]

    # Two versions of one registered model in the project; the second, registered from
    # a runs:/ URI, resolved to the second run's logged model.
    registered = RegisteredModel.objects.get(project=project, name="churn-classifier")
    assert out["versions_registered"] == ["1", "2"]
    second = ModelVersion.objects.select_related("logged_model", "run").get(
        registered_model=registered, version=2
    )
    assert second.logged_model.model_id == out["second_model_id"]
    assert second.run.run_id == out["second_run_id"]
    assert out["by_alias"] == [0, 1, 0, 1]
    assert out["by_alias_id"] == out["second_model_id"]
    assert out["champion"] == ["2", ["champion"]]
    assert ModelAlias.objects.get(registered_model=registered, alias="champion").model_version == (
        second
    )

    # The alias it set is the project's production alias: a recorded deployment.
    event = DeploymentEvent.objects.get(project=project)
    assert (event.kind, event.model_version, event.version, event.run) == (
        DeploymentKind.PROMOTED,
        second,
        2,
        second.run,
    )
    assert event.by == owner
    assert event.metrics == {"accuracy": 1.0}

    # Searches answered as the client expects.
    assert set(out["logged"]) == {out["model_id"], out["second_model_id"]}
    assert out["registered"] == ["churn-classifier"]
    assert out["latest"] == [["2", "None"]]
    assert out["searched"] == [["1", []], ["2", ["champion"]]]

    # And the deletes: version 1 is gone, the deleted logged model left the searches.
    assert list(registered.versions.values_list("version", flat=True)) == [2]
    assert out["after_delete"] == [out["second_model_id"]]

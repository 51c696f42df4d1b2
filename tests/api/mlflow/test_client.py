"""The issue's promise: an unmodified mlflow client, given only a tracking URI and a token,
logs a small training run here, and the data lands in the project's experiments.

Each script runs in its own process, as a training job would, against the live server."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from api.services import token_create
from experiments import selectors
from experiments.models import Experiment, Run
from tests.experiments.helpers import stored_points
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TRAINING = textwrap.dedent(
    """
    import json, os, tempfile
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_experiment("churn-xgb")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("learning_rate", 0.1)
        mlflow.log_params({"max_depth": 6, "model": "xgboost"})
        for epoch in range(10):
            mlflow.log_metric("val_loss", 1.0 / (epoch + 1), step=epoch)
            mlflow.log_metrics(
                {"train_loss": 2.0 / (epoch + 1), "val_auc": 0.5 + epoch * 0.04}, step=epoch
            )
        mlflow.set_tag("team", "growth")
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.txt")
            with open(path, "w") as handle:
                handle.write("weights")
            mlflow.log_artifact(path)
            mlflow.log_artifact(path, artifact_path="checkpoints")
    with mlflow.start_run(run_name="worse"):
        mlflow.log_param("model", "logreg")
        mlflow.log_metric("val_auc", 0.61)

    client = MlflowClient()
    run_id = run.info.run_id
    found = mlflow.search_runs(
        filter_string="metrics.val_auc > 0.6 and params.model = 'xgboost'",
        order_by=["metrics.val_auc DESC"],
        output_format="list",
    )
    ranked = mlflow.search_runs(order_by=["metrics.val_auc DESC"], output_format="list")
    downloaded = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model.txt")
    print(json.dumps({
        "version": mlflow.__version__,
        "run_id": run_id,
        "experiment_id": run.info.experiment_id,
        "status": client.get_run(run_id).info.status,
        "history": [[m.step, m.value] for m in client.get_metric_history(run_id, "val_loss")],
        "found": [r.info.run_id for r in found],
        "ranked": [r.info.run_name for r in ranked],
        "artifacts": sorted(f.path for f in client.list_artifacts(run_id)),
        "checkpoints": sorted(f.path for f in client.list_artifacts(run_id, "checkpoints")),
        "downloaded": open(downloaded).read(),
    }))
    """
)

NO_EXPERIMENT = textwrap.dedent(
    """
    import json
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.75)
    print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}))
    """
)


@pytest.fixture
def artifact_root(settings, tmp_path):
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    return settings.MLPROJECTS_ARTIFACT_ROOT


def run_script(script: str, monkeypatch, *, uri: str, token: str) -> dict:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    # Fail fast: a refused request should fail the test, not be retried for minutes.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_training_script_logs_through_the_projects_tracking_uri(
    live_server, monkeypatch, artifact_root
):
    owner = UserFactory()
    project = make_project(owner=owner, name="Churn model")
    _, secret = token_create(user=owner, name="training")

    out = run_script(
        TRAINING, monkeypatch, uri=f"{live_server.url}/projects/{project.slug}", token=secret
    )

    assert out["version"].startswith("3.")
    run = selectors.with_run_data(Run.objects.filter(run_id=out["run_id"])).get()
    experiment = run.experiment
    assert (experiment.project, experiment.name, out["experiment_id"]) == (
        project,
        "churn-xgb",
        str(experiment.pk),
    )
    assert (run.name, run.status, run.user_id, run.created_by) == (
        "baseline",
        "FINISHED",
        owner.username,
        owner,
    )
    assert run.end_time is not None and run.end_time >= run.start_time
    assert {p.key: p.value for p in run.params.all()} == {
        "learning_rate": "0.1",
        "max_depth": "6",
        "model": "xgboost",
    }
    tags = {t.key: t.value for t in run.tags.all()}
    assert tags["team"] == "growth"
    assert tags["mlflow.runName"] == "baseline"
    latest = {s.key: (s.latest_step, s.latest_value) for s in run.metric_series.all()}
    assert latest == {"val_loss": (9, 0.1), "train_loss": (9, 0.2), "val_auc": (9, 0.5 + 9 * 0.04)}
    assert stored_points(run) == 30

    assert out["history"] == [[step, 1.0 / (step + 1)] for step in range(10)]
    assert out["found"] == [run.run_id]
    assert out["ranked"] == ["baseline", "worse"]
    assert out["artifacts"] == ["checkpoints", "model.txt"]
    assert out["checkpoints"] == ["checkpoints/model.txt"]
    assert out["downloaded"] == "weights"
    folder = artifact_root / str(project.pk) / str(experiment.pk) / run.run_id / "artifacts"
    assert (folder / "model.txt").read_text() == "weights"
    assert (folder / "checkpoints" / "model.txt").read_text() == "weights"
    assert run.artifact_uri == f"mlflow-artifacts:/{experiment.pk}/{run.run_id}/artifacts"


def test_a_run_without_an_experiment_lands_in_the_projects_default_experiment(
    live_server, monkeypatch, artifact_root
):
    owner = UserFactory()
    project = make_project(owner=owner, name="Fraud")
    other = make_project(owner=owner, name="Other")
    _, secret = token_create(user=owner, name="training")

    out = run_script(
        NO_EXPERIMENT, monkeypatch, uri=f"{live_server.url}/projects/{project.slug}", token=secret
    )

    run = Run.objects.select_related("experiment").get(run_id=out["run_id"])
    assert out["experiment_id"] == "0"
    assert (run.experiment.project, run.experiment.name, run.experiment.is_default) == (
        project,
        "Default",
        True,
    )
    assert not Experiment.objects.filter(project=other).exists()


def test_at_the_root_a_project_bound_token_addresses_its_project(
    live_server, monkeypatch, artifact_root
):
    owner = UserFactory()
    make_project(owner=owner, name="Elsewhere")
    project = make_project(owner=owner, name="Bound")
    _, secret = token_create(user=owner, name="ci", project=project)

    out = run_script(NO_EXPERIMENT, monkeypatch, uri=live_server.url, token=secret)

    run = Run.objects.select_related("experiment").get(run_id=out["run_id"])
    assert (run.experiment.project, run.experiment.is_default) == (project, True)


AUTOLOGGED = textwrap.dedent(
    """
    import json
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    mlflow.set_experiment("notebook")
    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    features, labels = load_iris(return_X_y=True)
    with mlflow.start_run(run_name="rf-notebook") as run:
        RandomForestClassifier(n_estimators=60, max_depth=5, random_state=0).fit(features, labels)
    print(json.dumps({"run_id": run.info.run_id}))
    """
)


def test_a_run_autologged_by_the_client_prefills_a_sweep_of_its_estimator(
    live_server, monkeypatch, artifact_root
):
    """What MLflow's scikit-learn autologging sends (every param as text, the estimator's
    class as tags) is enough to search around the run: the retraining form's prefill."""
    owner = UserFactory()
    project = make_project(owner=owner, name="Notebook")
    _, secret = token_create(user=owner, name="notebook")

    out = run_script(
        AUTOLOGGED, monkeypatch, uri=f"{live_server.url}/projects/{project.slug}", token=secret
    )

    run = Run.objects.get(run_id=out["run_id"])
    spec = selectors.sweep_spec_from_run(run)
    assert (spec["task"], spec["families"]) == ("classification", ["random_forest"])
    space = spec["space"]["random_forest"]
    assert space["n_estimators"] == {"type": "int", "low": 20, "high": 180}
    assert space["max_depth"] == {"type": "int", "low": 1, "high": 15}

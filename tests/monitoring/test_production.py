"""Deployments follow the registry's production alias; production batches and labels are
checked against the reference and stored whole, once, or not at all."""

import datetime as dt
import json

import numpy as np
import pytest
from django.utils import timezone

from experiments import services as experiments
from experiments.services import DatasetIn
from mlprojects.exceptions import DomainError
from monitoring import ingest, reference, services
from monitoring.choices import ColumnKind, ColumnRole, MonitorKind, ReferenceSource
from monitoring.models import Batch, Deployment, Monitor, Record
from registry import services as registry
from tests.factories import make_project
from tests.monitoring.conftest import production_columns, reference_columns

pytestmark = pytest.mark.django_db


@pytest.fixture
def artifacts(settings, tmp_path):
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    return settings.MLPROJECTS_ARTIFACT_ROOT


def trained_version(project, *, training_csv: str | None = None, declared: str | None = None):
    experiment = experiments.experiment_create(project=project, name="churn", by=project.owner)
    run = experiments.run_create(experiment=experiment, by=project.owner, name="train")
    run = type(run).objects.select_related("experiment").get(pk=run.pk)
    folder = reference.run_folder(run)
    folder.mkdir(parents=True)
    if training_csv is not None:
        (folder / (declared or "training_data.csv")).parent.mkdir(parents=True, exist_ok=True)
        (folder / (declared or "training_data.csv")).write_text(training_csv)
    if declared is not None:
        experiments.log_inputs(
            run=run,
            by=project.owner,
            datasets=[
                DatasetIn(
                    name="train",
                    digest="abc123",
                    source_type="local",
                    source=json.dumps({"uri": declared}),
                    tags=[("mlflow.data.context", "train")],
                )
            ],
        )
    model = registry.registered_model_create(project=project, name="churn", by=project.owner)
    return registry.model_version_create(
        registered_model=model,
        by=project.owner,
        source=f"runs:/{run.run_id}/model",
        storage_location=f"mlflow-artifacts:/{experiment.pk}/{run.run_id}/artifacts/model",
        run=run,
    )


def training_csv(rows: int = 1500) -> str:
    columns = reference_columns(np.random.default_rng(1), rows)
    columns["prediction"] = columns.pop("score")
    names = list(columns)
    lines = [",".join(names)]
    lines += [",".join(str(columns[n][i]) for n in names) for i in range(rows)]
    return "\n".join(lines) + "\n"


def test_the_version_at_the_production_alias_is_the_deployment(artifacts):
    project = make_project(success_metric="auc", success_target=0.7)
    version = trained_version(project, training_csv=training_csv())
    registry.alias_set(version=version, alias="champion", by=project.owner)

    deployment = Deployment.objects.get(project=project)
    assert deployment.is_current and deployment.model_version == version
    assert deployment.event.version == 1 and deployment.name == "churn v1"
    assert deployment.reference_source == ReferenceSource.TRAINING_RUN
    assert deployment.reference_rows == 1500
    roles = dict(deployment.reference_columns.values_list("name", "role"))
    assert roles == {
        "x": ColumnRole.FEATURE,
        "y": ColumnRole.FEATURE,
        "colour": ColumnRole.FEATURE,
        "label": ColumnRole.LABEL,
        "prediction": ColumnRole.PREDICTION,
    }
    kinds = dict(deployment.reference_columns.values_list("name", "kind"))
    assert kinds["x"] == ColumnKind.NUMERIC and kinds["colour"] == ColumnKind.CATEGORICAL
    monitors = Monitor.objects.filter(project=project)
    assert {m.kind for m in monitors} == set(MonitorKind.values)

    second = registry.model_version_create(
        registered_model=version.registered_model,
        by=project.owner,
        source=version.source,
        storage_location=version.storage_location,
    )
    registry.alias_set(version=second, alias="staging", by=project.owner)
    assert Deployment.objects.filter(project=project).count() == 1  # not the production alias
    registry.alias_set(version=second, alias="champion", by=project.owner)
    old, new = Deployment.objects.filter(project=project).order_by("started_at")
    assert old.ended_at == new.started_at and new.model_version == second
    assert new.reference_rows == 0  # version 2 has no run: its reference is uploaded
    assert {m.deployment_id for m in monitors.exclude(kind=MonitorKind.HEALTH)} == {new.pk}

    registry.alias_delete(registered_model=version.registered_model, alias="champion", by=None)
    new.refresh_from_db()
    assert new.ended_at is not None
    assert not Monitor.objects.filter(project=project, deployment__isnull=False).exists()


def test_the_training_data_a_run_declares_is_found_inside_its_artifacts_only(artifacts):
    project = make_project()
    version = trained_version(project, training_csv=training_csv(200), declared="data/fit.csv")
    registry.alias_set(version=version, alias="champion", by=project.owner)
    assert Deployment.objects.get(project=project).reference_rows == 200

    outside = artifacts / "secret.csv"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text(training_csv(50))
    other = make_project()
    escaping = trained_version(other, declared="../../../../secret.csv")
    run = type(escaping.run).objects.select_related("experiment").get(pk=escaping.run_id)
    assert reference.training_file(run) is None
    registry.alias_set(version=escaping, alias="champion", by=other.owner)
    assert Deployment.objects.get(project=other).reference_rows == 0


def declare_training_input(run, uri: str) -> None:
    dataset = DatasetIn(
        name="train",
        digest="abc123",
        source_type="http",
        source=json.dumps({"uri": uri}),
        tags=[("mlflow.data.context", "train")],
    )
    experiments.log_inputs(run=run, by=None, datasets=[dataset])


@pytest.mark.parametrize(("run_id_form", "found"), [(str, True), (str.upper, False)])
def test_a_training_input_names_its_file_by_the_runs_artifact_uri(artifacts, run_id_form, found):
    """The URI's run id has MLflow's form (``experiments.validation.RUN_ID``) or the URI is
    not the run's; the file is at no conventional name, so only the URI can find it."""
    version = trained_version(make_project())
    run = type(version.run).objects.select_related("experiment").get(pk=version.run_id)
    fit = reference.run_folder(run) / "data" / "fit.csv"
    fit.parent.mkdir()
    fit.write_text(training_csv(120))
    uri = f"mlflow-artifacts:/{run.experiment_id}/{run_id_form(run.run_id)}/artifacts/data/fit.csv"
    declare_training_input(run, uri)
    assert reference.training_file(run) == (fit.resolve() if found else None)


def test_a_reference_is_uploaded_with_its_roles(production):
    columns = production.deployment.reference_columns.order_by("position")
    assert [c.name for c in columns] == ["x", "y", "colour", "score", "label"]
    x = columns[0]
    assert x.stats["n"] == 2000 and len(x.sample) == 2000 * 8
    with pytest.raises(DomainError) as refused:
        services.reference_set(
            deployment=production.deployment, columns={"x": [1, 2], "y": [1]}, by=None
        )
    assert refused.value.fields == {"columns": ["every column must have the same number of rows"]}
    with pytest.raises(DomainError, match="row_id"):
        services.reference_set(
            deployment=production.deployment, columns={"row_id": [1], "x": [2]}, by=None
        )
    assert production.deployment.reference_columns.count() == 5  # the refusals changed nothing


def rows(n: int = 3, **overrides) -> dict:
    columns = production_columns(np.random.default_rng(5), n)
    columns.pop("label")
    columns.update(overrides)
    return columns


@pytest.mark.parametrize(
    ("columns", "field", "words"),
    [
        (rows(extra=[1, 2, 3]), "extra", "not a column of the reference"),
        ({k: v for k, v in rows().items() if k != "y"}, "y", "must have this column"),
        ({k: v for k, v in rows().items() if k != "row_id"}, "row_id", "needs a row id"),
        (rows(row_id=["a", "a", "b"]), "row_id", "“a” appears more than once"),
        (rows(row_id=["a", "", "b"]), "row_id", "row 2"),
        (rows(x=[1.0, 2.0]), "x", "has 2 values where row_id has 3"),
        (rows(colour=["red", ["blue"], "red"]), "colour", "row 2: must be a single value"),
        (rows(0), "row_id", "no rows"),
    ],
)
def test_a_batch_that_does_not_fit_is_refused_and_stored_nowhere(production, columns, field, words):
    with pytest.raises(DomainError) as refused:
        services.batch_add(deployment=production.deployment, columns=columns, by=None)
    assert field in refused.value.fields
    assert words in refused.value.message
    assert not Batch.objects.exists() and not Record.objects.exists()


def test_too_many_rows_are_refused(production, settings):
    settings.MONITORING_MAX_BATCH_ROWS = 2
    with pytest.raises(DomainError, match="at most 2 rows"):
        services.batch_add(deployment=production.deployment, columns=rows(3), by=None)


def test_a_batch_sent_twice_is_stored_once_whatever_its_format(production):
    columns = rows(4)
    first, created = services.batch_add(deployment=production.deployment, columns=columns, by=None)
    assert created and first.rows == 4
    names = list(columns)
    csv = (
        ",".join(names)
        + "\n"
        + "\n".join(",".join(str(columns[n][i]) for n in names) for i in range(4))
    )
    again = ingest.parse(csv.encode(), "text/csv")
    second, created = services.batch_add(
        deployment=production.deployment, columns=again.columns, by=None
    )
    assert not created and second.pk == first.pk
    assert Batch.objects.count() == 1 and Record.objects.count() == 4
    overlapping = rows(4)
    overlapping["x"] = [0.0] * 4  # other values, but rows already stored
    with pytest.raises(DomainError, match="already stored"):
        services.batch_add(deployment=production.deployment, columns=overlapping, by=None)


def test_values_of_the_wrong_type_are_kept_as_missing_and_counted(production):
    batch, _ = services.batch_add(
        deployment=production.deployment,
        columns=rows(3, x=["1.5", "abc", True], score=["0.25", None, "nope"]),
        by=None,
    )
    assert batch.type_errors == {"x": 2, "score": 1}
    assert list(batch.records.order_by("row_id").values_list("prediction", flat=True)) == [
        0.25,
        None,
        None,
    ]


def test_labels_join_by_row_id_all_or_nothing(production):
    services.batch_add(deployment=production.deployment, columns=rows(3), by=None)
    with pytest.raises(DomainError, match="not a stored row"):
        services.labels_add(deployment=production.deployment, labels={"r0": 1, "nope": 0}, by=None)
    assert not Record.objects.filter(label__isnull=False).exists()
    assert services.labels_add(
        deployment=production.deployment, labels={"r0": "1", "r1": 0}, by=None
    ) == {"labelled": 2, "unchanged": 0}
    assert services.labels_add(deployment=production.deployment, labels={"r0": 1}, by=None) == {
        "labelled": 0,
        "unchanged": 1,
    }
    with pytest.raises(DomainError, match="already has the label"):
        services.labels_add(deployment=production.deployment, labels={"r1": 1}, by=None)
    assert Record.objects.get(row_id="r0").label == 1.0  # CSV's "1" as the number it is
    with pytest.raises(DomainError, match="must be a number"):
        services.labels_add(deployment=production.deployment, labels={"r2": "yes"}, by=None)


def test_batches_go_to_the_current_deployment_only(production):
    services.deployment_start(
        project=production.project, name="v2", by=None, now=timezone.now() + dt.timedelta(0)
    )
    production.deployment.refresh_from_db()
    with pytest.raises(DomainError, match="ended"):
        services.batch_add(deployment=production.deployment, columns=rows(2), by=None)
    new = Deployment.objects.get(project=production.project, ended_at__isnull=True)
    with pytest.raises(DomainError, match="no reference data yet"):
        services.batch_add(deployment=new, columns=rows(2), by=None)


def test_a_retraining_sweep_starts_from_the_deployed_run_and_the_newer_data(artifacts):
    from monitoring.selectors import retraining_plan

    project = make_project()
    version = trained_version(project, training_csv=training_csv(300))
    experiments.log_batch(run=version.run, by=project.owner, params=[("max_depth", "6")])
    registry.alias_set(version=version, alias="champion", by=project.owner)
    deployment = Deployment.objects.get(project=project)
    columns = production_columns(np.random.default_rng(9), 50)
    columns["prediction"] = columns.pop("score")
    services.batch_add(deployment=deployment, columns=columns, by=None)
    plan = retraining_plan(deployment=deployment)
    assert plan.run_id == version.run.run_id
    assert plan.params == {"max_depth": "6"}
    assert (plan.rows, plan.labelled_rows) == (50, 50)
    assert plan.data_from == deployment.started_at and plan.data_to is not None

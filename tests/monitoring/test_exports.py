"""Production's labelled rows exported as a dataset: the feature columns of the batches
joined with the labels posted later by row id, unlabelled rows left out, a row id taken
once, the reference's schema, the origin recorded; refused whole, with nothing written,
when there are too few labelled rows."""

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from experiments.choices import DatasetSource
from experiments.models import Dataset
from mlprojects.exceptions import DomainError
from monitoring import services
from monitoring.models import Deployment
from monitoring.selectors import label_counts, production_dataset_current
from registry import services as registry
from tests.factories import make_project
from tests.monitoring.conftest import day, production_columns
from tests.monitoring.test_production import trained_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.MONITORING_EXPORT_MIN_ROWS = 100
    return settings.EXPERIMENTS_DATASET_ROOT


def files_in(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def send(production, rows: int, *, at, prefix: str, labels: bool) -> dict:
    columns = production_columns(production.rng, rows, prefix=prefix)
    sent = dict(columns)
    if not labels:
        columns.pop("label")
    services.batch_add(deployment=production.deployment, columns=columns, by=None, observed_at=at)
    return sent


def read(dataset: Dataset) -> pd.DataFrame:
    with dataset.file.open("rb") as file:
        return pd.read_csv(io.BytesIO(file.read()))


def test_labelled_rows_are_joined_by_row_id_and_unlabelled_ones_left_out(production, storage):
    early = send(production, 300, at=day(-3), prefix="a", labels=True)
    later = send(production, 200, at=day(-2), prefix="b", labels=False)
    send(production, 100, at=day(-1), prefix="c", labels=False)
    # Labels of 50 of the second batch's rows arrive later, by row id.
    services.labels_add(
        deployment=production.deployment,
        labels={later["row_id"][i]: later["label"][i] for i in range(0, 100, 2)},
        by=None,
    )

    dataset = services.production_dataset_export(deployment=production.deployment, by=None)

    assert (dataset.source, dataset.rows) == (DatasetSource.PRODUCTION, 350)
    assert dataset.target == "label"
    assert dataset.columns == {"x": "numeric", "y": "numeric", "colour": "categorical"}
    assert dataset.task == "classification"
    frame = read(dataset)
    assert list(frame.columns) == ["x", "y", "colour", "label"]
    assert frame["x"][:300].tolist() == pytest.approx(early["x"])
    assert frame["colour"][:300].tolist() == early["colour"]
    assert frame["label"][:300].tolist() == early["label"]
    joined = frame[300:]
    assert joined["x"].tolist() == pytest.approx(later["x"][0:100:2])
    assert joined["label"].tolist() == later["label"][0:100:2]
    origin = dataset.origin
    assert origin["deployment"] == production.deployment.pk
    assert origin["deployment_name"] == "churn v1"
    assert (origin["batches"], origin["production_rows"]) == (2, 350)
    assert origin["unlabelled_rows_left_out"] == 150 + 100
    assert dt.datetime.fromisoformat(origin["window_from"]) == day(-3)
    assert dt.datetime.fromisoformat(origin["window_to"]) == day(-2)
    assert (origin["training_rows"], origin["duplicates_dropped"]) == (0, 0)
    assert origin["summary"].startswith("350 labelled production rows of churn v1, observed")
    assert len(files_in(storage)) == 1


def test_the_same_rows_twice_and_training_rows_of_a_known_row_id_are_taken_once(storage):
    project = make_project(success_metric="auc", success_target=0.7)
    rng = np.random.default_rng(5)
    training = production_columns(rng, 300, prefix="t")
    training["row_id"][:40] = [f"p{i}" for i in range(40)]  # rows production sends again
    training["row_id"][299] = training["row_id"][298]  # a repeat inside the training data
    training["prediction"] = training.pop("score")
    names = list(training)
    lines = [",".join(names)] + [",".join(str(training[n][i]) for n in names) for i in range(300)]
    version = trained_version(project, training_csv="\n".join(lines) + "\n")
    registry.alias_set(version=version, alias="champion", by=project.owner)
    deployment = Deployment.objects.get(project=project)
    production = production_columns(rng, 200, prefix="p")
    production["prediction"] = production.pop("score")
    for _ in range(2):  # sent twice, stored once
        services.batch_add(deployment=deployment, columns=production, by=None)

    dataset = services.production_dataset_export(deployment=deployment, by=None, with_training=True)

    assert dataset.rows == 200 + 300 - 40 - 1
    origin = dataset.origin
    assert (origin["production_rows"], origin["training_rows"]) == (200, 259)
    assert origin["duplicates_dropped"] == 41
    assert origin["training_source"] == f"training_data.csv of the run {version.run.run_id}"
    frame = read(dataset)
    assert list(frame.columns) == ["x", "y", "colour", "label"]
    # Production's version of a row sent in both: its values come first, once.
    assert frame["x"][:200].tolist() == pytest.approx(production["x"])
    assert frame["x"][200:].tolist() == pytest.approx(training["x"][40:299])


def test_too_few_labelled_rows_refuse_the_export_and_write_nothing(production, storage):
    send(production, 60, at=day(-2), prefix="a", labels=True)
    send(production, 500, at=day(-1), prefix="b", labels=False)

    with pytest.raises(DomainError) as refused:
        services.production_dataset_export(deployment=production.deployment, by=None)

    assert refused.value.code == "not_enough_labels"
    assert "60 labelled production row(s)" in refused.value.message
    assert "at least 100 (MONITORING_EXPORT_MIN_ROWS)" in refused.value.message
    assert refused.value.details == {"labelled_rows": 60, "min_rows": 100}
    assert not Dataset.objects.exists()
    assert files_in(storage) == []


def test_a_window_exports_the_batches_observed_in_it(production):
    send(production, 150, at=day(-3), prefix="a", labels=True)
    send(production, 120, at=day(-2), prefix="b", labels=True)
    since, until = day(-2) - dt.timedelta(hours=1), day(-1)

    dataset = services.production_dataset_export(
        deployment=production.deployment, by=None, since=since, until=until, name="  June  "
    )

    assert (dataset.name, dataset.rows, dataset.origin["batches"]) == ("June", 120, 1)
    assert dt.datetime.fromisoformat(dataset.origin["since"]) == since
    with pytest.raises(DomainError, match="until: must be after since"):
        services.production_dataset_export(
            deployment=production.deployment, by=None, since=until, until=since
        )
    with pytest.raises(DomainError, match="since: must name its time zone"):
        services.production_dataset_export(
            deployment=production.deployment,
            by=None,
            since=dt.datetime(2026, 1, 1),  # noqa: DTZ001 (the mistake)
        )


def test_without_a_reference_or_training_rows_the_export_says_why(production):
    bare = services.deployment_start(project=make_project(), name="v1", by=None)
    with pytest.raises(DomainError) as refused:
        services.production_dataset_export(deployment=bare, by=None)
    assert refused.value.code == "no_reference"

    send(production, 150, at=day(-1), prefix="a", labels=True)
    with pytest.raises(DomainError) as refused:
        services.production_dataset_export(
            deployment=production.deployment, by=None, with_training=True
        )
    assert refused.value.code == "no_training_data"
    assert "its version names no run on this server" in refused.value.message


def test_an_export_is_current_until_a_new_label_arrives(production):
    later = send(production, 150, at=day(-2), prefix="a", labels=False)
    services.labels_add(
        deployment=production.deployment,
        labels={later["row_id"][i]: later["label"][i] for i in range(120)},
        by=None,
    )
    first = services.production_dataset_export(deployment=production.deployment, by=None)
    assert production_dataset_current(deployment=production.deployment) == first
    windowed = services.production_dataset_export(
        deployment=production.deployment, by=None, until=timezone.now(), name="windowed"
    )
    assert production_dataset_current(deployment=production.deployment) == first != windowed

    services.labels_add(deployment=production.deployment, labels={later["row_id"][140]: 1}, by=None)
    assert production_dataset_current(deployment=production.deployment) is None
    again = services.production_dataset_export(deployment=production.deployment, by=None)
    assert again.rows == 121 and again.name == f"{first.name} (2)"
    assert label_counts(deployment=production.deployment)["unlabelled_rows"] == 29

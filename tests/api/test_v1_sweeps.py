"""Sweeps and datasets through ``/api/v1/``: start (202 and the sweep's URL), progress,
trials, cancel, resume, retry the failed, the best trial as evidence, dataset uploads that
name what is wrong, the retraining sweep of a deployment, and query counts that do not grow.

Trials run as a worker runs them (the ledger called directly); the queue itself is
exercised by the worker tests of ``tests/experiments/sweeps``.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiments.choices import SweepStatus, TrialStatus
from experiments.models import Dataset, Experiment, RunEvidence, Sweep, Trial
from phases import services as phases
from phases.choices import EvidenceRule, Role
from tests.api.test_permissions import (
    FOLD_TOO_SMALL,
    deploy_run,
    sweep_body,
    with_dataset,
    with_finished_sweep,
)
from tests.experiments.sweeps.conftest import run_all

pytestmark = pytest.mark.django_db

SWEEPS = reverse("v1:sweep-list")
DATASETS = reverse("v1:dataset-list")


@pytest.fixture(autouse=True)
def dataset_root(settings, tmp_path):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"


def detail(sweep, name: str = "sweep-detail") -> str:
    return reverse(f"v1:{name}", args=[sweep.pk])


def start(world, **changes):
    with_dataset(world)
    return world.client(Role.CONTRIBUTOR).post(
        SWEEPS, {**sweep_body(world), **changes}, format="json"
    )


def test_starting_a_sweep_answers_202_with_its_url_and_progress(world):
    response = start(world, max_trials=3)

    assert response.status_code == 202
    body = response.json()
    sweep = Sweep.objects.get(project=world.project)
    assert body["url"] == f"http://testserver{detail(sweep)}"
    assert response["Location"] == body["url"]
    assert body["progress_url"].endswith(detail(sweep, "sweep-progress"))
    assert (body["status"], body["trial_count"], body["queued_count"]) == ("queued", 3, 3)
    assert sweep.trials.count() == 3

    viewer = world.client(Role.VIEWER)
    progress = viewer.get(body["progress_url"]).json()
    assert (progress["total"], progress["done"], progress["queued"]) == (3, 0, 3)

    run_all(sweep)
    progress = viewer.get(body["progress_url"]).json()
    assert (progress["status"], progress["done"], progress["succeeded"]) == ("finished", 3, 3)
    trials = viewer.get(detail(sweep, "sweep-trials")).json()
    values = [t["value"] for t in trials]
    assert values == sorted(values, reverse=True)  # accuracy: best first
    assert progress["best_value"] == values[0] and progress["best_trial"] == trials[0]["number"]
    shown = viewer.get(detail(sweep)).json()
    assert shown["best_run_id"] == trials[0]["run_id"] and shown["best_value"] == values[0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"families": ["transformer"]}, "families"),
        ({"space": {}}, "space"),
        ({"metrics": ["rmse"]}, "metrics"),
        ({"space": {"knn": {"n_neighbors": {"type": "float", "low": 1, "high": 3}}}},
         "space.knn.n_neighbors.type"),
        ({"folds": 1}, "folds"),
        ({"dataset": 999_999}, "dataset"),
    ],
)  # fmt: skip
def test_a_bad_spec_is_refused_naming_the_field_and_nothing_is_created(world, changes, field):
    experiments = Experiment.objects.count()

    response = start(world, **changes)

    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"], response.json()
    assert not Sweep.objects.exists() and not Trial.objects.exists()
    assert Experiment.objects.count() == experiments


def test_a_viewer_cannot_start_a_sweep(world):
    with_dataset(world)
    response = world.client(Role.VIEWER).post(SWEEPS, sweep_body(world), format="json")
    assert response.status_code == 403
    assert not Sweep.objects.exists()


def test_cancel_then_resume_then_retry_the_failed(world):
    start(world, space={"knn": {"n_neighbors": FOLD_TOO_SMALL}})
    sweep = Sweep.objects.get()
    client = world.client(Role.CONTRIBUTOR)

    cancelled = client.post(detail(sweep, "sweep-cancel"))
    assert cancelled.status_code == 202
    assert Sweep.objects.get().status in (SweepStatus.CANCELLING, SweepStatus.CANCELLED)
    assert not Trial.objects.filter(status=TrialStatus.QUEUED).exists()
    again = client.post(detail(sweep, "sweep-cancel"))
    assert again.status_code == 400 and "status" in again.json()["fields"]

    resumed = client.post(detail(sweep, "sweep-resume"))
    assert resumed.status_code == 202 and resumed["Location"].endswith(detail(sweep))
    assert Trial.objects.filter(status=TrialStatus.QUEUED).count() == 2

    run_all(sweep)
    assert Trial.objects.filter(status=TrialStatus.FAILED).count() == 2
    retried = client.post(detail(sweep, "sweep-retry-failed"))
    assert retried.status_code == 202
    assert retried.json()["queued_count"] == 2 and retried.json()["failed_count"] == 0


def test_a_manager_makes_the_best_trial_the_evidence(world):
    outcome = world.outcome
    phases.outcome_update(
        outcome=outcome,
        by=world.users[Role.MANAGER],
        evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET,
    )
    with_finished_sweep(world)
    sweep = Sweep.objects.select_related("best_trial__run").get()
    url = detail(sweep, "sweep-best-as-evidence")

    assert world.client(Role.CONTRIBUTOR).post(url).status_code == 403
    response = world.client(Role.MANAGER).post(url, {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == outcome.pk
    linked = RunEvidence.objects.get(outcome=outcome)
    assert linked.run == sweep.best_trial.run
    assert f"trial #{sweep.best_trial.number}" in linked.note
    elsewhere = world.client(Role.MANAGER).post(url, {"outcome": 10**9}, format="json")
    assert elsewhere.status_code == 400 and "outcome" in elsewhere.json()["fields"]


# --- Datasets ---------------------------------------------------------------------------


def upload(world, content: bytes, **fields):
    data = {"project": world.project.slug, "name": "churn rows", "target": "churned"}
    data.update(fields)
    data["file"] = SimpleUploadedFile("rows.csv", content, content_type="text/csv")
    return world.client(Role.CONTRIBUTOR).post(DATASETS, data, format="multipart")


GOOD_CSV = b"tenure,plan,churned\n" + b"".join(
    f"{n},{'basic' if n % 3 else 'pro'},{n % 2}\n".encode() for n in range(40)
)


def test_an_uploaded_csv_becomes_a_dataset_with_its_columns(world):
    response = upload(world, GOOD_CSV)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["rows"], body["target"]) == ("upload", 40, "churned")
    assert body["columns"] == {"tenure": "numeric", "plan": "categorical"}
    assert body["task"] == "classification"


@pytest.mark.parametrize(
    ("content", "fields", "field"),
    [
        (GOOD_CSV, {"target": "cancelled"}, "target"),
        (b"", {}, "file"),
        (b"tenure,churned\n1,0\n2", {"target": ""}, "target"),
        (b"\x00\x01\x02 not a table", {}, "file"),
    ],
)
def test_a_bad_upload_names_the_field_and_stores_nothing(world, content, fields, field):
    response = upload(world, content, **fields)

    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"], response.json()
    assert not Dataset.objects.exists()


def test_an_upload_over_the_limit_is_refused(world, settings):
    settings.EXPERIMENTS_MAX_DATASET_BYTES = 100
    response = upload(world, GOOD_CSV)
    assert response.status_code == 400 and "file" in response.json()["fields"]
    assert "limit" in response.json()["fields"]["file"][0]


def test_a_builtin_dataset_by_json(world):
    response = world.client(Role.CONTRIBUTOR).post(
        DATASETS, {"project": world.project.slug, "name": "wine", "builtin": "wine"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["rows"] == 178
    wrong = world.client(Role.CONTRIBUTOR).post(
        DATASETS, {"project": world.project.slug, "name": "x", "builtin": "mnist"}, format="json"
    )
    assert wrong.status_code == 400 and "builtin" in wrong.json()["fields"]


# --- Retraining from production ---------------------------------------------------------


def test_retraining_starts_a_sweep_prefilled_from_the_deployed_run(world, settings):
    from tests.monitoring.conftest import iris_in_production

    settings.MONITORING_EXPORT_MIN_ROWS = 100
    with_finished_sweep(world)
    first = Sweep.objects.select_related("best_trial__run").get()
    deployment = deploy_run(world.project, first.best_trial.run, by=world.users[Role.MANAGER])
    retrain = reverse("v1:deployment-retrain", args=[deployment.pk])
    contributor = world.client(Role.CONTRIBUTOR)

    iris_in_production(deployment, labelled=60, unlabelled=90)
    refused = contributor.post(retrain, {"max_trials": 3}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_enough_labels"
    assert "60 labelled production row(s)" in refused.json()["message"]
    iris_in_production(deployment, labelled=100, prefix="q")
    assert world.client(Role.VIEWER).post(retrain, {}, format="json").status_code == 403
    named = contributor.post(retrain, {"dataset": first.dataset_id, "with_training": True})
    assert named.status_code == 400 and "with_training" in named.json()["fields"]

    response = contributor.post(retrain, {"max_trials": 3}, format="json")

    assert response.status_code == 202, response.json()
    retrained = Sweep.objects.exclude(pk=first.pk).get()
    assert response["Location"].endswith(detail(retrained))
    exported = retrained.dataset
    assert (exported.source, exported.rows, exported.target) == ("production", 160, "target")
    assert retrained.families == ["knn"]
    assert (retrained.folds, retrained.metrics, retrained.max_trials) == (
        first.folds,
        first.metrics,
        3,
    )
    best = first.best_trial.params["n_neighbors"]
    bounds = retrained.space["knn"]["n_neighbors"]
    assert bounds["low"] <= best <= bounds["high"]
    shown = world.client(Role.VIEWER).get(reverse("v1:dataset-detail", args=[exported.pk]))
    origin = shown.json()["origin"]
    assert (origin["deployment"], origin["production_rows"]) == (deployment.pk, 160)
    assert origin["unlabelled_rows_left_out"] == 90
    assert origin["summary"].startswith("160 labelled production rows of churn v1")


# --- Query counts -----------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_and_detail_queries_do_not_grow_with_sweeps_and_trials(world):
    from experiments import services

    with_dataset(world)
    client = world.client(Role.VIEWER)
    fields = {k: v for k, v in sweep_body(world).items() if k != "project"}
    user = world.users[Role.CONTRIBUTOR]
    first = services.sweep_create(project=world.project, user=user, **fields)
    count_queries(client, DATASETS)  # the token's first use of the day is written once
    one = count_queries(client, SWEEPS)
    trials_one = count_queries(client, detail(first, "sweep-trials"))
    progress_one = count_queries(client, detail(first, "sweep-progress"))
    for n in range(4):
        sweep = services.sweep_create(
            project=world.project, user=user, **{**fields, "name": f"s{n}", "max_trials": 6}
        )
    run_all(sweep)

    assert count_queries(client, SWEEPS) == one
    assert count_queries(client, detail(sweep, "sweep-trials")) == trials_one
    assert count_queries(client, detail(sweep, "sweep-progress")) == progress_one
    assert count_queries(client, DATASETS) <= one

"""The retraining sweep of a deployment: prefilled from the deployed version's run, it runs
on production's labelled rows exported as a dataset (the current export again while it
holds every label), refuses when there are too few, and leaves nothing behind when the
sweep cannot start. Trials run as a worker runs them (the ledger called directly); the
queue is exercised by ``test_worker``."""

import pytest
from django.urls import reverse

from experiments import selectors as experiment_selectors
from experiments import services as experiments
from experiments.choices import DatasetSource, TrialStatus
from experiments.models import Dataset, Sweep
from mlprojects.exceptions import DomainError
from monitoring import retraining
from tests.api.test_permissions import deploy_run
from tests.experiments.sweeps.conftest import iris, project, run_all, spec, user  # noqa: F401
from tests.monitoring.conftest import iris_frame, iris_in_production
from tests.monitoring.test_exports import files_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed(project, iris, settings):  # noqa: F811
    """knn on iris, its best trial's run in production."""
    settings.MONITORING_EXPORT_MIN_ROWS = 100
    sweep = experiments.sweep_create(
        project=project, user=project.owner, **spec(iris, max_trials=2)
    )
    run_all(sweep)
    sweep.refresh_from_db()
    return deploy_run(project, sweep.best_trial.run, by=project.owner)


def test_a_retraining_sweep_runs_on_the_exported_production_rows(deployed, iris):  # noqa: F811
    iris_in_production(deployed, labelled=150, unlabelled=30, relabelled=True)
    spec_before, plan = retraining.retraining_spec(deployment=deployed)
    assert spec_before["dataset"] == iris.pk and plan.export is None

    sweep = retraining.retraining_sweep_start(
        deployment=deployed, user=deployed.project.owner, max_trials=2
    )

    exported = sweep.dataset
    assert exported.source == DatasetSource.PRODUCTION
    assert exported.origin["deployment"] == deployed.pk
    assert (exported.rows, exported.origin["unlabelled_rows_left_out"]) == (150, 30)
    assert (sweep.target, sweep.task, sweep.families) == ("target", "classification", ["knn"])
    table = experiment_selectors.dataset_table(exported)
    assert list(table.features.columns) == list(iris_frame().columns[:-1])
    assert set(table.target) == {0, 1}  # production's question, not iris's three species
    run_all(sweep)
    trials = list(sweep.trials.order_by("number"))
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 2
    assert all(t.run.experiment_id == sweep.experiment_id for t in trials)
    assert Sweep.objects.get(pk=sweep.pk).best_trial.value > 0.9

    # The form is prefilled on the export now, and a second sweep starts from it again.
    prefilled, plan = retraining.retraining_spec(deployment=deployed)
    assert plan.export == exported and prefilled["dataset"] == exported.pk
    again = retraining.retraining_sweep_start(
        deployment=deployed, user=deployed.project.owner, name="again", max_trials=1
    )
    assert again.dataset == exported
    assert Dataset.objects.filter(source=DatasetSource.PRODUCTION).count() == 1


def test_too_few_labelled_rows_refuse_the_retraining_unless_a_dataset_is_named(
    deployed,
    iris,  # noqa: F811
):
    iris_in_production(deployed, labelled=40, unlabelled=100)
    with pytest.raises(DomainError) as refused:
        retraining.retraining_sweep_start(deployment=deployed, user=deployed.project.owner)
    assert refused.value.code == "not_enough_labels"
    assert "40 labelled production row(s)" in refused.value.message
    assert Sweep.objects.count() == 1

    named = retraining.retraining_sweep_start(
        deployment=deployed, user=deployed.project.owner, dataset=iris.pk, max_trials=1
    )
    assert named.dataset == iris
    with pytest.raises(DomainError, match="with_training: adds training rows"):
        retraining.retraining_sweep_start(
            deployment=deployed, user=deployed.project.owner, dataset=iris.pk, with_training=True
        )


def test_a_sweep_that_cannot_start_leaves_no_export_and_no_file(deployed, settings):
    iris_in_production(deployed, labelled=150)
    with pytest.raises(DomainError) as refused:
        retraining.retraining_sweep_start(
            deployment=deployed, user=deployed.project.owner, name="knn on iris"
        )
    assert refused.value.code == "already_exists"
    assert not Dataset.objects.filter(source=DatasetSource.PRODUCTION).exists()
    assert files_in(settings.EXPERIMENTS_DATASET_ROOT) == []


def test_with_training_rows_the_sweep_dataset_of_the_deployed_run_joins(deployed):
    iris_in_production(deployed, labelled=120, relabelled=False)
    sweep = retraining.retraining_sweep_start(
        deployment=deployed, user=deployed.project.owner, with_training=True, max_trials=1
    )
    origin = sweep.dataset.origin
    assert (origin["production_rows"], origin["training_rows"]) == (120, 150)
    assert origin["training_source"] == "the sweep dataset iris"
    assert sweep.dataset.rows == 270


def test_a_version_retrained_on_an_export_says_where_its_rows_came_from(deployed, user):  # noqa: F811
    from api.services import token_create
    from registry import services as registry
    from registry.cards import card_markdown, model_card
    from tests.api.conftest import bearer
    from tests.dashboard.conftest import client_for

    iris_in_production(deployed, labelled=130, relabelled=True)
    sweep = retraining.retraining_sweep_start(deployment=deployed, user=user, max_trials=1)
    run_all(sweep)
    run = Sweep.objects.get(pk=sweep.pk).best_trial.run
    model = registry.registered_model_create(project=deployed.project, name="relearnt", by=user)
    version = registry.model_version_create(
        registered_model=model, by=user, source=f"runs:/{run.run_id}/model",
        storage_location=f"{run.artifact_uri}/model", run=run,
    )  # fmt: skip
    summary = sweep.dataset.origin["summary"]
    assert summary.startswith("130 labelled production rows of churn v1, observed")

    card = model_card(version)
    assert (card.trial["dataset_source"], card.trial["dataset_origin"]) == ("production", summary)
    assert summary in card_markdown(card)
    _, secret = token_create(user=user, name="main")
    shown = bearer(secret).get(reverse("v1:model-version-card", args=[version.pk])).json()
    assert shown["trial"]["dataset_origin"] == summary
    page = (
        client_for(user)
        .get(reverse("dashboard:model-version", args=[deployed.project.slug, "relearnt", 1]))
        .content.decode()
    )
    assert summary in page

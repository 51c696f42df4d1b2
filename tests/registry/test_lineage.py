"""Version lineage through a sweep: version -> run -> sweep trial -> dataset, in the card,
its Markdown, the v1 API and the version's page, from a sweep run as workers run it."""

import pytest
from django.urls import reverse

from api.services import token_create
from experiments import services as experiments
from experiments.models import Trial
from registry import services
from registry.cards import card_markdown, model_card
from tests.api.conftest import bearer
from tests.dashboard.conftest import client_for
from tests.experiments.sweeps.conftest import iris, project, run_all, spec, user  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def from_a_sweep(project, user, iris):  # noqa: F811
    sweep = experiments.sweep_create(
        project=project, user=user, **spec(iris, name="knn on <iris>", max_trials=2)
    )
    run_all(sweep)
    trial = Trial.objects.filter(sweep=sweep, run__isnull=False).order_by("number").last()
    model = services.registered_model_create(project=project, name="iris-knn", by=user)
    run = trial.run
    version = services.model_version_create(
        registered_model=model,
        by=user,
        source=f"runs:/{run.run_id}/model",
        storage_location=f"{run.artifact_uri}/model",
        run=run,
    )
    return version, trial


def test_the_card_names_the_trial_its_sweep_and_the_dataset(from_a_sweep):
    version, trial = from_a_sweep
    card = model_card(version)
    assert card.trial["sweep"] == trial.sweep_id
    assert card.trial["number"] == trial.number
    assert card.trial["params"] == trial.params
    assert card.trial["value"] == trial.value
    assert (card.trial["dataset"], card.trial["dataset_source"]) == ("iris", "iris")
    assert card.trial["dataset_rows"] == 150
    text = card_markdown(card)
    assert f"- Sweep trial: knn on \\<iris\\>, trial {trial.number}" in text
    assert "on the dataset iris (150 rows" in text


def test_a_run_logged_by_a_script_has_no_trial(project, user):  # noqa: F811
    experiment = experiments.experiment_create(project=project, name="script", by=user)
    run = experiments.run_create(experiment=experiment, by=user)
    model = services.registered_model_create(project=project, name="by-hand", by=user)
    version = services.model_version_create(
        registered_model=model, by=user, source=f"runs:/{run.run_id}/m",
        storage_location=f"{run.artifact_uri}/m", run=run,
    )  # fmt: skip
    assert model_card(version).trial is None


def test_the_api_and_the_page_show_the_lineage(from_a_sweep, user, fast_passwords):  # noqa: F811
    version, trial = from_a_sweep
    _, secret = token_create(user=user, name="main")
    card = bearer(secret).get(reverse("v1:model-version-card", args=[version.pk])).json()
    assert card["trial"]["number"] == trial.number
    assert card["trial"]["dataset"] == "iris"

    url = reverse(
        "dashboard:model-version", args=[version.registered_model.project.slug, "iris-knn", 1]
    )
    html = client_for(user).get(url).content.decode()
    assert f"knn on &lt;iris&gt;, trial {trial.number}" in html
    assert 'data-testid="lineage-sweep-dataset"' in html

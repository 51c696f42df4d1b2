"""The registry's demo step: registered models with versions from real-looking runs, one
version at the production alias with its history, and monitoring's deployment agreeing."""

import datetime as dt

import pytest
from django.utils import timezone

from monitoring.models import Deployment
from registry.cards import model_card
from registry.choices import DeploymentKind
from registry.models import DeploymentEvent, ModelAlias, ModelVersion, RegisteredModel
from tests.phases.test_demo_data import load, var_dir  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def champion(project_slug: str) -> ModelAlias | None:
    return (
        ModelAlias.objects.filter(registered_model__project__slug=project_slug, alias="champion")
        .select_related("model_version__run")
        .first()
    )


def test_the_demo_holds_models_versions_and_deployments(var_dir):  # noqa: F811
    output = load()
    assert "Registry: fraud-scorer (3 versions)" in output
    assert RegisteredModel.objects.count() == 3
    assert ModelVersion.objects.count() == 8

    fraud = champion("card-fraud-detection")
    assert fraud.model_version.version == 2
    assert fraud.set_at < timezone.now() - dt.timedelta(days=100)
    events = DeploymentEvent.objects.filter(project__slug="card-fraud-detection")
    assert [(e.kind, e.version, e.previous_version) for e in events.order_by("created_at")] == [
        (DeploymentKind.PROMOTED, 1, None),
        (DeploymentKind.PROMOTED, 2, 1),
    ]
    assert events.order_by("created_at").last().metrics["val_pr_auc"] == pytest.approx(0.66)
    card = model_card(fraud.model_version)
    assert card.evaluation.met is True
    assert card.params["model"] == "lightgbm"
    assert {d["context"] for d in card.datasets} == {"train", "validation"}
    assert card.evidence_for, "the deployed version's run is the model outcome's evidence"
    challenger = ModelAlias.objects.get(registered_model__name="fraud-scorer", alias="challenger")
    assert model_card(challenger.model_version).evaluation.met is False

    # Monitoring's demo put the newest grid-load version in production, a month ago, and its
    # deployment is the one the registry's event started.
    grid = champion("grid-load-forecasting")
    assert grid.model_version.version == 2
    deployment = Deployment.objects.get(project__slug="grid-load-forecasting", ended_at=None)
    assert deployment.model_version_id == grid.model_version_id
    assert deployment.started_at == grid.set_at
    assert deployment.alerts.filter(state="firing").exists()

    assert champion("credit-limit-risk-scoring") is None
    fraud_deployment = Deployment.objects.get(project__slug="card-fraud-detection", ended_at=None)
    assert fraud_deployment.started_at == fraud.set_at

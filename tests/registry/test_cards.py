"""Model cards: assembled from what the project knows, in a fixed number of queries, and
exported as Markdown in which user text stays inert."""

import pytest

from experiments import services as tracking
from phases import services as phase_services
from registry import services
from registry.cards import card_markdown, model_card
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def build(*, description="Predict which customers leave.", model_name="churn", runs=1):
    owner = UserFactory(username="ana")
    project = make_project(
        owner=owner,
        name="Churn",
        description=description,
        success_metric="auc",
        success_target=0.8,
    )
    experiment = tracking.experiment_create(project=project, name="baseline", by=owner)
    version = None
    registered = services.registered_model_create(project=project, name=model_name, by=owner)
    for index in range(runs):
        run = tracking.run_create(experiment=experiment, by=owner, name=f"xgb-{index}")
        tracking.log_batch(
            run=run,
            by=owner,
            metrics=[tracking.MetricIn("auc", 0.85, 1, 0), tracking.MetricIn("loss", 0.3, 1, 0)],
            params=[("max_depth", "6"), ("eta", "0.1")],
        )
        tracking.log_inputs(
            run=run,
            by=owner,
            datasets=[
                tracking.DatasetIn(
                    "customers", "abc123", "local", "{}", tags=[("mlflow.data.context", "train")]
                )
            ],
        )
        version = services.model_version_create(
            registered_model=registered,
            by=owner,
            source=f"runs:/{run.run_id}/model",
            storage_location=f"{run.artifact_uri}/model",
            run=run,
        )
    services.alias_set(version=version, alias="champion", by=owner)
    outcome = project.phases.get(order=1).outcomes.first()
    phase_services.outcome_submit(outcome=outcome, by=owner)
    phase_services.outcome_accept(outcome=outcome, by=owner, note="Sound plan.")
    services.version_offer_as_evidence(
        version=version, outcome=project.phases.get(order=2).outcomes.first(), by=owner
    )
    return project, version, owner


def test_the_card_holds_the_problem_training_evaluation_and_deployments():
    _, version, owner = build()
    card = model_card(version)
    assert card.problem == "Predict which customers leave."
    assert card.first_phase_goal.startswith("To determine if ML")
    assert card.params == {"eta": "0.1", "max_depth": "6"}
    assert card.version_metrics == {"auc": 0.85, "loss": 0.3}
    assert [d["name"] for d in card.datasets] == ["customers"]
    assert card.datasets[0]["context"] == "train"
    assert (card.evaluation.value, card.evaluation.target, card.evaluation.met) == (0.85, 0.8, True)
    assert card.in_production and card.aliases == ["champion"]
    assert [(e.kind, e.version, e.by) for e in card.deployments] == [("promoted", 1, owner)]
    assert card.trial is None
    assert [(o.name, o.reviewer) for o in card.accepted_outcomes] == [
        ("A design doc outlining how to solve the problem with an ML solution", owner)
    ]
    assert [e.outcome.phase.name for e in card.evidence_for] == ["Experimentation"]

    text = card_markdown(card)
    for heading in (
        "# Model card: churn v1",
        "## The problem",
        "## Evaluation",
        "## Training",
        "### Params",
        "### Metrics",
        "### Datasets",
        "## Review",
        "## Deployments",
    ):
        assert heading in text, heading
    assert "- This version: 0.85, which meets the target" in text
    assert "| max\\_depth | 6 |" in text
    assert "v1 promoted at “champion”" in text
    assert "In production at “champion”." in text
    assert "- Accepted: “A design doc" in text and "by ana on" in text
    assert "- Evidence for “A model with good enough quality" in text


def test_user_text_in_the_markdown_stays_inert():
    hostile = "<script>alert(1)</script> | [link](javascript:x) # not a heading"
    _, version, _ = build(description=hostile, model_name="a_b*c")
    text = card_markdown(model_card(version))
    assert "<script>" not in text
    assert "\\<script\\>" in text
    assert "\\[link\\](javascript:x)" in text
    assert "# Model card: a\\_b\\*c v1" in text


def test_a_card_costs_the_same_queries_however_much_the_project_holds(
    django_assert_max_num_queries,
):
    _, small, _ = build()
    with django_assert_max_num_queries(16) as counted:
        model_card(small)
    baseline = len(counted.captured_queries)
    _, large, _ = build(runs=6, model_name="bigger")
    with django_assert_max_num_queries(baseline):
        model_card(large)

"""The registry's services: versions numbered once, aliases, stages, and the production alias,
whose every move is a recorded deployment event announced to hooks in the same transaction."""

import math

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import services as tracking
from mlprojects.exceptions import DomainError
from registry import hooks, services, validation
from registry.choices import DeploymentKind, Stage
from registry.models import DeploymentEvent, LoggedModelMetric, ModelAlias, ModelVersion
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def callbacks(monkeypatch):
    """The hook's callbacks for one test, so none leaks into another."""
    registered: list = []
    monkeypatch.setattr(hooks, "_callbacks", registered)
    return registered


@pytest.fixture
def world():
    owner = UserFactory()
    project = make_project(owner=owner, name="Churn", success_metric="auc", success_target=0.8)
    experiment = tracking.experiment_create(project=project, name="exp", by=owner)
    run = tracking.run_create(experiment=experiment, by=owner, name="first")
    tracking.log_batch(run=run, by=owner, metrics=[tracking.MetricIn("auc", 0.75, 1, 0)])
    model = services.logged_model_create(experiment=experiment, by=owner, source_run=run)
    registered = services.registered_model_create(project=project, name="churn", by=owner)
    return {
        "owner": owner,
        "project": project,
        "experiment": experiment,
        "run": run,
        "model": model,
        "registered": registered,
    }


def new_version(world, model=None):
    model = model or world["model"]
    return services.model_version_create(
        registered_model=world["registered"],
        by=world["owner"],
        source=f"models:/{model.model_id}",
        storage_location=model.artifact_location,
        logged_model=model,
    )


def test_versions_take_the_logged_models_run_and_numbers_are_never_reused(world):
    one, two = new_version(world), new_version(world)
    assert (one.version, two.version, one.run, two.user_id) == (
        1,
        2,
        world["run"],
        world["owner"].username,
    )
    services.model_version_delete(version=two, by=world["owner"])
    assert new_version(world).version == 3


def test_a_version_cannot_come_from_another_projects_run(world):
    stranger = make_project(owner=world["owner"], name="Other")
    experiment = tracking.experiment_create(project=stranger, name="x", by=world["owner"])
    run = tracking.run_create(experiment=experiment, by=world["owner"])
    with pytest.raises(DomainError, match="another project"):
        services.model_version_create(
            registered_model=world["registered"],
            by=world["owner"],
            source=run.artifact_uri,
            storage_location=run.artifact_uri,
            run=run,
        )
    assert not ModelVersion.objects.exists()


def test_names_are_unique_in_a_project_and_free_across_projects(world):
    with pytest.raises(DomainError) as refused:
        services.registered_model_create(project=world["project"], name="churn", by=None)
    assert refused.value.code == "already_exists"
    other = make_project(owner=world["owner"], name="Other")
    assert services.registered_model_create(project=other, name="churn", by=None).pk


def test_setting_the_production_alias_records_a_deployment_with_what_it_replaced(world, callbacks):
    seen = []
    hooks.on_production_alias_moved(lambda *, event: seen.append(event))
    one, two = new_version(world), new_version(world)

    services.alias_set(version=one, alias="champion", by=world["owner"])
    services.alias_set(version=one, alias="champion", by=world["owner"])  # nothing moves
    services.alias_set(version=two, alias="champion", by=world["owner"])
    services.alias_set(version=two, alias="challenger", by=world["owner"])  # not production

    events = list(DeploymentEvent.objects.order_by("pk"))
    assert [(e.kind, e.version, e.previous_version) for e in events] == [
        (DeploymentKind.PROMOTED, 1, None),
        (DeploymentKind.PROMOTED, 2, 1),
    ]
    first = events[0]
    assert (first.by, first.model_version, first.run, first.mlflow_run_id) == (
        world["owner"],
        one,
        world["run"],
        world["run"].run_id,
    )
    assert first.metrics == {"auc": 0.75}
    assert [e.pk for e in seen] == [e.pk for e in events]


def test_removing_the_production_alias_or_its_version_or_model_is_a_withdrawal(world, callbacks):
    seen = []
    hooks.on_production_alias_moved(lambda *, event: seen.append((event.kind, event.version)))
    one, two = new_version(world), new_version(world)
    services.alias_set(version=one, alias="champion", by=None)
    services.alias_delete(registered_model=world["registered"], alias="champion", by=None)
    services.alias_delete(registered_model=world["registered"], alias="champion", by=None)
    services.alias_set(version=two, alias="champion", by=None)
    services.model_version_delete(version=one, by=None)  # not at the alias: nothing
    services.model_version_delete(version=two, by=None)
    three = new_version(world)
    services.alias_set(version=three, alias="champion", by=None)
    services.registered_model_delete(registered_model=world["registered"], by=None)

    assert seen == [
        (DeploymentKind.PROMOTED, 1),
        (DeploymentKind.WITHDRAWN, None),
        (DeploymentKind.PROMOTED, 2),
        (DeploymentKind.WITHDRAWN, None),
        (DeploymentKind.PROMOTED, 3),
        (DeploymentKind.WITHDRAWN, None),
    ]
    history = DeploymentEvent.objects.filter(project=world["project"]).order_by("pk")
    assert [(e.model_name, e.previous_version) for e in history][-1] == ("churn", 3)
    assert history.last().registered_model is None  # the model is gone, the history stays


def test_a_failing_hook_rolls_the_alias_move_back(world, callbacks):
    version = new_version(world)

    def refuse(*, event):
        assert DeploymentEvent.objects.filter(pk=event.pk).exists()  # inside the transaction
        raise RuntimeError("monitoring is down")

    hooks.on_production_alias_moved(refuse)
    with pytest.raises(RuntimeError):
        services.alias_set(version=version, alias="champion", by=None)
    assert not ModelAlias.objects.exists()
    assert not DeploymentEvent.objects.exists()


def test_a_hook_registered_twice_is_called_once(world, callbacks):
    calls = []

    def count(*, event):
        calls.append(event.pk)

    hooks.on_production_alias_moved(count)
    hooks.on_production_alias_moved(count)
    services.alias_set(version=new_version(world), alias="champion", by=None)
    assert len(calls) == 1


def test_the_project_names_its_production_alias(world, callbacks):
    services.production_alias_update(project=world["project"], alias="prod", by=None)
    version = new_version(world)
    services.alias_set(version=version, alias="champion", by=None)
    assert not DeploymentEvent.objects.exists()
    services.alias_set(version=version, alias="prod", by=None)
    assert DeploymentEvent.objects.get().alias == "prod"
    with pytest.raises(DomainError, match="reserved"):
        services.production_alias_update(project=world["project"], alias="latest", by=None)


def test_deployment_metrics_prefer_the_models_own_and_drop_what_is_not_finite(world):
    model, run = world["model"], world["run"]
    points = [
        tracking.MetricIn("auc", 0.9, 5, 0),
        tracking.MetricIn("loss", math.nan, 5, 0),
        tracking.MetricIn("lift", math.inf, 5, 0),
    ]
    services.log_batch(
        run=run,
        by=None,
        metrics=points,
        model_metrics=[
            services.ModelMetricIn(model.model_id, p.key, p.value, p.timestamp) for p in points
        ],
    )
    version = new_version(world)
    services.alias_set(version=version, alias="champion", by=None)
    assert DeploymentEvent.objects.get().metrics == {"auc": 0.9, "lift": None, "loss": None}


def test_stages_archive_the_others_only_into_an_active_stage(world):
    one, two = new_version(world), new_version(world)
    services.model_version_transition_stage(
        version=one, stage="production", archive_existing_versions=False, by=None
    )
    services.model_version_transition_stage(
        version=two, stage="Production", archive_existing_versions=True, by=None
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.current_stage, two.current_stage) == (Stage.ARCHIVED, Stage.PRODUCTION)
    with pytest.raises(DomainError, match="not an Active stage"):
        services.model_version_transition_stage(
            version=one, stage="Archived", archive_existing_versions=True, by=None
        )
    with pytest.raises(DomainError, match="Invalid Model Version stage"):
        services.model_version_transition_stage(
            version=one, stage="Live", archive_existing_versions=False, by=None
        )


def test_logged_model_params_are_write_once(world):
    model = world["model"]
    services.logged_model_log_params(model=model, params=[("C", "1")], by=None)
    services.logged_model_log_params(model=model, params=[("C", "1")], by=None)
    with pytest.raises(DomainError, match="Changing param values is not allowed"):
        services.logged_model_log_params(model=model, params=[("C", "2")], by=None)
    assert list(model.params.values_list("value", flat=True)) == ["1"]


def test_model_metrics_are_all_or_nothing_with_the_run_batch(world):
    run = world["run"]
    with pytest.raises(DomainError, match="not found"):
        services.log_batch(
            run=run,
            by=None,
            metrics=[tracking.MetricIn("acc", 0.5, 9, 0)],
            model_metrics=[services.ModelMetricIn("m-" + "0" * 32, "acc", 0.5, 9)],
        )
    assert not run.metric_series.filter(key="acc").exists()


def test_a_model_point_logged_again_is_kept_once_with_or_without_its_run(world):
    model, run = world["model"], world["run"]
    again = [services.ModelMetricIn(model.model_id, "acc", 0.5, 9)] * 2
    services.log_batch(run=run, by=None, model_metrics=again)
    services.log_batch(run=run, by=None, model_metrics=again[:1])
    assert model.metrics.filter(key="acc").count() == 1
    point = {"model": model, "key": "f1", "value": 0.4, "timestamp": 9, "run": None}
    LoggedModelMetric.objects.create(**point)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoggedModelMetric.objects.create(**point)
    LoggedModelMetric.objects.create(**{**point, "run": run})
    assert model.metrics.filter(key="f1").count() == 2


def test_offering_a_versions_run_as_evidence_links_the_run_with_the_version(world):
    outcome = world["project"].phases.get(order=2).outcomes.first()
    version = new_version(world)
    evidence = services.version_offer_as_evidence(version=version, outcome=outcome, by=None)
    assert (evidence.run, evidence.outcome, evidence.note) == (
        world["run"],
        outcome,
        "Registered as churn v1.",
    )


# --- Validation: hostile names never pass and never crash -------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_alias_rules_accept_exactly_mlflows_characters(alias):
    try:
        validation.check_alias(alias)
        validation.check_alias_not_reserved(alias)
    except DomainError as refused:
        assert refused.fields and refused.message
    else:
        assert alias and len(alias) <= 255
        assert all(ch.isalnum() or ch in "_-" for ch in alias)
        assert alias.lower() != "latest"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_model_names_that_pass_cannot_be_paths(name):
    try:
        validation.check_model_name(name)
    except DomainError as refused:
        assert refused.fields
    else:
        assert name.strip() and "/" not in name and ":" not in name and name not in (".", "..")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_version_numbers_are_plain_digits(value):
    try:
        number = validation.version_number(value)
    except DomainError as refused:
        assert "must be an integer" in refused.message
    else:
        assert str(number) == str(value).strip().lstrip("0") or number == 0

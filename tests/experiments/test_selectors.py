"""The reads the dashboard's pages share: a run's latest metric values, and the keys a set
of runs holds (what the run search can name)."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments import ranking, selectors, services
from experiments.services import MetricIn
from tests.experiments.helpers import experiment_and_run
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def log(run, metrics: dict[str, list[float]], params: dict[str, str] | None = None):
    """Each metric's values at steps 0, 1, ... (timestamps 1000, 1001, ...)."""
    services.log_batch(
        run=run,
        by=None,
        metrics=[
            MetricIn(key, float(value), 1000 + step, step)
            for key, values in metrics.items()
            for step, value in enumerate(values)
        ],
        params=list((params or {}).items()),
    )


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    return make_project(owner=owner)


def test_latest_values_come_as_logged_nan_and_infinities_included(project, owner):
    _, run = experiment_and_run(project, by=owner)
    log(run, {"auc": [0.5, 0.7], "loss": [1.0, math.nan], "grad": [math.inf], "low": [-math.inf]})

    latest = selectors.latest_metrics([run])[run.pk]

    assert list(latest) == ["auc", "grad", "loss", "low"]  # in key order
    assert latest["auc"] == selectors.Latest(0.7, step=1, timestamp=1001, points=2)
    assert latest["loss"].is_nan and math.isnan(latest["loss"].value)
    assert latest["grad"].value == math.inf and latest["low"].value == -math.inf
    # Where a value is placed or compared, neither a NaN nor an infinity is one.
    assert [found.finite for found in latest.values()] == [0.7, None, None, None]


def test_latest_values_of_some_keys_for_many_runs_in_one_query(project, owner):
    experiment, first = experiment_and_run(project, by=owner)
    second = services.run_create(experiment=experiment, by=owner)
    silent = services.run_create(experiment=experiment, by=owner)
    log(first, {"auc": [0.6], "loss": [0.4], "other": [1.0]})
    log(second, {"auc": [0.8]})

    with CaptureQueriesContext(connection) as queries:
        latest = selectors.latest_metrics([first, second, silent], ["auc", "loss"])

    assert len(queries) == 1
    assert {pk: {k: v.value for k, v in found.items()} for pk, found in latest.items()} == {
        first.pk: {"auc": 0.6, "loss": 0.4},
        second.pk: {"auc": 0.8},
        silent.pk: {},  # a run that logged none of the keys is there, empty
    }


def test_nothing_to_ask_costs_no_query(project, owner):
    _, run = experiment_and_run(project, by=owner)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.latest_metrics([]) == {}
        assert selectors.latest_metrics([run], []) == {run.pk: {}}
    assert len(queries) == 0


def test_a_deleted_run_is_read_like_any_other(project, owner):
    """Which runs count is the caller's choice: the read does not hide a deleted run, whose
    own page still shows what it logged."""
    _, run = experiment_and_run(project, by=owner)
    log(run, {"auc": [0.9]})
    services.run_delete(run=run, by=owner)

    assert selectors.latest_metrics([run])[run.pk]["auc"].value == 0.9


def test_run_keys_are_those_of_the_runs_asked_about(project, owner):
    experiment, kept = experiment_and_run(project, by=owner, name="b-experiment")
    log(kept, {"val_auc": [0.5], "loss": [1.0]}, {"lr": "0.1", "depth": "3"})
    _, deleted = experiment_and_run(project, by=owner, name="a-experiment")
    log(deleted, {"deleted_only": [1.0]}, {"deleted_param": "x"})
    services.run_delete(run=deleted, by=owner)
    elsewhere = make_project(owner=owner)
    _, theirs = experiment_and_run(elsewhere, by=owner)
    log(theirs, {"theirs": [1.0]}, {"their_param": "y"})

    with CaptureQueriesContext(connection) as queries:
        keys = selectors.run_keys(ranking.counted_runs(project), limit=100)

    assert len(queries) == 3
    assert keys == selectors.RunKeys(
        experiments=[(experiment.pk, "b-experiment")],
        metric_keys=["loss", "val_auc"],
        param_keys=["depth", "lr"],
    )
    assert selectors.run_keys(ranking.counted_runs(project), limit=1).metric_keys == ["loss"]

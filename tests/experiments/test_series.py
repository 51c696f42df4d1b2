"""Series for charts: read whole, reduced on the server, with the extremes and both ends."""

import math

import pytest

from experiments import series, services
from experiments.models import MetricSeries
from experiments.services import MetricIn
from mlprojects.exceptions import DomainError
from tests.experiments.helpers import experiment_and_run
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    owner = UserFactory()
    _, run = experiment_and_run(make_project(owner=owner), by=owner)
    return run


def log(run, key, values, *, start=0):
    for offset in range(0, len(values), 1000):
        chunk = values[offset : offset + 1000]
        services.log_batch(
            run=run,
            by=None,
            metrics=[
                MetricIn(key, float(v), 1_700_000_000_000 + start + offset + i, start + offset + i)
                for i, v in enumerate(chunk)
            ],
        )


def test_a_short_series_comes_back_whole_with_gaps_for_non_finite_points(run):
    log(run, "loss", [3.0, math.nan, 2.0, math.inf, 1.0])

    got = series.metric_series(run=run, key="loss", max_points=100)

    assert got.steps == [0, 1, 2, 3, 4]
    assert got.values == [3.0, None, 2.0, None, 1.0]
    assert got.timestamps[0] == 1_700_000_000_000
    assert (got.total_points, got.downsampled) == (5, False)


def wave(n: int) -> list[float]:
    values = [math.sin(i / 50) for i in range(n)]
    values[12_345 % n] = 9.0  # a spike a chart must not lose
    values[7_000 % n] = -9.0
    values[500] = math.nan
    return values


def test_a_long_series_is_reduced_keeping_both_ends_and_the_extremes(run):
    log(run, "acc", wave(20_000))

    # 20,000 points for 2,000: few enough to read whole and reduce with MinMaxLTTB.
    got = series.metric_series(run=run, key="acc", max_points=2000)

    assert got.downsampled and got.total_points == 20_000
    assert len(got.steps) <= 2000
    assert got.steps == sorted(got.steps)
    assert got.steps[0] == 0 and got.steps[-1] == 19_999
    assert {12_345, 7_000} <= set(got.steps)
    assert 500 not in got.steps and None not in got.values
    assert max(got.values) == 9.0 and min(got.values) == -9.0


def test_a_very_long_series_is_drawn_from_its_rollups_with_the_extremes(run):
    log(run, "acc", wave(20_000))
    stored = MetricSeries.objects.get(run=run, key="acc")
    assert stored.point_count == 20_000
    # One row per block of 64 steps, holding that block's lowest and highest finite point.
    assert stored.rollups.count() == math.ceil(20_000 / 64)
    block = stored.rollups.get(bucket=12_345 >> 6)
    assert (block.max_step, block.max_value) == (12_345, 9.0)

    got = series.metric_series(run=run, key="acc", max_points=100)

    assert got.downsampled and got.total_points == 20_000
    assert 50 <= len(got.steps) <= 100
    assert got.steps == sorted(got.steps) and 0 <= got.steps[0] < 64
    assert {12_345, 7_000} <= set(got.steps)
    assert max(got.values) == 9.0 and min(got.values) == -9.0


def test_a_retried_batch_changes_neither_counts_nor_rollups(run):
    log(run, "loss", [5.0, 4.0, 3.0])
    log(run, "loss", [5.0, 4.0, 3.0])
    stored = MetricSeries.objects.get(run=run, key="loss")
    assert stored.point_count == 3
    assert list(stored.rollups.values_list("min_value", "max_value")) == [(3.0, 5.0)]
    log(run, "loss", [1.0], start=3)
    stored.refresh_from_db()
    assert stored.point_count == 4
    assert list(stored.rollups.values_list("min_step", "min_value")) == [(3, 1.0)]


def test_a_missing_metric_and_too_few_points_are_refused(run):
    with pytest.raises(DomainError) as missing:
        series.metric_series(run=run, key="nope")
    assert missing.value.code == "not_found"
    with pytest.raises(DomainError) as few:
        series.metric_series(run=run, key="nope", max_points=2)
    assert few.value.fields == {"points": ["must be at least 3"]}


def test_compare_keeps_the_order_of_runs_and_skips_runs_without_the_metric():
    owner = UserFactory()
    project = make_project(owner=owner)
    experiment, first = experiment_and_run(project, by=owner)
    second = services.run_create(experiment=experiment, by=owner, name="second")
    third = services.run_create(experiment=experiment, by=owner, name="third")
    log(first, "val_loss", [1.0, 0.5])
    log(third, "val_loss", [2.0, 1.5, 1.0])
    log(second, "other", [0.0])

    got = series.compare(runs=[third, second, first], key="val_loss")

    assert [s.run_id for s in got] == [third.run_id, first.run_id]
    assert [s.values for s in got] == [[2.0, 1.5, 1.0], [1.0, 0.5]]

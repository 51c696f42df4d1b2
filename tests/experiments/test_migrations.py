"""Upgrading a database that stored a row per point: migration 0003 repacks them."""

import math

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from experiments import selectors
from experiments.models import MetricChunk, MetricSeries
from tests.experiments.helpers import experiment_and_run
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("experiments", "0002_metric_rollups")]


def migrate(targets=None) -> None:
    """To ``targets``, or back to the latest migration of every app: going back to
    experiments 0002 also unapplies the migrations of the apps that depend on later ones
    (the registry's), which the tests after this one need."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_points_stored_one_row_each_are_repacked_into_chunks_in_order():
    owner = UserFactory()
    run = experiment_and_run(make_project(owner=owner, name="Old"), by=owner)[1]
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO experiments_metricseries (run_id, key, latest_step, "
                "latest_timestamp, latest_value, latest_is_nan, point_count) "
                "VALUES (%s, 'loss', 1499, 1499, 0.0, false, 1500)",
                [run.pk],
            )
            cursor.execute("SELECT id FROM experiments_metricseries WHERE run_id = %s", [run.pk])
            (series_id,) = cursor.fetchone()
            # Inserted out of order, one NaN: the repacked chunks must be in history order.
            rows = [(series_id, step, step, step / 10, False) for step in reversed(range(1500))]
            rows[0] = (series_id, 1499, 1499, 0.0, True)
            cursor.executemany(
                "INSERT INTO experiments_metricpoint (series_id, step, timestamp, value, is_nan) "
                "VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
    finally:
        migrate()

    series = MetricSeries.objects.get(pk=series_id)
    assert sorted(MetricChunk.objects.filter(series=series).values_list("size", flat=True)) == [
        476,
        1024,
    ]
    history = selectors.metric_history(run=run, key="loss").items
    assert [point[0] for point in history] == list(range(1500))
    assert history[10] == (10, 10, 1.0, False)
    assert history[-1] == (1499, 1499, 0.0, True)
    assert math.isnan(selectors.series_points(series.pk).values[-1])
